"""Member.wants(kind): the one decision which mail goes to a member (issue 12, part 4), and
LunchPrefs.pairable_on: a pause chosen in settings ends by itself on its date."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from chalicelib.models import LUNCH_MAIL, MEETUP_MAIL, REQUESTED_MAIL, LunchPrefs, Member

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def member(**changes: Any) -> Member:
    lunch = LunchPrefs(**changes.pop("lunch", {}))
    return Member(member_id="mem_a", group_id="grp_a", email="a@example.com", name="A", lunch=lunch,
                  created_at=T0, updated_at=T0, **changes)


def test_the_kinds_do_not_overlap() -> None:
    assert not (MEETUP_MAIL & LUNCH_MAIL) and not (REQUESTED_MAIL & (MEETUP_MAIL | LUNCH_MAIL))


@pytest.mark.parametrize(("settings", "gets"), [
    ({}, {"rsvp_invite", "lunch_intro", "rsvp_confirmation", "fresh_link"}),
    ({"meetup_mail": False}, {"lunch_intro", "rsvp_confirmation", "fresh_link"}),
    ({"lunch": {"mail": False}}, {"rsvp_invite", "rsvp_confirmation", "fresh_link"}),
    ({"subscribed": False}, {"fresh_link"}),  # asked for a moment ago: goes even now
    ({"bounced": True}, set()),
])
def test_each_setting_stops_its_kinds(settings: dict[str, Any], gets: set[str]) -> None:
    m = member(**settings)
    kinds = {"rsvp_invite", "lunch_intro", "rsvp_confirmation", "fresh_link"}
    assert {k for k in kinds if m.wants(k)} == gets


def test_every_meetup_and_lunch_kind_follows_its_switch() -> None:
    assert all(member().wants(k) for k in MEETUP_MAIL | LUNCH_MAIL)
    assert not any(member(meetup_mail=False).wants(k) for k in MEETUP_MAIL)
    assert all(member(meetup_mail=False).wants(k) for k in LUNCH_MAIL)
    assert not any(member(lunch={"mail": False}).wants(k) for k in LUNCH_MAIL)


def test_a_pause_ends_on_its_date() -> None:
    prefs = LunchPrefs(opted_in=True, city="Lisbon", paused_until="2026-11-10")
    assert not prefs.pairable_on(date(2026, 11, 9))
    assert prefs.pairable_on(date(2026, 11, 10)) and prefs.pairable_on(date(2027, 1, 1))
    assert not LunchPrefs(opted_in=False).pairable_on(date(2026, 11, 10))
    assert not LunchPrefs(opted_in=True, paused=True).pairable_on(date(2026, 11, 10))


def test_opting_in_again_turns_lunch_mail_back_on() -> None:
    from chalicelib.models import LunchPrefsPatch

    off = LunchPrefs(opted_in=False, mail=False)
    assert off.merged(LunchPrefsPatch(opted_in=True)).mail is True
    assert off.merged(LunchPrefsPatch(city="Porto")).mail is False
