"""Slot times in real time (chalicelib/slots.py) and the matcher's rule for virtual members in
different zones: a common slot means slots whose instants are within 2 hours."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from chalicelib import matching, slots
from chalicelib.vocabulary import SLOTS

# Monday 2 November 2026: Lisbon on WET (UTC+0), Chicago on CST (UTC-6) since 1 November.
MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def local(instant: datetime, zone: str) -> datetime:
    return instant.astimezone(ZoneInfo(zone))


# ---------------------------------------------------------------- proposed_time


def test_proposed_time_is_the_next_such_day_at_the_local_time_as_utc() -> None:
    at = slots.proposed_time("tue-lunch", "Europe/Lisbon", MONDAY)
    assert at == datetime(2026, 11, 3, 12, 30, tzinfo=UTC) and at.tzinfo == UTC
    at = slots.proposed_time("tue-lunch", "America/Chicago", MONDAY)
    assert at == datetime(2026, 11, 3, 18, 30, tzinfo=UTC)
    # Never the same local day: a Monday slot asked for on a Monday is next week's.
    assert slots.proposed_time("mon-after_work", "Europe/Lisbon", MONDAY) == datetime(2026, 11, 9, 18, 0, tzinfo=UTC)
    # The local date decides: 23:30 UTC Monday is already Tuesday in Berlin, still Monday in Chicago.
    late = datetime(2026, 11, 2, 23, 30, tzinfo=UTC)
    assert local(slots.proposed_time("tue-lunch", "Europe/Berlin", late), "Europe/Berlin").date().isoformat() \
        == "2026-11-10"
    assert slots.proposed_time("tue-lunch", "America/Chicago", late) == datetime(2026, 11, 3, 18, 30, tzinfo=UTC)
    assert slots.slot_instant("tue-lunch", "America/Chicago", late) == slots.proposed_time(
        "tue-lunch", "America/Chicago", late)


def test_proposed_time_across_lisbon_dst_end_keeps_the_wall_time() -> None:
    friday = datetime(2026, 10, 23, 12, 0, tzinfo=UTC)  # Lisbon leaves summer time on Sunday 25 October
    before = slots.proposed_time("sat-lunch", "Europe/Lisbon", friday)
    after = slots.proposed_time("mon-lunch", "Europe/Lisbon", friday)
    assert before == datetime(2026, 10, 24, 11, 30, tzinfo=UTC)  # WEST, UTC+1
    assert after == datetime(2026, 10, 26, 12, 30, tzinfo=UTC)  # WET, UTC+0
    for instant in (before, after):
        assert local(instant, "Europe/Lisbon").time() == time(12, 30)


def test_proposed_time_across_chicago_dst_end_keeps_the_wall_time() -> None:
    friday = datetime(2026, 10, 30, 15, 0, tzinfo=UTC)  # Chicago leaves daylight time on Sunday 1 November
    before = slots.proposed_time("sat-breakfast", "America/Chicago", friday)
    after = slots.proposed_time("mon-breakfast", "America/Chicago", friday)
    assert before == datetime(2026, 10, 31, 13, 30, tzinfo=UTC)  # CDT, UTC-5
    assert after == datetime(2026, 11, 2, 14, 30, tzinfo=UTC)  # CST, UTC-6
    for instant in (before, after):
        assert local(instant, "America/Chicago").time() == time(8, 30)


def test_custom_slot_times_and_their_validation() -> None:
    times = slots.check_times({"lunch": "13:15", "after_work": "19:00"})
    assert times == {"breakfast": "08:30", "lunch": "13:15", "coffee": "10:30", "after_work": "19:00"}
    at = slots.proposed_time("wed-lunch", "America/Chicago", MONDAY, times)
    assert local(at, "America/Chicago").replace(tzinfo=None) == datetime(2026, 11, 4, 13, 15)
    assert local(slots.proposed_time("wed-coffee", "Asia/Kolkata", MONDAY, times), "Asia/Kolkata").time() \
        == time(10, 30)
    for bad in ({"lunch": "25:00"}, {"lunch": "12.30"}, {"lunch": "9:30"}, {"brunch": "11:00"}):
        with pytest.raises(ValueError):
            slots.check_times(bad)
    with pytest.raises(ValueError):
        slots.proposed_time("funday-lunch", "UTC", MONDAY)


# ---------------------------------------------------------------- real-time keys


def keys(slot_names: set[str], zone: str, times: dict[str, str] | None = None) -> frozenset[str]:
    return slots.real_time_keys(slot_names, zone, MONDAY, times or slots.DEFAULT_TIMES)


def test_lisbon_and_chicago_lunch_do_not_overlap_lisbon_and_london_do() -> None:
    lisbon, chicago, london = (keys({"tue-lunch"}, z) for z in ("Europe/Lisbon", "America/Chicago", "Europe/London"))
    assert lisbon and not lisbon & chicago
    assert lisbon & london
    berlin = keys({"tue-lunch"}, "Europe/Berlin")  # an hour ahead of Lisbon
    assert lisbon & berlin
    assert keys(set(), "Europe/Lisbon") == frozenset()  # no slots stays "any time"
    assert not lisbon & frozenset(SLOTS)  # never mistaken for a named slot


def test_within_two_hours_overlaps_beyond_does_not() -> None:
    london = keys({"tue-lunch"}, "Europe/London")  # 12:30 UTC
    assert london & keys({"tue-lunch"}, "Europe/Athens")  # 10:30 UTC: exactly 2 hours
    assert not london & keys({"tue-lunch"}, "Europe/Istanbul")  # 09:30 UTC: 3 hours
    # The time counts, not the name: Lisbon's after-work (18:00 UTC) and Chicago's lunch (18:30 UTC).
    assert keys({"tue-after_work"}, "Europe/Lisbon") & keys({"tue-lunch"}, "America/Chicago")
    # ... and no longer when the programme moves after-work to 21:00.
    late = {**slots.DEFAULT_TIMES, "after_work": "21:00"}
    assert not keys({"tue-after_work"}, "Europe/Lisbon", late) & keys({"tue-lunch"}, "America/Chicago", late)


def test_the_week_wraps_sunday_evening_meets_monday_morning() -> None:
    # Sunday 18:00 in Chicago is Monday 00:00 UTC; in New York it is Sunday 23:00 UTC.
    chicago, new_york = keys({"sun-after_work"}, "America/Chicago"), keys({"sun-after_work"}, "America/New_York")
    assert chicago & new_york
    assert not chicago & keys({"sun-after_work"}, "America/Sao_Paulo")  # Sunday 21:00 UTC: 3 hours
    # Monday breakfast in Auckland (UTC+13) is Sunday 19:30 UTC: an hour after Sunday lunch in Chicago.
    assert keys({"mon-breakfast"}, "Pacific/Auckland") & keys({"sun-lunch"}, "America/Chicago")
    assert slots.shared_slot([("America/Chicago", {"sun-after_work"}), ("America/New_York", {"sun-after_work"})],
                             MONDAY) == ("sun-after_work", "America/Chicago")
    assert slots.shared_slot([("Pacific/Auckland", {"mon-breakfast", "tue-lunch"}),
                              ("America/Chicago", {"sun-lunch"})], MONDAY) == ("mon-breakfast", "Pacific/Auckland")


def test_shared_slot_is_the_first_members_lunch_first_that_overlaps_everyone() -> None:
    lisbon = ("Europe/Lisbon", {"tue-breakfast", "tue-lunch", "thu-lunch"})
    london = ("Europe/London", {"tue-breakfast", "thu-lunch"})
    assert slots.shared_slot([lisbon, london], MONDAY) == ("thu-lunch", "Europe/Lisbon")
    chicago = ("America/Chicago", {"tue-lunch"})
    assert slots.shared_slot([lisbon, chicago], MONDAY) is None
    assert slots.shared_slot([lisbon, ("Asia/Tokyo", set())], MONDAY) == ("tue-lunch", "Europe/Lisbon")  # any time
    assert slots.shared_slot([("Asia/Tokyo", set()), london], MONDAY) == ("thu-lunch", "Europe/London")
    assert slots.shared_slot([lisbon, london, chicago], MONDAY) is None  # a trio must all overlap


def test_meetings_name_virtual_pairs_in_real_time_and_leave_in_person_pairs_alone() -> None:
    meet = slots.Meetings("Europe/Lisbon", slots.DEFAULT_TIMES, MONDAY, {
        "mem_a": ("Europe/Lisbon", frozenset({"tue-lunch"})),
        "mem_b": ("Europe/London", frozenset({"tue-lunch", "wed-coffee"})),
        "mem_c": ("America/Chicago", frozenset({"tue-lunch"})),
    })
    assert meet.availability("mem_x", ["tue-lunch"]) == frozenset({"tue-lunch"})  # in person: named slots
    assert meet.availability("mem_c", ["ignored"]) == keys({"tue-lunch"}, "America/Chicago")
    assert (meet.slot(["mem_b", "mem_a"], "utc:025"), meet.zone(["mem_b", "mem_a"])) == ("tue-lunch", "Europe/Lisbon")
    assert (meet.slot(["mem_a", "mem_c"], None), meet.zone(["mem_a", "mem_c"])) == (None, None)
    assert (meet.slot(["mem_x", "mem_y"], "wed-coffee"), meet.zone(["mem_x", "mem_y"])) == ("wed-coffee", None)


# ---------------------------------------------------------------- the matcher with real-time keys


def virtual(member_id: str, zone: str, slot_names: set[str]) -> matching.Profile:
    return matching.Profile(member_id=member_id, name=member_id, virtual=True, interests=frozenset({"ai"}),
                            availability=keys(slot_names, zone))


def test_plan_pairs_lisbon_with_london_never_with_chicago() -> None:
    people = [virtual("mem_lisbon", "Europe/Lisbon", {"tue-lunch"}),
              virtual("mem_chicago", "America/Chicago", {"tue-lunch"}),
              virtual("mem_london", "Europe/London", {"tue-lunch"})]
    for odd_rule in ("trio", "sit_out"):
        plan = matching.plan_round(people, matching.History(recent_pairs={}), odd_rule=odd_rule,  # type: ignore[arg-type]
                                   repeat_window=None, seed=7)
        assert [pair.member_ids for pair in plan.pairs] == [("mem_lisbon", "mem_london")]
        assert plan.sat_out == ("mem_chicago",)
    three = [*people[:1], people[2], virtual("mem_dublin", "Europe/Dublin", {"tue-lunch"})]
    plan = matching.plan_round(three, matching.History(recent_pairs={}), odd_rule="trio", repeat_window=None, seed=1)
    assert [len(pair.member_ids) for pair in plan.pairs] == [3]  # a trio when all three overlap
    assert plan.pairs[0].slot is not None and plan.pairs[0].slot.startswith(slots.KEY_PREFIX)


@pytest.mark.parametrize("size", [120, 400])  # every pair scored, and the candidate graph of a big block
def test_a_world_wide_virtual_block_only_pairs_members_whose_slots_overlap(size: int) -> None:
    rng = random.Random(size)
    zones = ["Pacific/Honolulu", "America/Los_Angeles", "America/Chicago", "America/New_York", "America/Sao_Paulo",
             "Europe/Lisbon", "Europe/Berlin", "Europe/Istanbul", "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo",
             "Australia/Sydney", "Pacific/Auckland"]
    people = []
    for at in range(size):
        zone = rng.choice(zones)
        people.append(matching.Profile(
            member_id=f"mem_{at:04d}", name=f"P{at}", virtual=True,
            interests=frozenset(rng.sample(["ai", "climate", "product", "sales", "design"], 2)),
            availability=keys(set(rng.sample(SLOTS, 2)), zone)))
    assert len(frozenset().union(*(p.availability for p in people))) > 63  # more keys than one int64 holds
    plan = matching.plan_round(people, matching.History(recent_pairs={}), odd_rule="trio", repeat_window=None,
                               seed=3)
    by_id = {p.member_id: p for p in people}
    for pair in plan.pairs:
        members = [by_id[m] for m in pair.member_ids]
        assert frozenset.intersection(*(m.availability for m in members)), pair.member_ids
    feasible = {p.member_id for p in people
                if any(q is not p and p.availability & q.availability for q in people)}
    paired = {m for pair in plan.pairs for m in pair.member_ids}
    assert len(paired) >= 0.8 * len(feasible)
