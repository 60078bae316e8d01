"""Lunch rounds on DynamoDB Local: concurrent schedules start one round; a round killed half-way
finishes on the next run with no duplicate pairs and no duplicate emails."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chalicelib import deps
from chalicelib.models import GroupIn, LunchPrefsPatch, LunchProgramIn, MemberIn
from chalicelib.services import groups, lunch, members, pairing, schedules

DUE = datetime(2026, 11, 3, 10, 5, tzinfo=UTC)  # Tuesday 10:05 in Lisbon (WET = UTC)


def setup_group(n: int = 9, odd_rule: str = "trio") -> str:
    group, _ = groups.create_group(GroupIn(name="Lisbon Founders", timezone="Europe/Lisbon",
                                           sender_name="Lisbon Founders"))
    members.add_members(group.group_id, [
        MemberIn(email=f"p{i}@example.com", name=f"Person{i} Test",
                 lunch=LunchPrefsPatch(opted_in=True, city="Lisbon", interests=["climate"],
                                       availability=["tue-lunch"]))
        for i in range(n)])
    lunch.put_program(group.group_id, LunchProgramIn(cadence="weekly", weekday="tue", local_hour=10,
                                                      odd_rule=odd_rule))  # type: ignore[arg-type]
    return group.group_id


def intro_recipients(outbox: Path) -> Counter[str]:
    import email
    import email.policy

    found: Counter[str] = Counter()
    for path in outbox.glob("*.eml"):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if str(msg["Subject"]).startswith("Meet "):
            found[str(msg["To"])] += 1
    return found


def assert_one_clean_round(group_id: str, n: int) -> None:
    rounds = deps.store().lunch.all_rounds(group_id)
    assert len(rounds) == 1 and rounds[0].status == "done"
    pairs = deps.store().lunch.pairs_of_round(group_id, rounds[0].round_id)
    placed = Counter(m for p in pairs for m in p.member_ids)
    assert set(placed.values()) == {1}, placed  # nobody in two pairs
    assert len(placed) + len(rounds[0].sat_out) == n
    assert rounds[0].pair_count == len(pairs)


def test_two_schedules_at_once_make_one_round_and_one_intro_each(local_table: str, clock: Any,
                                                                 outbox_dir: Path) -> None:
    group_id = setup_group()
    clock.set(DUE)
    barrier = threading.Barrier(2)
    results: list[dict[str, int]] = []
    failures: list[BaseException] = []

    def hourly() -> None:
        try:
            barrier.wait()
            results.append(schedules.run_hourly(DUE))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=hourly) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not failures and len(results) == 2
    assert_one_clean_round(group_id, 9)
    recipients = intro_recipients(outbox_dir)
    assert len(recipients) == 9 and set(recipients.values()) == {1}
    assert deps.store().lunch.get_program(group_id) is not None
    # and again, later that day: nothing new
    clock.advance(hours=3)
    schedules.run_hourly(clock())
    assert_one_clean_round(group_id, 9)
    assert set(intro_recipients(outbox_dir).values()) == {1}


class Killed(Exception):
    pass


def test_a_round_killed_during_pair_writes_finishes_on_the_next_run(local_table: str, clock: Any,
                                                                    outbox_dir: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.store.lunch import LunchRepo

    group_id = setup_group(11, odd_rule="trio")
    clock.set(DUE)
    real_put = LunchRepo.put_pairs

    def dying_put(self: LunchRepo, pairs: Any) -> int:
        real_put(self, pairs[:2])  # the first two pairs landed, then the Lambda timed out
        raise Killed("the Lambda ran out of time")

    monkeypatch.setattr(LunchRepo, "put_pairs", dying_put)
    assert pairing.start_due_rounds(DUE) == 1  # handed on; the worker died (logged), the schedule goes on
    lunch_round = deps.store().lunch.all_rounds(group_id)[0]
    assert lunch_round.status == "started"
    assert len(deps.store().lunch.pairs_of_round(group_id, lunch_round.round_id)) == 2
    assert intro_recipients(outbox_dir) == Counter()

    monkeypatch.setattr(LunchRepo, "put_pairs", real_put)
    clock.advance(hours=1)
    assert pairing.start_due_rounds(clock()) == 1  # the next hourly run picks it up again
    assert_one_clean_round(group_id, 11)
    recipients = intro_recipients(outbox_dir)
    assert len(recipients) == 11 and set(recipients.values()) == {1}
    sizes = sorted(len(p.member_ids) for p in deps.store().lunch.pairs_of_round(
        group_id, lunch_round.round_id))
    assert sizes.count(3) == 1  # still one trio per round


def test_a_round_killed_while_queueing_intros_sends_each_once(local_table: str, clock: Any,
                                                             outbox_dir: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.services import outbox

    group_id = setup_group(9)
    clock.set(DUE)
    real_queue_many = outbox.queue_many

    def dying_queue_many(group: Any, batch: Sequence[Any]) -> int:
        real_queue_many(group, batch[:4])
        raise Killed("the Lambda ran out of time")

    monkeypatch.setattr(outbox, "queue_many", dying_queue_many)
    pairing.start_due_rounds(DUE)
    assert deps.store().lunch.all_rounds(group_id)[0].status == "planned"
    assert sum(intro_recipients(outbox_dir).values()) == 4

    monkeypatch.setattr(outbox, "queue_many", real_queue_many)
    clock.advance(hours=1)
    pairing.start_due_rounds(clock())
    assert_one_clean_round(group_id, 9)
    recipients = intro_recipients(outbox_dir)
    assert len(recipients) == 9 and set(recipients.values()) == {1}
    # the member records count the round once, whatever the reruns did
    records = deps.store().lunch.all_records(group_id)
    assert all(len({m.split("/")[0] for m in r.met}) == 1 for r in records.values())
