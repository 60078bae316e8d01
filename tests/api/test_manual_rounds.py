"""An organizer's `POST /lunch-rounds` on moto: the body it takes, and the 409 that keeps a
double click or a retry from sending everyone a second intro (issue 11, part 7).

The concurrent case runs on Amazon's engine: tests/integration/test_manual_round_race.py.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from chalicelib.store.lunch import LunchRepo
from tests.api.test_lunch_api import PROGRAM, of_kind, opt_in_nine

ACCEPTED = [b"", b"  \n", b"{}", b'{"again": true}', b'{"again": false}']
REFUSED = [  # body -> the field the 400 names
    (b"null", "body"), (b"[]", "body"), (b'"x"', "body"), (b"5", "body"), (b"{", "body"),
    (b'{"title": 5}', "title"), (b'{"again": "yes"}', "again"), (b'{"again": 1}', "again"),
    (b'{"again": null}', "again"), (b'{"again": true, "seed": 3}', "seed"),
]


def start(org: Any, body: Any = None, **kw: Any) -> Any:
    return org.post("lunch-rounds", body, **kw)


def rounds(org: Any) -> list[dict[str, Any]]:
    return list(org.get("lunch-rounds").data["items"])


def intros_per_member(outbox: Path) -> Counter[str]:
    return Counter(str(m["To"]) for m in of_kind(outbox, "Meet "))


@pytest.fixture
def programme(org: Any) -> Any:
    assert org.call("PUT", "lunch-program", PROGRAM).status_code == 201
    return org


# ---------------------------------------------------------------- the body


@pytest.mark.parametrize("raw", ACCEPTED, ids=lambda b: repr(b.decode()))
def test_an_empty_or_again_body_starts_a_round(programme: Any, raw: bytes) -> None:
    r = programme.call("POST", "lunch-rounds", raw=raw)
    assert r.status_code == 202, r.data
    assert r.data["trigger"] == "manual" and r.data["round_id"].startswith("lrd_")
    assert [x["round_id"] for x in rounds(programme)] == [r.data["round_id"]]


def test_no_body_and_no_content_type_starts_a_round(client: Any, programme: Any) -> None:
    r = client.http.post(f"{programme.base}/lunch-rounds",
                         headers={"Authorization": f"Bearer {programme.api_key}"}, body=b"")
    assert r.status_code == 202, r.body
    assert len(rounds(programme)) == 1


@pytest.mark.parametrize(("raw", "field"), REFUSED, ids=lambda v: repr(v.decode()) if isinstance(v, bytes) else v)
def test_any_other_body_is_400_naming_the_field_and_starts_nothing(programme: Any, raw: bytes,
                                                                    field: str) -> None:
    r = programme.call("POST", "lunch-rounds", raw=raw)
    assert r.status_code == 400, (raw, r.data)
    error = r.data["error"]
    assert error["code"] == "invalid" and error["field"] == field
    assert error["message"].startswith(f"{field}: ")
    assert rounds(programme) == []


def test_a_bad_body_is_400_before_any_conflict(client: Any, programme: Any) -> None:
    assert start(programme, {}).status_code == 202
    r = start(programme, {"again": "yes"})
    assert r.status_code == 400 and r.data["error"]["field"] == "again"


# ---------------------------------------------------------------- one round a day


def test_a_second_round_the_same_day_is_409_and_everyone_gets_one_intro(
        client: Any, programme: Any, outbox_dir: Path) -> None:
    ids = opt_in_nine(client, programme)
    first = start(programme, {})
    assert first.status_code == 202 and first.data["status"] == "done"  # the worker ran inline
    for body in ({}, None, {"again": False}):
        r = start(programme, body)
        assert r.status_code == 409, r.data
        assert r.data["error"]["code"] == "conflict"
        # The clock stands at Monday 2 November 2026, 09:00 in Lisbon.
        assert r.data["error"]["message"] == ('A round already ran today (Monday 2 November). '
                                              'Send {"again": true} to run another.')
    assert [x["round_id"] for x in rounds(programme)] == [first.data["round_id"]]
    intros = intros_per_member(outbox_dir)
    assert len(intros) == len(ids) and set(intros.values()) == {1}


def test_the_day_is_the_groups_local_day(client: Any, programme: Any, clock: Any) -> None:
    from datetime import UTC, datetime

    # 23:30 UTC on 2 November is 23:30 in Lisbon (WET): the same local day until midnight there.
    clock.set(datetime(2026, 11, 2, 23, 30, tzinfo=UTC))
    assert start(programme, {}).status_code == 202
    clock.set(datetime(2026, 11, 2, 23, 59, tzinfo=UTC))
    assert start(programme, {}).status_code == 409
    clock.set(datetime(2026, 11, 3, 0, 1, tzinfo=UTC))  # Tuesday in Lisbon: a new day
    r = start(programme, {})
    assert r.status_code == 202 and r.data["local_date"] == "2026-11-03"
    assert len(rounds(programme)) == 2


def test_another_groups_round_does_not_count(client: Any, programme: Any, other_org: Any) -> None:
    assert start(programme, {}).status_code == 202
    assert other_org.call("PUT", "lunch-program", PROGRAM).status_code == 201
    assert start(other_org, {}).status_code == 202


def test_again_runs_another_round_and_a_plain_start_after_it_is_still_refused(
        client: Any, programme: Any, outbox_dir: Path) -> None:
    ids = opt_in_nine(client, programme)
    first = start(programme, {})
    second = start(programme, {"again": True})
    assert first.status_code == second.status_code == 202, second.data
    assert second.data["round_id"] != first.data["round_id"] and second.data["status"] == "done"
    assert len(rounds(programme)) == 2
    intros = intros_per_member(outbox_dir)
    assert len(intros) == len(ids) and set(intros.values()) == {2}  # one per round, as asked
    assert start(programme, {}).status_code == 409
    assert len(rounds(programme)) == 2


def test_a_retry_with_the_same_idempotency_key_replays_the_202_not_a_409(programme: Any) -> None:
    first = start(programme, {}, headers={"Idempotency-Key": "click-1"})
    retry = start(programme, {}, headers={"Idempotency-Key": "click-1"})
    assert first.status_code == retry.status_code == 202 and retry.data == first.data
    assert retry.headers.get("Idempotent-Replayed") == "true"
    other = start(programme, {}, headers={"Idempotency-Key": "click-2"})
    assert other.status_code == 409
    assert len(rounds(programme)) == 1


# ---------------------------------------------------------------- a round still running


class Killed(Exception):
    pass


@pytest.mark.parametrize("stuck_at", ["started", "planned"])
def test_a_round_still_running_refuses_a_manual_start_unless_again(
        client: Any, programme: Any, outbox_dir: Path, clock: Any, monkeypatch: pytest.MonkeyPatch,
        stuck_at: str) -> None:
    from datetime import UTC, datetime

    from chalicelib.services import pairing

    opt_in_nine(client, programme)
    # The schedule's round (Tuesday 10:05 in Lisbon) whose worker dies half-way.
    clock.set(datetime(2026, 11, 3, 10, 5, tzinfo=UTC))
    if stuck_at == "started":
        monkeypatch.setattr(LunchRepo, "put_pairs", lambda *_: (_ for _ in ()).throw(Killed()))
    else:
        monkeypatch.setattr(LunchRepo, "record_round", lambda *_: (_ for _ in ()).throw(Killed()))
    assert pairing.start_due_rounds(clock()) == 1
    monkeypatch.undo()
    (scheduled,) = rounds(programme)
    assert scheduled["status"] == stuck_at and scheduled["trigger"] == "schedule"

    clock.advance(hours=2)
    r = start(programme, {})
    assert r.status_code == 409, r.data
    assert r.data["error"]["message"] == (
        "A round started Tuesday 3 November at 10:05 is still running. "
        'Wait until it is done, or send {"again": true} to start another anyway.')
    assert len(rounds(programme)) == 1 and of_kind(outbox_dir, "Meet ") == []

    r = start(programme, {"again": True})
    assert r.status_code == 202 and r.data["status"] == "done"
    assert len(rounds(programme)) == 2


def test_a_manual_round_left_running_yesterday_refuses_today_until_it_is_done(
        client: Any, programme: Any, clock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.services import pairing

    opt_in_nine(client, programme)
    monkeypatch.setattr(LunchRepo, "put_pairs", lambda *_: (_ for _ in ()).throw(Killed()))
    first = start(programme, {})
    assert first.status_code == 202 and first.data["status"] == "started"  # its worker died
    monkeypatch.undo()
    clock.advance(days=1)
    r = start(programme, {})
    assert r.status_code == 409 and "Monday 2 November at 09:00 is still running" in r.data["error"]["message"]
    done = pairing.run_round(programme.group_id, first.data["round_id"])  # the queue's retry
    assert done is not None and done.status == "done"
    assert start(programme, {}).status_code == 202
    assert len(rounds(programme)) == 2
