"""When a slot happens, in real time: pure (no I/O, no clock; callers pass the instant).

A slot is "<weekday>-<part of day>" ("tue-lunch"); the programme's `slot_times` say what
local time each part of the day means (DEFAULT_TIMES unless changed). Read in a member's
own zone, a slot becomes an instant, which is how members in different zones can meet:

- `proposed_time`: the next meeting time of a slot in a zone, as an aware UTC datetime.
- `real_time_keys`: what a virtual member's availability becomes for the matcher. Each slot
  gives the half-hours of the UTC week within REACH (1 hour) of its instant, so two slots
  share a key exactly when their instants are within OVERLAP (2 hours) of each other
  (instants on the half hour; a slot at, say, 12:15 counts within 1.5 hours for sure and
  never beyond 2). Keys wrap around the week: Sunday evening in Chicago meets Monday
  morning in Lisbon. The matcher's rule "a common slot when both gave any" then means
  "slots that overlap in real time".
- `Meetings.slot` / `Meetings.zone`: which slot a pair meets in and the zone it is read in.
  A virtual pair meets in the slot of its first member (by member id) that gave any, lunches
  first, whose instant is within OVERLAP of a slot of every other member; `zone` is that
  member's zone. An in-person pair is in one city: it keeps the matcher's common named slot,
  read in the group's zone (`zone` None).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from types import MappingProxyType
from typing import Final

from chalicelib import timeutil
from chalicelib.vocabulary import DAY_PARTS, DAYS, SLOTS

DEFAULT_TIMES: Final[Mapping[str, str]] = MappingProxyType(
    {"breakfast": "08:30", "coffee": "10:30", "lunch": "12:30", "after_work": "18:00"}
)
OVERLAP: Final = timedelta(hours=2)  # two slots overlap when their instants are this close
REACH: Final = OVERLAP / 2  # each slot's keys reach this far either side of its instant
STEP_MINUTES: Final = 30  # one real-time key per half hour of the UTC week
WEEK_MINUTES: Final = 7 * 24 * 60
KEY_PREFIX: Final = "utc:"  # real-time keys never look like a named slot ("tue-lunch")

_HH_MM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
_PREFERENCE = {slot: (not slot.endswith("-lunch"), index) for index, slot in enumerate(SLOTS)}  # lunch first
_UTC_MONDAY = datetime(1970, 1, 5, tzinfo=UTC)


def check_times(times: Mapping[str, str]) -> dict[str, str]:
    """Slot times as a programme stores them: every part of the day, given ones "HH:MM"
    (24-hour), the rest as DEFAULT_TIMES; ValueError for an unknown part or a bad time."""
    for part, value in times.items():
        if part not in DAY_PARTS:
            raise ValueError(f"{part!r} is not a part of the day: use {', '.join(DAY_PARTS)}")
        if not isinstance(value, str) or not _HH_MM.fullmatch(value):
            raise ValueError(f"{part}: {value!r} is not a time such as '12:30'")
    return {part: times.get(part, DEFAULT_TIMES[part]) for part in DAY_PARTS}


def _parse(slot: str, times: Mapping[str, str]) -> tuple[int, time]:
    day, _, part = slot.partition("-")
    if day not in DAYS or part not in DAY_PARTS:
        raise ValueError(f"{slot!r} is not a slot such as 'tue-lunch'")
    hours, minutes = (times.get(part) or DEFAULT_TIMES[part]).split(":")
    return DAYS.index(day), time(int(hours), int(minutes))


def proposed_time(slot: str, zone: str, after: datetime,
                  times: Mapping[str, str] = DEFAULT_TIMES) -> datetime:
    """The next meeting time of `slot` read in `zone`, as an aware UTC datetime.

    The rule: the first day with the slot's weekday *after* the local date of `after` in
    `zone` (never the same day, so at least some hours' notice; at most 7 days ahead), at
    the slot's local time. Wall time, so daylight saving moves the UTC instant, never the
    local hour. A local time that does not exist (skipped by a spring-forward) is read with
    the offset before the change, as zoneinfo does.
    """
    weekday, at = _parse(slot, times)
    tz = timeutil.zone(zone)
    today = after.astimezone(tz).date()
    ahead = (weekday - today.weekday() - 1) % 7 + 1  # 1..7 days
    return datetime.combine(today + timedelta(days=ahead), at, tzinfo=tz).astimezone(UTC)


def slot_instant(slot: str, zone: str, after: datetime, times: Mapping[str, str] = DEFAULT_TIMES) -> datetime:
    """Alias of `proposed_time`: the instant a slot means in a zone, the next time it comes."""
    return proposed_time(slot, zone, after, times)


def _minute_of_week(instant: datetime) -> int:
    """Minutes since Monday 00:00 UTC."""
    return int((instant - _UTC_MONDAY).total_seconds() // 60) % WEEK_MINUTES


def real_time_keys(slots: Iterable[str], zone: str, around: datetime,
                   times: Mapping[str, str] = DEFAULT_TIMES) -> frozenset[str]:
    """A virtual member's availability in real time: the half-hours of the UTC week within
    REACH of each slot's instant (its next occurrence after `around`, so the offsets are the
    round's, daylight saving included). Empty for no slots ("any time" stays "any time")."""
    key = tuple(sorted(times.items()))
    return frozenset().union(*(_slot_keys(slot, zone, around, key) for slot in slots))


# Members share zones and slots: each slot's instant and keys are worked out once per round.
@functools.lru_cache(maxsize=8192)
def _minute(slot: str, zone: str, around: datetime, times: tuple[tuple[str, str], ...]) -> int:
    """The slot's next instant after `around` in `zone`, as its minute of the UTC week."""
    return _minute_of_week(proposed_time(slot, zone, around, dict(times)))


@functools.lru_cache(maxsize=8192)
def _slot_keys(slot: str, zone: str, around: datetime, times: tuple[tuple[str, str], ...]) -> frozenset[str]:
    reach = int(REACH.total_seconds() // 60)
    minute = _minute(slot, zone, around, times)
    low, high = -(-(minute - reach) // STEP_MINUTES), (minute + reach) // STEP_MINUTES
    return frozenset(f"{KEY_PREFIX}{bucket % (WEEK_MINUTES // STEP_MINUTES):03d}" for bucket in range(low, high + 1))


def _apart(first: int, second: int) -> int:
    """Minutes between two minutes of the week, the short way round (the week wraps)."""
    gap = abs(first - second) % WEEK_MINUTES
    return min(gap, WEEK_MINUTES - gap)


def shared_slot(schedules: Sequence[tuple[str, Collection[str]]], around: datetime,
                times: Mapping[str, str] = DEFAULT_TIMES) -> tuple[str, str] | None:
    """(slot, zone) a group of virtual members meets in, from each one's (zone, slots) in
    order: the first member who gave slots, their slots lunches first, the first whose
    instant is within OVERLAP of a slot of every other member who gave any. None when
    nobody gave slots or no slot of that member overlaps everyone."""
    overlap = int(OVERLAP.total_seconds() // 60)
    key = tuple(sorted(times.items()))
    minutes = [(zone, _ordered(frozenset(slots), zone, around, key)) for zone, slots in schedules if slots]
    if not minutes:
        return None
    (zone, own), others = minutes[0], minutes[1:]
    for slot, minute in own:
        if all(any(_apart(minute, theirs) <= overlap for _, theirs in other) for _, other in others):
            return slot, zone
    return None


@functools.lru_cache(maxsize=4096)
def _ordered(slots: frozenset[str], zone: str, around: datetime,
             times: tuple[tuple[str, str], ...]) -> tuple[tuple[str, int], ...]:
    """(slot, minute of the UTC week) for each slot, lunches first."""
    return tuple((slot, _minute(slot, zone, around, times)) for slot in sorted(slots, key=_PREFERENCE.__getitem__))


@dataclass(frozen=True)
class Meetings:
    """A round's virtual members in time: each one's (zone, slots), the programme's slot
    times and the instant the round runs (`around`). Members not listed meet in person."""

    group_zone: str
    times: Mapping[str, str]
    around: datetime
    virtual: Mapping[str, tuple[str, frozenset[str]]] = field(default_factory=dict)
    _found: dict[tuple[str, ...], tuple[str, str] | None] = field(default_factory=dict, compare=False, repr=False)

    def availability(self, member_id: str, slots: Iterable[str]) -> frozenset[str]:
        """What the matcher compares: real-time keys for a virtual member, named slots else."""
        if member_id not in self.virtual:
            return frozenset(slots)
        zone, named = self.virtual[member_id]
        return real_time_keys(named, zone, self.around, self.times)

    def _meeting(self, member_ids: Sequence[str]) -> tuple[str, str] | None:
        key = tuple(sorted(member_ids))
        if key not in self._found:  # slot() and zone() of one pair ask the same question
            self._found[key] = shared_slot([self.virtual[m] for m in key], self.around, self.times)
        return self._found[key]

    def slot(self, member_ids: Sequence[str], suggested: str | None) -> str | None:
        """The slot a pair meets in: for a virtual pair see `shared_slot`; an in-person pair
        keeps `suggested` (the matcher's common named slot)."""
        if not member_ids or not all(m in self.virtual for m in member_ids):
            return suggested if suggested in _PREFERENCE else None
        found = self._meeting(member_ids)
        return found[0] if found else None

    def zone(self, member_ids: Sequence[str]) -> str | None:
        """The zone `slot` is read in: the virtual member's whose slot it is; None (the
        group's zone) for an in-person pair."""
        if not member_ids or not all(m in self.virtual for m in member_ids):
            return None
        found = self._meeting(member_ids)
        return found[1] if found else None
