"""Isolation between groups: for EVERY organizer route (read from `app.routes`, so a new route is
covered the day it lands), group A's key on group B's resources answers 404 and changes
nothing. "Nothing" is checked on the whole table: a raw Scan (the app's own client refuses
Scans) before and after each request, compared item by item, plus the outbox folder.

Two ways to aim at B: B's group id in the path (A's key names another group), and A's own
group id with B's real member/meetup/round ids (the ids leak, the key must still not reach them).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import boto3
import pytest

from app import app
from chalicelib.store.schema import PK, SK

PARAM = re.compile(r"{(\w+)}")

# A plausible body for every organizer route (None: the route takes no body). A route that is
# not in this table fails `test_every_organizer_route_has_a_sample_body`: coverage cannot rot.
SAMPLE_BODIES: dict[tuple[str, str], Any] = {
    ("GET", "/groups/{group_id}"): None,
    ("PATCH", "/groups/{group_id}"): {"name": "Taken over", "sender_name": "Mallory"},
    ("GET", "/groups/{group_id}/lunch-program"): None,
    ("PUT", "/groups/{group_id}/lunch-program"): {"enabled": False, "cadence": "monthly", "weekday": "fri",
                                                  "local_hour": 3, "odd_rule": "sit_out"},
    ("POST", "/groups/{group_id}/lunch-program/invitations"): {},
    ("GET", "/groups/{group_id}/lunch-rounds"): None,
    ("POST", "/groups/{group_id}/lunch-rounds"): {},
    ("GET", "/groups/{group_id}/lunch-rounds/{round_id}"): None,
    ("PATCH", "/groups/{group_id}/lunch-rounds/{round_id}"): {"remove_pair": "lpr_planted"},
    ("POST", "/groups/{group_id}/lunch-rounds/{round_id}/approve"): {},
    ("GET", "/groups/{group_id}/meetups"): None,
    ("POST", "/groups/{group_id}/meetups"): {
        "title": "Planted", "starts_at": "2026-12-01T10:00:00", "ends_at": "2026-12-01T11:00:00",
        "timezone": "Europe/Lisbon", "venue": {"name": "V", "address": "A"}, "capacity": 3},
    ("GET", "/groups/{group_id}/meetups/{meetup_id}"): None,
    ("PATCH", "/groups/{group_id}/meetups/{meetup_id}"): {"title": "Hijacked", "capacity": 1,
                                                         "starts_at": "2026-12-02T10:00:00",
                                                         "ends_at": "2026-12-02T11:00:00"},
    ("POST", "/groups/{group_id}/meetups/{meetup_id}/cancel"): {},
    ("POST", "/groups/{group_id}/meetups/{meetup_id}/invitations"): {},
    ("GET", "/groups/{group_id}/meetups/{meetup_id}/rsvps"): None,
    ("GET", "/groups/{group_id}/meetups/{meetup_id}/rsvps.csv"): None,
    ("POST", "/groups/{group_id}/meetups/{meetup_id}/rsvps/{member_id}/check-in"): {},
    ("GET", "/groups/{group_id}/members"): None,
    ("POST", "/groups/{group_id}/members"): {"email": "planted@example.com", "name": "Planted"},
    ("GET", "/groups/{group_id}/members/{member_id}"): None,
    ("PATCH", "/groups/{group_id}/members/{member_id}"): {"name": "Renamed", "subscribed": False,
                                                         "lunch": {"opted_in": False}},
    ("DELETE", "/groups/{group_id}/members/{member_id}"): None,
    ("GET", "/groups/{group_id}/stats"): None,
    ("GET", "/groups/{group_id}/network"): None,
    ("GET", "/groups/{group_id}/network/never-met"): None,
    ("POST", "/groups/{group_id}/intros"): {"member_ids": ["mem_planted1", "mem_planted2"],
                                            "note": "Planted: these two should meet, says a stranger."},
    ("GET", "/groups/{group_id}/jobs/{job_id}"): None,
}


def organizer_routes() -> list[tuple[str, str]]:
    return sorted((method, path) for path, methods in app.routes.items() for method in methods
                  if path.startswith("/groups/"))


def table_dump(raw: Any, table: str) -> list[dict[str, Any]]:
    """Every item, sorted by key, through a client of our own (the app's refuses Scans)."""
    items: list[dict[str, Any]] = []
    for page in raw.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items.extend(page["Items"])
    return sorted(items, key=lambda i: (i[PK]["S"], i[SK]["S"]))


def mail_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.eml")) if folder.exists() else []


def build_world(client: Any, org: Any, city: str) -> dict[str, str]:
    """A group with members (opted in to lunch), a meetup with an RSVP, a programme and a round."""
    from urllib.parse import urlencode, urlsplit

    from chalicelib import links

    people = [{"email": f"{city.lower()}{i}@example.com", "name": f"{city} Person{i}",
               "lunch": {"opted_in": True, "city": city, "interests": ["climate"],
                         "goals": ["meet_peers"], "availability": ["tue-lunch"]}} for i in range(4)]
    created = org.post("members", {"members": people})
    assert created.status_code == 201, created.data
    member_ids = [m["member_id"] for m in created.data["created"]]
    meetup = org.post("meetups", SAMPLE_BODIES[("POST", "/groups/{group_id}/meetups")] | {"title": f"{city} meetup"})
    assert meetup.status_code == 201, meetup.data
    meetup_id = meetup.data["meetup_id"]
    url = links.rsvp_url(org.group_id, meetup_id, member_ids[0], _ends(meetup.data))
    answered = client.http.post(urlsplit(url).path, headers={"Content-Type": "application/x-www-form-urlencoded"},
                                body=urlencode({"answer": "going"}).encode())
    assert answered.status_code == 200
    program = org.call("PUT", "lunch-program", {"enabled": True, "cadence": "weekly", "weekday": "tue",
                                                "local_hour": 10, "odd_rule": "trio"})
    assert program.status_code in (200, 201), program.data
    round_ = org.post("lunch-rounds", {})
    assert round_.status_code == 202, round_.data
    detail = org.get(f"lunch-rounds/{round_.data['round_id']}")
    assert detail.status_code == 200 and detail.data["pairs"], detail.data
    job = org.post("lunch-program/invitations", {"member_ids": member_ids[:1]})
    assert job.status_code == 202, job.data
    return {"group_id": org.group_id, "member_id": member_ids[0], "meetup_id": meetup_id,
            "round_id": round_.data["round_id"], "job_id": job.data["job_id"]}


def _ends(meetup: dict[str, Any]) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(meetup["ends_at"])


@pytest.fixture
def worlds(client: Any, org: Any, other_org: Any) -> tuple[dict[str, str], dict[str, str]]:
    return build_world(client, org, "Lisbon"), build_world(client, other_org, "Berlin")


def fill(template: str, ids: dict[str, str]) -> str:
    return PARAM.sub(lambda m: ids[m.group(1)], template)


def test_every_organizer_route_has_a_sample_body() -> None:
    """Fails the day an organizer route lands without a sample here (and so without isolation
    coverage), or a sample names a route that is gone."""
    assert set(organizer_routes()) == set(SAMPLE_BODIES)


def _attacks(a: dict[str, str], b: dict[str, str]) -> list[tuple[str, str, str, Any]]:
    """(label, method, path, body) for every organizer route, aimed at B with A's key."""
    out = []
    for method, template in organizer_routes():
        body = SAMPLE_BODIES[(method, template)]
        out.append(("B's group", method, fill(template, b), body))
        names = set(PARAM.findall(template)) - {"group_id"}
        if names:  # A's own group, B's real resource ids
            out.append(("A's group, B's ids", method, fill(template, {**b, "group_id": a["group_id"]}), body))
            if len(names) > 1:  # mixed: A's meetup, B's member (and the like)
                for keep in names:
                    mixed = {**b, "group_id": a["group_id"], keep: a[keep]}
                    out.append((f"A's {keep}, B's others", method, fill(template, mixed), body))
    # Body references: A's meetup/programme invitations naming B's member.
    for template in ("/groups/{group_id}/meetups/{meetup_id}/invitations",
                      "/groups/{group_id}/lunch-program/invitations"):
        out.append(("A's route, B's member in the body", "POST", fill(template, a),
                    {"member_ids": [b["member_id"]]}))
    return out


def test_a_key_never_reaches_another_groups_resources(
        org: Any, moto_table: str, outbox_dir: Path,
        worlds: tuple[dict[str, str], dict[str, str]]) -> None:
    a, b = worlds
    attacks = _attacks(a, b)
    assert len(attacks) > len(SAMPLE_BODIES)
    raw = boto3.client("dynamodb", region_name="us-east-1")
    checked = 0
    for label, method, path, body in attacks:
        before, mail_before = table_dump(raw, moto_table), mail_files(outbox_dir)
        response = org.call(method, path, body)  # A's key
        after, mail_after = table_dump(raw, moto_table), mail_files(outbox_dir)
        if "in the body" in label:
            assert response.status_code in (400, 404), (label, method, path, response.status_code, response.body)
        else:
            assert response.status_code == 404, (label, method, path, response.status_code, response.body)
            assert response.data["error"]["code"] == "not_found", (label, method, path, response.data)
        assert after == before, (label, method, path, "the table changed")
        assert mail_after == mail_before, (label, method, path, "mail was sent")
        checked += 1
    print(f"isolation: {checked} cross-group requests, table unchanged after each")


def test_the_attack_table_is_aimed_right_a_own_key_reaches_a_and_b_key_reaches_b(
        org: Any, other_org: Any, worlds: tuple[dict[str, str], dict[str, str]]) -> None:
    """The 404s above are isolation, not broken paths: the same reads with the owner's key work."""
    a, b = worlds
    for method, template in organizer_routes():
        if method != "GET":
            continue
        for owner, ids in ((org, a), (other_org, b)):
            response = owner.get(fill(template, ids))
            assert response.status_code == 200, (method, template, response.status_code, response.body)
