"""Organizers' round starts racing on Amazon's engine (DynamoDB Local): a double click, or a
retry without `Idempotency-Key`, makes one round and one intro per member (issue 11, part 7).

moto is not enough here: the race is decided by DynamoDB's transaction and its conditions.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from chalicelib import deps, errors
from chalicelib.services import pairing
from chalicelib.store.lunch import LunchRepo
from tests.integration.test_pairing_rounds import intro_recipients, setup_group

CLICKS = 8
MEMBERS = 9
TODAY = "A round already ran today (Monday 2 November). Send {\"again\": true} to run another."


def race(group_id: str, clicks: int, **kwargs: Any) -> Counter[str]:
    """`clicks` threads start a round at once; answers what each got back."""
    barrier = threading.Barrier(clicks)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def click() -> None:
        barrier.wait()
        try:
            pairing.start_round_now(group_id, **kwargs)
            outcome = "started"
        except errors.Conflict as exc:
            outcome = exc.message
        except BaseException as exc:  # anything else shows up in the outcomes
            outcome = f"{type(exc).__name__}: {exc}"
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=click) for _ in range(clicks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert sum(outcomes.values()) == clicks, outcomes
    return outcomes


@pytest.fixture
def all_past_the_running_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold every click after its "is a round running?" read until all have made it, so
    nobody sees the winner's round there: the write alone must decide."""
    barrier = threading.Barrier(CLICKS)
    real = LunchRepo.unfinished_round

    def read_then_wait(self: LunchRepo, group_id: str, **kw: Any) -> Any:
        found = real(self, group_id, **kw)
        barrier.wait(timeout=60)
        return found

    monkeypatch.setattr(LunchRepo, "unfinished_round", read_then_wait)


def test_eight_clicks_at_once_make_one_round_and_one_intro_each(
        local_table: str, clock: Any, outbox_dir: Path, all_past_the_running_check: None) -> None:
    group_id = setup_group(MEMBERS)
    outcomes = race(group_id, CLICKS)
    assert outcomes == Counter({"started": 1, TODAY: CLICKS - 1})
    rounds = deps.store().lunch.all_rounds(group_id)
    assert [(r.trigger, r.status) for r in rounds] == [("manual", "done")]
    recipients = intro_recipients(outbox_dir)
    assert len(recipients) == MEMBERS and set(recipients.values()) == {1}


def test_clicks_at_once_with_again_each_start_a_round(local_table: str, clock: Any,
                                                      outbox_dir: Path) -> None:
    """`again` is the organizer asking for more rounds: it overrides both refusals."""
    group_id = setup_group(4)
    assert race(group_id, 3, again=True) == Counter({"started": 3})
    assert len(deps.store().lunch.all_rounds(group_id)) == 3
    assert race(group_id, 2) == Counter({TODAY: 2})  # and a plain start after them is refused


def test_a_plain_second_post_is_409_over_http(local_client: Any, local_org: Any, outbox_dir: Path) -> None:
    from tests.api.test_lunch_api import PROGRAM

    assert local_org.call("PUT", "lunch-program", PROGRAM).status_code == 201
    first = local_org.post("lunch-rounds", {})
    assert first.status_code == 202, first.data
    second = local_org.post("lunch-rounds")
    assert second.status_code == 409 and second.data["error"]["message"] == TODAY
    assert local_org.post("lunch-rounds", {"again": "yes"}).status_code == 400
    assert [r["round_id"] for r in local_org.get("lunch-rounds").data["items"]] == [first.data["round_id"]]
