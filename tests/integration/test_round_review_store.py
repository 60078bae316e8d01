"""Review before sending on both engines (moto and Amazon's DynamoDB Local): holding a round,
an edit's one transaction under its status/time/version guard, approvals racing, and the
expiry found through the sparse LUNCH_REVIEWS index, each step done once."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib import deps, errors
from chalicelib.models import LunchProgramIn, LunchRoundEditIn
from chalicelib.services import lunch, pairing, review
from tests.integration.test_pairing_rounds import DUE, intro_recipients, setup_group


def held(clock: Any) -> tuple[str, str]:
    group_id = setup_group(9, odd_rule="sit_out")
    lunch.put_program(group_id, LunchProgramIn(cadence="weekly", weekday="tue", local_hour=10, odd_rule="sit_out",
                                               review=True))
    clock.set(DUE)
    assert pairing.start_due_rounds(clock()) == 1
    (lunch_round,) = deps.store().lunch.all_rounds(group_id)
    assert lunch_round.status == "review" and lunch_round.version == 0
    return group_id, lunch_round.round_id


def test_a_held_round_is_found_only_after_48_hours_and_expires_once(any_table: str, clock: Any,
                                                                     outbox_dir: Path) -> None:
    group_id, round_id = held(clock)
    store = deps.store().lunch
    assert list(store.reviews_due(clock() + timedelta(hours=47))) == []
    later = clock.advance(hours=48, minutes=5)
    assert list(store.reviews_due(later)) == [(group_id, round_id)]
    assert review.expire(group_id, round_id, later) is True
    assert store.require_round(group_id, round_id).status == "expired"
    assert store.pairs_of_round(group_id, round_id) == []
    assert list(store.reviews_due(later)) == []  # handled: off the index
    assert review.expire(group_id, round_id, later) is True  # a redelivery: the same state, no new mail
    assert len(list(outbox_dir.glob("*-round_expired-*.eml"))) == 0  # the group has no organizer address
    assert intro_recipients(outbox_dir) == {}


def test_an_edit_is_one_guarded_transaction(any_table: str, clock: Any) -> None:
    group_id, round_id = held(clock)
    store = deps.store().lunch
    pairs = sorted(store.pairs_of_round(group_id, round_id), key=lambda p: p.member_ids)
    a, b = pairs[0].member_ids[0], pairs[1].member_ids[0]
    out = review.edit(group_id, round_id, LunchRoundEditIn(swap=[a, b], version=0))
    assert out["version"] == 1 and len(out["pairs"]) == 4
    after = store.pairs_of_round(group_id, round_id)
    placed = sorted(m for p in after for m in p.member_ids)
    assert placed == sorted(m for p in pairs for m in p.member_ids)  # nobody lost or doubled
    assert {pairs[0].pair_id, pairs[1].pair_id}.isdisjoint({p.pair_id for p in after})
    stale = store.require_round(group_id, round_id).model_copy(update={"version": 0})
    with pytest.raises(errors.StaleWrite):  # the guard itself, not only the service's check
        store.edit_round(stale, drop=[after[0]], add=[], sat_out=[], edit=out_edit(clock), now=clock())
    assert len(store.pairs_of_round(group_id, round_id)) == 4
    late = store.require_round(group_id, round_id)
    with pytest.raises(errors.StaleWrite):  # past review_until: refused by the table too
        store.edit_round(late, drop=[after[0]], add=[], sat_out=[], edit=out_edit(clock),
                         now=clock() + timedelta(hours=49))
    assert store.require_round(group_id, round_id).version == 1


def out_edit(clock: Any) -> Any:
    from chalicelib.models import RoundEdit

    return RoundEdit(kind="remove_pair", member_ids=[], score_before=0, score_after=0, at=clock())


def test_approvals_at_once_send_each_intro_once(any_table: str, clock: Any, outbox_dir: Path) -> None:
    group_id, round_id = held(clock)
    clock.advance(hours=1)
    answers: list[Any] = []

    def approve() -> None:
        try:
            answers.append(review.approve(group_id, round_id)["status"])
        except Exception as exc:  # the test reports it
            answers.append(exc)

    threads = [threading.Thread(target=approve) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(a, str) for a in answers), answers
    done = deps.store().lunch.require_round(group_id, round_id)
    if done.status != "done":  # a worker still held the lease when the others looked: the queue's retry
        pairing.run_round(group_id, round_id)
    assert deps.store().lunch.require_round(group_id, round_id).status == "done"
    recipients = intro_recipients(outbox_dir)
    assert len(recipients) == 8 and set(recipients.values()) == {1}
    assert review.expire(group_id, round_id, clock() + timedelta(days=3)) is False
