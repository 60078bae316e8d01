"""The waitlist gets a lunch (issue 14, part 4): when a full meetup starts, members still on its
waitlist are paired among themselves and get a lunch intro, once; the pairing pages' confirm
flow connects them as it does a round's pairs."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from chalicelib import deps, ids, links
from chalicelib.services import schedules
from tests.api.test_lunch_api import add_members, of_kind, post_form


def _answer(client: Any, org: Any, meetup: dict[str, Any], member_id: str) -> None:
    url = links.rsvp_url(org.group_id, meetup["meetup_id"], member_id, datetime.fromisoformat(meetup["ends_at"]))
    r = client.http.post(urlsplit(url).path, headers={"Content-Type": "application/x-www-form-urlencoded"},
                         body=urlencode({"answer": "going"}).encode())
    assert r.status_code == 200


def test_at_the_start_the_waitlisted_are_paired_among_themselves_once(
        client: Any, org: Any, clock: Any, outbox_dir: Path) -> None:
    people = sorted(add_members(org, 8), key=lambda p: int(re.sub(r"\D", "", p["email"])))
    ids_ = [p["member_id"] for p in people]
    for member_id in ids_:
        r = org.patch(f"members/{member_id}", {"lunch": {"opted_in": True, "city": "Lisbon",
                                                         "interests": ["climate"], "availability": ["tue-lunch"]}})
        assert r.status_code == 200, r.data
    starts = (deps.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    local = starts.astimezone(ZoneInfo("Europe/Lisbon")).replace(tzinfo=None)
    r = org.post("meetups", {"title": "Full room", "starts_at": local.isoformat(),
                             "ends_at": (local + timedelta(hours=2)).isoformat(), "timezone": "Europe/Lisbon",
                             "venue": {"name": "Hall", "address": "Rua 1"}, "capacity": 2})
    assert r.status_code == 201, r.data
    meetup = dict(r.data)
    for member_id in ids_:  # the first two get seats, six wait
        _answer(client, org, meetup, member_id)
    statuses = {m: deps.store().rsvps.get(meetup["meetup_id"], m).status for m in ids_}  # type: ignore[union-attr]
    waiting = {m for m, s in statuses.items() if s == "waitlisted"}
    assert len(waiting) == 6

    clock.advance(days=2, minutes=10)  # the meetup started ten minutes ago
    schedules.run_hourly(deps.now())
    schedules.run_hourly(deps.now())  # a second run makes nothing more
    pairs = deps.store().lunch.pairs_of_round(org.group_id, ids.waitlist_round(meetup["meetup_id"]))
    assert len(pairs) == 3 and all(p.origin == "waitlist" for p in pairs)
    assert {m for p in pairs for m in p.member_ids} == waiting  # only the waitlisted, one pair each
    intros = of_kind(outbox_dir, "Meet ")
    assert len(intros) == 6
    assert all("the room was full, so here is someone from the waitlist" in
               m.get_body(("plain",)).get_content().lower() for m in intros)  # type: ignore[union-attr]

    # the pairing loop's connect flow works for them: both confirm, both get each other's address
    pair = pairs[0]
    for member_id in pair.member_ids:
        page = urlsplit(links.pairing_url(org.group_id, pair.pair_id, member_id)).path
        assert post_form(client, page, {"action": "confirm"}).status_code == 200
    connected = deps.store().lunch.get_pair(org.group_id, pair.pair_id)
    assert connected is not None and connected.connected_at is not None


def _waitlist_lunch_for_the_two_alike(client: Any, org: Any, clock: Any) -> tuple[list[str], Any]:
    """Four in Lisbon; the first two share every interest (a round would pair them: the control
    in test_intros). The other two take the meetup's two seats, so the first two wait, and at the
    start the waitlist pairs them for a lunch."""
    people = sorted(add_members(org, 4), key=lambda p: int(re.sub(r"\D", "", p["email"])))
    ids_ = [p["member_id"] for p in people]
    for i, member_id in enumerate(ids_):
        interests = ["climate", "python", "hiring"] if i < 2 else []
        r = org.patch(f"members/{member_id}", {"lunch": {"opted_in": True, "city": "Lisbon",
                                                         "interests": interests, "availability": ["tue-lunch"]}})
        assert r.status_code == 200, r.data
    assert org.call("PUT", "lunch-program", {"enabled": True, "cadence": "weekly", "weekday": "tue",
                                             "local_hour": 10, "odd_rule": "sit_out"}).status_code == 201
    starts = (deps.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    local = starts.astimezone(ZoneInfo("Europe/Lisbon")).replace(tzinfo=None)
    r = org.post("meetups", {"title": "Full room", "starts_at": local.isoformat(),
                             "ends_at": (local + timedelta(hours=2)).isoformat(), "timezone": "Europe/Lisbon",
                             "venue": {"name": "Hall", "address": "Rua 1"}, "capacity": 2})
    assert r.status_code == 201, r.data
    for member_id in [*ids_[2:], *ids_[:2]]:  # the last two get the seats
        _answer(client, org, dict(r.data), member_id)
    clock.advance(days=2, minutes=10)
    schedules.run_hourly(deps.now())
    (pair,) = deps.store().lunch.pairs_of_round(org.group_id, ids.waitlist_round(r.data["meetup_id"]))
    assert sorted(pair.member_ids) == sorted(ids_[:2])
    return ids_, pair


def test_a_waitlist_lunch_that_happened_counts_for_the_repeat_rule(
        client: Any, org: Any, clock: Any, outbox_dir: Path) -> None:
    from tests.api.test_intros import introduce_path
    from tests.api.test_lunch_api import run_round

    ids_, pair = _waitlist_lunch_for_the_two_alike(client, org, clock)
    for member_id in pair.member_ids:  # both confirm: the lunch happened
        page = urlsplit(links.pairing_url(org.group_id, pair.pair_id, member_id)).path
        assert post_form(client, page, {"action": "confirm"}).status_code == 200
    # the introduce page lists the waitlist partner, as it does a round's
    page = client.http.get(introduce_path(org, ids_[0])).body.decode()
    assert "Person1 Test" in page and "Person2 Test" not in page
    tables = [sorted(p["member_ids"]) for p in run_round(org)["pairs"]]
    assert len(tables) == 2 and sorted(ids_[:2]) not in tables  # each meets someone new


def test_a_declined_waitlist_lunch_does_not_count(client: Any, org: Any, clock: Any, outbox_dir: Path) -> None:
    from tests.api.test_lunch_api import run_round

    ids_, pair = _waitlist_lunch_for_the_two_alike(client, org, clock)
    page = urlsplit(links.pairing_url(org.group_id, pair.pair_id, ids_[0])).path
    assert post_form(client, page, {"action": "decline"}).status_code == 200
    tables = [sorted(p["member_ids"]) for p in run_round(org)["pairs"]]
    assert sorted(ids_[:2]) in tables  # they never met: the round may pair them
