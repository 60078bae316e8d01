"""What feedback does, as pure rules (chalicelib/feedback.py): what counts as met, who kept a
lunch, good matches, months on, and what the next round reads from the records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib import feedback as rules
from chalicelib import timeutil
from chalicelib.models import LunchPair, LunchRecord, LunchRound, Noted, PairFeedback

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def pair(members: tuple[str, ...] = ("a", "b"), responses: dict[str, str] | None = None,
         said: dict[str, dict[str, Any]] | None = None, origin: str = "round") -> LunchPair:
    return LunchPair(pair_id="lpr_x", round_id="lrd_x", group_id="g", member_ids=list(members),
                     origin=origin, responses=responses or {},  # type: ignore[arg-type]
                     feedback={m: PairFeedback(at=NOW, **f) for m, f in (said or {}).items()},
                     created_at=NOW)


def test_a_pairing_counts_as_met_when_someone_says_so_or_everyone_confirmed() -> None:
    both = {"a": "confirmed", "b": "confirmed"}
    assert rules.pair_met(pair(responses=both))
    assert not rules.pair_met(pair(responses={"a": "confirmed"}))
    assert not rules.pair_met(pair(responses={"a": "confirmed", "b": "declined"}))
    assert rules.pair_met(pair(said={"a": {"met": True}}))  # said so, without confirming
    assert not rules.pair_met(pair(responses=both, said={"a": {"met": False}}))  # confirmed, then didn't
    assert rules.pair_met(pair(responses=both, said={"a": {"met": False}, "b": {"met": True}}))
    assert rules.pair_met(pair(responses={"a": "confirmed"}, said={}).model_copy(update={"connected_at": NOW}))


def test_who_kept_the_lunch() -> None:
    p = pair(responses={"a": "confirmed", "b": "confirmed"}, said={"a": {"met": False, "no_show": ["b"]}})
    assert rules.kept(p, "a") and not rules.kept(p, "b")  # a came, b was reported
    assert rules.no_shows(p) == {"b"}
    p = pair(responses={"a": "confirmed", "b": "declined"})
    assert rules.kept(p, "a") and not rules.kept(p, "b")  # a's partner called it off: not a's doing
    assert not rules.kept(pair(), "a")  # silent
    assert not rules.kept(pair(responses={"a": "confirmed"}, said={"a": {"met": False}}), "a")
    assert rules.kept(pair(said={"a": {"met": True}}), "a")


def test_good_matches_need_both_to_have_met_and_rated_four_or_more() -> None:
    five_four = {"a": {"met": True, "rating": 5}, "b": {"met": True, "rating": 4}}
    assert rules.good_matches(pair(said=five_four)) == [("a", "b")]
    assert rules.good_matches(pair(said={"a": {"met": True, "rating": 5}, "b": {"met": True, "rating": 3}})) == []
    assert rules.good_matches(pair(said={"a": {"met": True, "rating": 5}})) == []  # one answer only
    assert rules.good_matches(pair(said=five_four, origin="reconnect")) == []
    trio = pair(("a", "b", "c"), said={"a": {"met": True, "rating": 5, "no_show": ["c"]},
                                       "b": {"met": True, "rating": 4}, "c": {"met": True, "rating": 5}})
    assert rules.good_matches(trio) == [("a", "b"), ("b", "c")]  # a said c didn't come: not a and c


@pytest.mark.parametrize(("start", "months", "expected"), [
    (datetime(2026, 11, 2, 9, tzinfo=UTC), 6, datetime(2027, 5, 2, 9, tzinfo=UTC)),
    (datetime(2027, 1, 31, 9, tzinfo=UTC), 1, datetime(2027, 2, 28, 9, tzinfo=UTC)),
    (datetime(2027, 8, 31, 9, tzinfo=UTC), 6, datetime(2028, 2, 29, 9, tzinfo=UTC)),
    (datetime(2027, 12, 15, 9, tzinfo=UTC), 12, datetime(2028, 12, 15, 9, tzinfo=UTC)),
])
def test_months_on(start: datetime, months: int, expected: datetime) -> None:
    assert rules.add_months(start, months) == expected


def rounds(n: int) -> list[LunchRound]:
    return [LunchRound(round_id=f"lrd_{i:02d}", group_id="g", local_date="2026-11-02", seq=i, status="done",
                       created_at=NOW + timedelta(days=7 * i)) for i in range(n)]


def test_round_facts_share_sit_outs_over_ten_rounds_and_count_missed_lunches_over_three() -> None:
    history = rounds(12)
    records = {
        "a": LunchRecord(member_id="a", sat_out_rounds=["lrd_00", "lrd_01", "lrd_05"], sat_out_round="lrd_05"),
        "b": LunchRecord(member_id="b", sat_out_round="lrd_11"),  # from before every sit-out was kept
        "c": LunchRecord(member_id="c", missed_rounds=["lrd_01", "lrd_09", "lrd_10"]),
    }
    facts = rules.round_facts(records, history, current_round="lrd_99")
    assert facts.sat_outs == {"a": 1, "b": 1}  # rounds 2-11 are the last ten
    assert facts.missed == {"c": 2}  # rounds 9-11 are the last three


def test_round_facts_pause_for_two_rounds_after_the_pause() -> None:
    record = LunchRecord(member_id="x", benched_after="lrd_03")
    paused = [("x" in rules.round_facts({"x": record}, rounds(n), current_round="next").paused)
              for n in range(4, 8)]
    assert paused == [True, True, False, False]  # planning rounds 4 and 5: out; 6 on: back


def test_a_reconnect_blocks_the_next_round_only_and_then_counts_as_met() -> None:
    history = rounds(3)
    when = timeutil.to_store(history[-1].created_at + timedelta(days=1))
    records = {"a": LunchRecord(member_id="a", reconnected=[f"{when}/b"]),
               "b": LunchRecord(member_id="b", reconnected=[f"{when}/a"])}
    facts = rules.round_facts(records, history, current_round="lrd_next")
    assert facts.blocked == {frozenset("ab")} and facts.met == {frozenset("ab"): 1}
    later = [*history, LunchRound(round_id="lrd_03", group_id="g", local_date="2026-12-01", seq=3, status="done",
                                  created_at=history[-1].created_at + timedelta(days=7))]
    facts = rules.round_facts(records, later, current_round="lrd_next")
    assert facts.blocked == set() and facts.met == {frozenset("ab"): 1}


def test_a_records_entries_read_as_when_and_who_and_write_back_as_stored() -> None:
    """Services read a lunch record's sets as (when, who), never as "<when>/<who>" strings."""
    when = timeutil.to_store(NOW)
    record = LunchRecord(member_id="a", met=["lrd_01/b", "lrd_02/b", "lrd_02/c"],
                         introduced=[f"{when}/d"], reconnected=[f"{when}/b"])
    assert record.meetings() == [Noted("lrd_01", "b"), Noted("lrd_02", "b"), Noted("lrd_02", "c")]
    assert record.met_in("lrd_02", "c") and not record.met_in("lrd_01", "c")
    assert record.met_outside() == [Noted(when, "d")] and record.reconnections() == [Noted(when, "b")]
    assert [Noted.read(entry).stored() for entry in record.met] == record.met
    rid, partner = record.meetings()[0]
    assert (rid, partner) == ("lrd_01", "b")
