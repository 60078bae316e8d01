"""The organizer hears about a round that paired nobody, and is warned before the programme runs
out of new pairs (issue 16), by email to the group's Reply-To address, once each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chalicelib import deps
from tests.api.test_lunch_api import PROGRAM, add_members, mails, run_round, text_of

ORGANIZER = "organizer@example.com"  # the org fixture's Reply-To


def to_organizer(outbox: Path) -> list[Any]:
    return [m for m in mails(outbox) if ORGANIZER in str(m["To"])]


def opt_in(org: Any, n: int) -> list[str]:
    ids = [m["member_id"] for m in add_members(org, n)]
    for mid in ids:
        r = org.patch(f"members/{mid}", {"lunch": {"opted_in": True, "city": "Lisbon",
                                                   "availability": ["tue-lunch"]}})
        assert r.status_code == 200, r.data
    return ids


def test_a_scheduled_round_that_pairs_nobody_tells_the_organizer_why_once(
        client: Any, org: Any, clock: Any, outbox_dir: Path) -> None:
    from chalicelib.services import schedules

    opt_in(org, 1)
    org.call("PUT", "lunch-program", PROGRAM)  # weekly, Tuesday 10:00 in Lisbon
    clock.advance(days=1, hours=2)  # Tuesday 3 November, 11:00 in Lisbon
    schedules.run_hourly(deps.now())
    clock.advance(hours=1)
    schedules.run_hourly(deps.now())  # the schedule runs again: the same round, no second email
    (only,) = org.get("lunch-rounds").data["items"]
    assert only["pair_count"] == 0 and only["outcome"] == "only one member opted in"
    (mail,) = to_organizer(outbox_dir)
    assert str(mail["Subject"]) == "Nobody was paired in the Lisbon Founders lunch round of Tuesday 3 November 2026"
    text = text_of(mail)
    assert "paired nobody: only one member opted in. 1 member was taking part" in text
    assert "Invite more members" in text and "Unsubscribe" not in text and "unsubscribe" not in text
    assert "List-Unsubscribe" not in mail


def test_the_organizer_is_warned_once_the_round_before_new_pairs_run_out(
        client: Any, org: Any, clock: Any, outbox_dir: Path) -> None:
    opt_in(org, 4)
    org.call("PUT", "lunch-program", PROGRAM | {"odd_rule": "sit_out"})  # no repeat window
    rounds = []
    for number in range(5):
        rounds.append(run_round(org))
        warned = to_organizer(outbox_dir)
        # 4 members meet all 6 pairs in rounds 1-3; after round 3 nobody has anyone new left.
        assert len(warned) == (0 if number < 2 else 1), number
        clock.advance(weeks=1)
    assert [r["new_pairs_left"] for r in rounds] == [4, 4, 0, 0, 0]
    assert [r["running_dry"] for r in rounds] == [False, False, True, True, True]
    assert all(r["pair_count"] == 2 for r in rounds)  # it keeps pairing: repeats, not empty rounds
    (mail,) = to_organizer(outbox_dir)
    assert str(mail["Subject"]) == "Your Lisbon Founders lunches are running out of new pairs"
    text = text_of(mail)
    assert "4 of the 4 members taking part have already met everyone" in text
    assert "we'll pair them with whoever they met longest ago" in text
    assert org.get("stats").data["new_pairs_left"] == 0


def test_running_dry_is_more_than_a_quarter_with_nobody_new() -> None:
    from chalicelib.services.pairing import running_dry

    assert not running_dry(8, 6)  # 2 of 8: a quarter, not more
    assert running_dry(8, 5)  # 3 of 8
    assert not running_dry(1, 0)  # one member: an empty round says so instead
    assert running_dry(4, 0)
