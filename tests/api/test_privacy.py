"""Privacy: erasing a member leaves nothing that names them, and logs never carry addresses,
tokens or keys.

The erasure test gives one member a full life (invited, RSVPs going and waitlisted, opted in
to lunch with asks and offers that the pairing reasons quote, paired in two rounds, confirmed
and gave feedback with a note, got mail of every kind), DELETEs them, then Scans the whole
table with a raw client (the app's refuses Scans) for their address (any case), its SHA-256
(the email guard), their name, headline, asks, offers and note. Every one of those strings is
unique to them: the other members' own data never names them, so the expected count is zero,
with no exception. What may stay is the bare member id (the anonymous stub of SPEC).

The logging test captures every log record (root logger at DEBUG; third-party libraries at
INFO and above — botocore's DEBUG wire trace is off in production) and stdout/stderr during a
full flow with failures (a refused send, tampered and expired links, bad keys), and finds no
email address, no member link token and no API key in them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import boto3
import pytest

from chalicelib import deps, links
from chalicelib.services import schedules
from chalicelib.store.schema import PK, SK
from chalicelib.tokens import TokenExpired

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
PAIRING_LINK = re.compile(r"https://lunch\.example\.test(/pairing/[A-Za-z0-9_.\-]+)")
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")

TARGET = {"email": "Zeb.Quixotic@Example.com", "name": "Zebulon Quixotic", "headline": "Chief Zymurgist at Quaffle"}
TARGET_LUNCH = {"offers": "zymurgy mentoring and brewery introductions",
                "asks": "introductions to fermentation investors xyloquartz"}
TARGET_NOTE = "Lovely lunch, will follow up on vellichor plans"
OTHERS = [
    {"email": f"other{i}@example.com", "name": f"Other Person{i}", "headline": f"Role {i}",
     "lunch": {"opted_in": True, "city": "Lisbon", "interests": ["climate"], "goals": ["meet_peers"],
               "offers": "brewery introductions and mentoring", "asks": "fermentation investors advice",
               "availability": ["tue-lunch"]}}
    for i in range(3)
]


class RawBody:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


def raw_scan(table: str) -> list[dict[str, Any]]:
    raw = boto3.client("dynamodb", region_name="us-east-1")
    items: list[dict[str, Any]] = []
    for page in raw.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items.extend(page["Items"])
    return items


def secrets_of_target() -> dict[str, str]:
    lowered = TARGET["email"].lower()
    return {"email": lowered, "email (as typed)": TARGET["email"], "name": TARGET["name"],
            "first name": TARGET["name"].split()[0], "last name": TARGET["name"].split()[1],
            "headline": TARGET["headline"], "offers": TARGET_LUNCH["offers"], "asks": TARGET_LUNCH["asks"],
            "ask word": "xyloquartz", "note": TARGET_NOTE, "note word": "vellichor",
            "email hash": hashlib.sha256(lowered.encode()).hexdigest(),
            "email hash (as typed)": hashlib.sha256(TARGET["email"].encode()).hexdigest()}


def findings(items: list[dict[str, Any]], secrets: dict[str, str]) -> list[str]:
    found = []
    for item in items:
        text = repr(item)
        lowered = text.lower()
        for what, secret in secrets.items():
            if secret.lower() in lowered:
                kind = item.get("kind", item.get("type", {})).get("S", "?")
                found.append(f"{what} in {kind} {item[PK]['S']} / {item[SK]['S']}")
    return found


def form(client: Any, path: str, fields: dict[str, Any]) -> Any:
    return client.http.post(path, headers=FORM, body=urlencode(fields, doseq=True).encode())


def full_life(client: Any, org: Any, clock: Any, outbox_dir: Path | None) -> dict[str, Any]:
    """The target and three others live a little; answers the ids and the links used."""
    r = org.post("members", {"members": [{k: v for k, v in TARGET.items()}, *OTHERS]})
    assert r.status_code == 201, r.data
    ids = {m["email"]: m["member_id"] for m in r.data["created"]}
    me = ids[TARGET["email"].lower()]
    used: dict[str, Any] = {"me": me, "paths": []}
    start = clock() + timedelta(days=5)
    meetups = []
    for capacity in (1, 10):
        r = org.post("meetups", {"title": f"Meetup cap {capacity}", "starts_at": start.isoformat(),
                                 "ends_at": (start + timedelta(hours=2)).isoformat(),
                                 "timezone": "Europe/Lisbon", "venue": {"name": "Café", "address": "Rua 1"},
                                 "capacity": capacity})
        assert r.status_code == 201, r.data
        meetups.append(r.data)
        assert org.post(f"meetups/{r.data['meetup_id']}/invitations", {}).status_code == 202
    first_other = ids["other0@example.com"]
    for meetup, who in ((meetups[0], first_other), (meetups[0], me), (meetups[1], me)):
        path = urlsplit(links.rsvp_url(org.group_id, meetup["meetup_id"], who, start + timedelta(hours=2))).path
        used["paths"].append(path)
        assert form(client, path, {"answer": "going"}).status_code == 200
    waiting = org.get(f"meetups/{meetups[0]['meetup_id']}/rsvps?status=waitlisted")
    assert [row["member_id"] for row in waiting.data["items"]] == [me]
    r = org.post(f"meetups/{meetups[1]['meetup_id']}/rsvps/{me}/check-in", {})
    assert r.status_code == 200, r.data

    # lunch: the target opts in on their page; two rounds a week apart (no repeat partner)
    assert org.call("PUT", "lunch-program", {"enabled": True, "cadence": "weekly", "weekday": "tue",
                                             "local_hour": 10, "repeat_window": 4,
                                             "odd_rule": "trio"}).status_code in (200, 201)
    assert org.post("lunch-program/invitations", {}).status_code == 202
    lunch = urlsplit(links.lunch_url(org.group_id, me)).path
    used["paths"].append(lunch)
    r = form(client, lunch, {"opt_in": "in", "mode": "in_person", "city": "Lisbon", "interests": "climate",
                             "goals": ["meet_peers", "be_mentored"], "availability": ["tue-lunch"], **TARGET_LUNCH})
    assert r.status_code == 200, r.body
    quoted = 0
    for _week in range(2):
        r = org.post("lunch-rounds", {})
        assert r.status_code == 202, r.data
        detail = org.get(f"lunch-rounds/{r.data['round_id']}").data
        mine = [p for p in detail["pairs"] if me in p["member_ids"]]
        assert len(mine) == 1, detail
        quoted += sum(1 for reason in mine[0]["reasons"] if "xyloquartz" in reason or "zymurgy" in reason)
        pairing = urlsplit(links.pairing_url(org.group_id, mine[0]["pair_id"], me)).path
        used["paths"].append(pairing)
        assert form(client, pairing, {"action": "confirm"}).status_code == 200
        r = form(client, pairing, {"action": "feedback", "met": "yes", "rating": "5", "note": TARGET_NOTE})
        assert r.status_code == 200, r.body
        partner = next(m for m in mine[0]["member_ids"] if m != me)
        other_link = urlsplit(links.pairing_url(org.group_id, mine[0]["pair_id"], partner)).path
        r = form(client, other_link, {"action": "feedback", "met": "yes", "note": "Good talk about climate"})
        assert r.status_code == 200, r.body
        clock.advance(days=8)
        schedules.run_hourly(deps.now())  # follow-ups
    assert quoted >= 1, "no pairing reason quoted the target's asks or offers"
    if outbox_dir is not None:
        mailbox = [p for p in outbox_dir.glob("*.eml") if TARGET["email"].lower() in p.read_text().lower()]
        assert len(mailbox) >= 6, len(mailbox)
    used["ids"] = ids
    return used


def test_deleting_a_member_leaves_no_trace_of_them_anywhere_in_the_table(
        client: Any, org: Any, clock: Any, outbox_dir: Path, moto_table: str) -> None:
    used = full_life(client, org, clock, outbox_dir)
    me, secrets = used["me"], secrets_of_target()
    before = findings(raw_scan(moto_table), secrets)
    assert {f.split(" in ")[0] for f in before} >= {"email", "name", "headline", "offers", "asks", "note",
                                                   "email hash"}, before  # the test looks where data is

    r = org.delete(f"members/{me}")
    assert r.status_code == 204, r.body

    left = findings(raw_scan(moto_table), secrets)
    assert left == [], "\n".join(left)
    # The rest of the group is intact: the others, their RSVPs and their pairs are still there.
    assert org.get(f"members/{me}").status_code == 404
    assert {m["member_id"] for m in org.get("members").data["items"]} == (
        set(used["ids"].values()) - {me})
    for path in used["paths"]:
        # A live link of an erased member finds no one (404); one that expired while the
        # test's clock moved weeks on says so first (410). Neither shows anything of them.
        token = path.rsplit("/", 1)[1]
        purpose = path.strip("/").split("/")[0]
        expired = False
        try:
            links.signer().read(purpose, token, now=deps.now())  # type: ignore[arg-type]
        except TokenExpired:
            expired = True
        assert client.http.get(path).status_code == (410 if expired else 404), path
    # The meetups are still there (past by now: the test's clock moved on two weeks).
    rows = org.get("meetups?when=upcoming").data["items"] + org.get("meetups?when=past").data["items"]
    assert len(rows) == 2 and all(m["going_count"] >= 0 for m in rows)


def test_logs_carry_no_email_address_token_or_key(
        client: Any, org: Any, clock: Any, outbox_dir: Path, moto_table: str,
        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.DEBUG)
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer", "moto", "chalice"):
        logging.getLogger(noisy).setLevel(logging.INFO)

    # Mail through SES (moto); the first three sends are refused the way SES does it, naming
    # the addresses in the error text.
    boto3.client("sesv2", region_name="us-east-1").create_email_identity(EmailIdentity=deps.settings().sender_email)
    monkeypatch.setenv("MAIL_MODE", "ses")
    deps.settings.cache_clear()
    deps.ses_client.cache_clear()
    failures = {"left": 3}

    def refuse(request: Any, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        if failures["left"] <= 0:
            return None
        failures["left"] -= 1
        body = json.loads(request.body)
        named = ", ".join([*body["Destination"]["ToAddresses"], body["FromEmailAddress"]])
        message = ("Email address is not verified. The following identities failed the check in region "
                   f"US-EAST-1: {named}")
        request.url = "https://refused.invalid/"  # so moto's stubber (run after us) records no send
        return AWSResponse(request.url, 400, {"x-amzn-ErrorType": "MessageRejected"},
                           RawBody(json.dumps({"message": message}).encode()))

    deps.ses_client().meta.events.register("before-send.sesv2.SendEmail", refuse)
    used = full_life(client, org, clock, None)
    assert failures["left"] == 0

    tokens = [p.rsplit("/", 1)[1] for p in used["paths"]]
    bad = []
    for path in used["paths"]:
        tampered = path[:-5] + ("A" if path[-5] != "A" else "B") + path[-4:]
        bad.append(tampered.rsplit("/", 1)[1])
        assert client.http.get(tampered).status_code == 403
        assert form(client, tampered, {"answer": "going"}).status_code == 403
    clock.advance(days=400)
    for path in used["paths"]:
        assert client.http.get(path).status_code in (404, 410)
    clock.advance(days=-400)
    wrong_key = org.api_key[:-4] + "AAAA"
    assert org.get("members", key=wrong_key).status_code == 401
    assert org.get("/groups/grp_00000000000000000000000000/members").status_code == 404
    assert org.delete(f"members/{used['me']}").status_code == 204
    schedules.run_hourly(deps.now() + timedelta(hours=1))  # the retry sweep

    out, err = capsys.readouterr()
    logged = "\n".join([*(r.getMessage() for r in caplog.records),
                        *(caplog.handler.format(r) for r in caplog.records), out, err])
    assert caplog.records, "nothing was logged: the test would prove nothing"
    assert any("failed" in r.getMessage() for r in caplog.records), "the failing sends were not logged"
    addresses = sorted({m.group(0) for m in EMAIL_RE.finditer(logged)})
    assert addresses == [], addresses
    secrets = {"api key": org.api_key, "api key secret": org.api_key.rsplit(".", 1)[1], "wrong key": wrong_key,
               **{f"token {i}": t for i, t in enumerate(tokens + bad)},
               **{f"token signature {i}": t.rsplit(".", 1)[1] for i, t in enumerate(tokens)}}
    assert all(len(secret) >= 16 for secret in secrets.values()), secrets
    leaked = [what for what, secret in secrets.items() if secret in logged]
    assert leaked == [], leaked
