"""Idempotency-Key on creating POSTs: a retried request creates nothing twice."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalicelib import errors

MEETUP = {"title": "Breakfast", "starts_at": "2026-12-01T08:00:00", "ends_at": "2026-12-01T09:00:00",
          "timezone": "Europe/Lisbon", "online_url": "https://meet.example/x"}


def test_a_retried_create_answers_the_first_answer_and_creates_once(org: Any) -> None:
    first = org.post("meetups", MEETUP, headers={"Idempotency-Key": "create-breakfast-1"})
    again = org.post("meetups", MEETUP, headers={"Idempotency-Key": "create-breakfast-1"})
    assert first.status_code == again.status_code == 201
    assert again.data == first.data
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(org.get("meetups").data["items"]) == 1
    # Without a key (or with another key) a POST creates again, as it says.
    assert org.post("meetups", MEETUP, headers={"Idempotency-Key": "create-breakfast-2"}).status_code == 201
    assert org.post("meetups", MEETUP).status_code == 201
    assert len(org.get("meetups").data["items"]) == 3


def test_the_same_key_with_another_request_is_refused(org: Any) -> None:
    org.post("meetups", MEETUP, headers={"Idempotency-Key": "k"})
    other = org.post("meetups", {**MEETUP, "title": "Lunch"}, headers={"Idempotency-Key": "k"})
    assert other.status_code == 400 and other.data["error"]["field"] == "Idempotency-Key"
    assert [m["title"] for m in org.get("meetups").data["items"]] == ["Breakfast"]


def test_a_failed_attempt_releases_the_key(org: Any) -> None:
    bad = org.post("meetups", {**MEETUP, "title": ""}, headers={"Idempotency-Key": "retry-me"})
    assert bad.status_code == 400 and bad.data["error"]["field"] == "title"
    good = org.post("meetups", MEETUP, headers={"Idempotency-Key": "retry-me"})
    assert good.status_code == 201 and "Idempotent-Replayed" not in good.headers


def test_keys_are_per_group_and_checked(org: Any, other_org: Any) -> None:
    org.post("meetups", MEETUP, headers={"Idempotency-Key": "shared"})
    theirs = other_org.post(f"{other_org.base}/meetups", MEETUP, headers={"Idempotency-Key": "shared"})
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers
    assert theirs.data["group_id"] == other_org.group_id
    for bad in ("x" * 256, "tab\there"):
        r = org.post("meetups", MEETUP, headers={"Idempotency-Key": bad})
        assert r.status_code == 400 and r.data["error"]["field"] == "Idempotency-Key"


def test_a_retried_round_start_starts_one_round(org: Any) -> None:
    org.call("PUT", "lunch-program", {"enabled": True, "cadence": "weekly", "weekday": "tue",
                                      "local_hour": 10, "odd_rule": "trio"})
    first = org.post("lunch-rounds", {}, headers={"Idempotency-Key": "round-1"})
    again = org.post("lunch-rounds", {}, headers={"Idempotency-Key": "round-1"})
    assert first.status_code == 202 and again.data == first.data
    assert len(org.get("lunch-rounds").data["items"]) == 1


def test_concurrent_retries_create_one_meetup_on_dynamodb_local(local_org: Any) -> None:
    # Raced at the service level: Chalice's test client keeps one current request per app.
    from chalicelib import deps
    from chalicelib.models import MeetupIn
    from chalicelib.routes.http import json_response
    from chalicelib.services import idempotency, meetups

    body = json.dumps(MEETUP).encode()

    def post(_: int) -> tuple[int, str | None]:
        try:
            answer = idempotency.run_once(local_org.group_id, "storm", b"POST /meetups " + body, lambda: json_response(
                meetups.create_meetup(local_org.group_id, MeetupIn.model_validate(MEETUP)).out(), 201))
        except errors.Conflict:
            return 409, None
        return answer.status_code, json.loads(answer.body)["meetup_id"]

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(post, range(6)))
    assert {code for code, _ in answers} <= {201, 409}
    assert len({mid for code, mid in answers if code == 201}) == 1
    assert len(deps.store().meetups.page(local_org.group_id, upcoming=True, now=deps.now(), limit=10,
                                         cursor=None)[0]) == 1
