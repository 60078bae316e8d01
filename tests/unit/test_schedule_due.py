"""When a lunch round is due: local wall time in the group's zone, across DST changes, per cadence."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.models import LunchProgram
from chalicelib.services.pairing import Due, due_round, scheduled_round_id

CREATED = datetime(2025, 1, 1, tzinfo=UTC)


def program(**kw: Any) -> LunchProgram:
    data: dict[str, Any] = {"group_id": "grp_x", "cadence": "weekly", "weekday": "tue", "local_hour": 10,
                            "created_at": CREATED, "updated_at": CREATED, **kw}
    return LunchProgram(**data)


def fires_at(p: LunchProgram, zone: str, start: datetime, days: int) -> list[datetime]:
    """The first UTC hour of each local date at which the hourly schedule finds the round due."""
    out: dict[date, datetime] = {}
    at = start
    while at < start + timedelta(days=days):
        due = due_round(p, zone, at)
        if due is not None:
            out.setdefault(due.local_date, at)
        at += timedelta(hours=1)
    return list(out.values())


# Europe/Berlin leaves summer time on Sunday 2026-10-25; America/New_York on Sunday 2026-11-01.
# They enter it on 2026-03-29 and 2026-03-08.
@pytest.mark.parametrize(("zone", "start", "utc_hours"), [
    ("Europe/Berlin", datetime(2026, 10, 12, tzinfo=UTC), [8, 8, 9, 9]),      # CEST, CEST | CET, CET
    ("America/New_York", datetime(2026, 10, 19, tzinfo=UTC), [14, 14, 15, 15]),  # EDT, EDT | EST, EST
    ("Europe/Berlin", datetime(2026, 3, 16, tzinfo=UTC), [9, 9, 8, 8]),       # CET | CEST
    ("America/New_York", datetime(2026, 2, 23, tzinfo=UTC), [15, 15, 14, 14]),  # EST | EDT
])
def test_weekly_fires_at_ten_local_on_both_sides_of_dst(zone: str, start: datetime,
                                                       utc_hours: list[int]) -> None:
    fired = fires_at(program(), zone, start, 28)
    assert [f.hour for f in fired] == utc_hours
    assert all(f.astimezone(ZoneInfo(zone)).hour == 10 for f in fired)
    assert all(f.astimezone(ZoneInfo(zone)).weekday() == 1 for f in fired)


def test_the_two_zones_switch_in_different_weeks() -> None:
    """The week of 2026-10-27: Berlin is already on CET (UTC+1), New York still on EDT (UTC-4)."""
    berlin = fires_at(program(), "Europe/Berlin", datetime(2026, 10, 26, tzinfo=UTC), 7)
    new_york = fires_at(program(), "America/New_York", datetime(2026, 10, 26, tzinfo=UTC), 7)
    assert berlin == [datetime(2026, 10, 27, 9, tzinfo=UTC)]
    assert new_york == [datetime(2026, 10, 27, 14, tzinfo=UTC)]


def test_a_round_stays_due_for_the_rest_of_the_local_day_only() -> None:
    p = program()
    tuesday_late = datetime(2026, 10, 27, 22, 30, tzinfo=UTC)  # 23:30 CET, still Tuesday in Berlin
    assert due_round(p, "Europe/Berlin", tuesday_late) == Due(date(2026, 10, 27),
                                                              datetime(2026, 10, 27, 9, tzinfo=UTC))
    assert due_round(p, "Europe/Berlin", datetime(2026, 10, 27, 23, 30, tzinfo=UTC)) is None  # Wed
    assert due_round(p, "Europe/Berlin", datetime(2026, 10, 27, 8, 59, tzinfo=UTC)) is None  # 09:59


def test_a_nonexistent_local_hour_fires_once_after_the_jump() -> None:
    """02:00 does not exist in Berlin on 2026-03-29 (clocks jump 02:00 -> 03:00)."""
    p = program(weekday="sun", local_hour=2)
    fired = fires_at(p, "Europe/Berlin", datetime(2026, 3, 28, tzinfo=UTC), 2)
    assert fired == [datetime(2026, 3, 29, 1, tzinfo=UTC)]  # 03:00 CEST, the first hour after


def test_biweekly_is_every_other_week_and_keeps_parity_over_new_year() -> None:
    fired = fires_at(program(cadence="biweekly"), "Europe/Berlin", datetime(2026, 11, 2, tzinfo=UTC), 120)
    gaps = {(b - a).days for a, b in itertools.pairwise(fired)}
    assert len(fired) >= 8 and gaps <= {13, 14, 15}  # 14 days, +-1h of DST seen as whole days
    dates = [f.date() for f in fired]
    assert all((later - earlier).days % 14 == 0 for earlier, later in itertools.pairwise(dates))


def test_monthly_is_the_first_such_weekday_of_the_month() -> None:
    fired = fires_at(program(cadence="monthly", weekday="mon"), "America/New_York",
                     datetime(2026, 1, 1, tzinfo=UTC), 365)
    days = [f.astimezone(ZoneInfo("America/New_York")).date() for f in fired]
    assert len(days) == 12
    assert all(d.weekday() == 0 and d.day <= 7 for d in days)
    assert days[0] == date(2026, 1, 5) and days[10] == date(2026, 11, 2)


def test_disabled_and_freshly_saved_programmes_do_not_fire() -> None:
    at = datetime(2026, 10, 27, 9, 30, tzinfo=UTC)
    assert due_round(program(enabled=False), "Europe/Berlin", at) is None
    saved_after = datetime(2026, 10, 27, 9, 15, tzinfo=UTC)
    assert due_round(program(updated_at=saved_after), "Europe/Berlin", at) is None
    assert due_round(program(), "Europe/Berlin", at) is not None


def test_round_ids_are_one_per_group_and_local_date() -> None:
    due = Due(date(2026, 10, 27), datetime(2026, 10, 27, 9, tzinfo=UTC))
    assert scheduled_round_id("grp_a", due) == scheduled_round_id("grp_a", due)
    assert scheduled_round_id("grp_a", due) != scheduled_round_id("grp_b", due)
    later = Due(date(2026, 11, 3), datetime(2026, 11, 3, 9, tzinfo=UTC))
    assert scheduled_round_id("grp_a", due) < scheduled_round_id("grp_a", later)
