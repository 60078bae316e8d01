"""The RSVP rules as a pure function: meetup + current RSVP + answer -> Decision. No I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib import errors
from chalicelib.models import Meetup, Rsvp, RsvpAnswer
from chalicelib.services.rsvp import AnswersClosed, Decision, MeetupFull, decide

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
START = NOW + timedelta(days=7)


def meetup(capacity: int | None = 10, going: int = 0, *, waitlist: bool = True, guests: int = 2,
           status: str = "scheduled", closes: datetime | None = None) -> Meetup:
    return Meetup(meetup_id="mtp_x", group_id="grp_x", title="Lunch", starts_at=START,
                  ends_at=START + timedelta(hours=2), timezone="Europe/Lisbon",
                  venue={"name": "Café", "address": "Rua 1"}, capacity=capacity, waitlist=waitlist,
                  guests_allowed=guests, rsvp_closes_at=closes or START, status=status,  # type: ignore[arg-type]
                  going_seats=going, created_at=NOW, updated_at=NOW)


def rsvp(status: str, guests: int = 0) -> Rsvp:
    return Rsvp(meetup_id="mtp_x", member_id="mem_x", group_id="grp_x", status=status,  # type: ignore[arg-type]
                guests=guests, answered_at=NOW - timedelta(hours=1),
                waitlisted_at=NOW - timedelta(hours=1) if status == "waitlisted" else None, version=3)


def going(guests: int = 0) -> RsvpAnswer:
    return RsvpAnswer(status="going", guests=guests)


NOT_GOING = RsvpAnswer(status="not_going")


def test_going_takes_one_seat_plus_guests_while_they_fit() -> None:
    assert decide(meetup(10, 7), None, going(2), NOW) == Decision(
        "going", 2, changed=True, seats_delta=3, room_for=3)


def test_seats_that_do_not_fit_join_the_waitlist_and_must_still_not_fit() -> None:
    d = decide(meetup(10, 8), None, going(2), NOW)
    assert d == Decision("waitlisted", 2, changed=True, wait_delta=1, full_for=3)


def test_a_full_meetup_without_waitlist_says_full() -> None:
    with pytest.raises(MeetupFull) as info:
        decide(meetup(10, 10, waitlist=False), None, going(), NOW)
    assert info.value.status == 409


def test_unlimited_capacity_always_fits() -> None:
    d = decide(meetup(None, 5000), None, going(1), NOW)
    assert d.status == "going" and d.seats_delta == 2


def test_the_same_answer_twice_changes_nothing() -> None:
    assert not decide(meetup(10, 3), rsvp("going", 2), going(2), NOW).changed
    assert not decide(meetup(10, 3), rsvp("not_going"), NOT_GOING, NOW).changed
    assert not decide(meetup(10, 10), rsvp("waitlisted", 1), going(1), NOW).changed


def test_declining_frees_the_seats_and_leaves_the_waitlist() -> None:
    d = decide(meetup(10, 10), rsvp("going", 2), NOT_GOING, NOW)
    assert d.seats_delta == -3 and d.frees_seats and d.status == "not_going"
    d = decide(meetup(10, 10), rsvp("waitlisted", 1), NOT_GOING, NOW)
    assert d.wait_delta == -1 and d.seats_delta == 0 and not d.frees_seats


def test_fewer_guests_frees_seats_more_guests_need_room() -> None:
    d = decide(meetup(10, 10), rsvp("going", 2), going(0), NOW)
    assert d.seats_delta == -2 and d.frees_seats and d.room_for is None
    d = decide(meetup(10, 8), rsvp("going", 0), going(2), NOW)
    assert d.seats_delta == 2 and d.room_for == 2
    with pytest.raises(MeetupFull) as info:
        decide(meetup(10, 9), rsvp("going", 0), going(2), NOW)
    assert info.value.field == "guests"


def test_a_waitlisted_member_who_now_fits_goes_and_leaves_the_waitlist() -> None:
    d = decide(meetup(10, 9), rsvp("waitlisted", 2), going(0), NOW)
    assert d == Decision("going", 0, changed=True, seats_delta=1, wait_delta=-1, room_for=1)


def test_a_waitlisted_member_keeps_the_place_when_guests_change_and_still_do_not_fit() -> None:
    d = decide(meetup(10, 9), rsvp("waitlisted", 1), going(2), NOW)
    assert d == Decision("waitlisted", 2, changed=True, full_for=3)


def test_guests_above_the_allowance_are_refused_naming_guests() -> None:
    with pytest.raises(errors.InvalidInput) as info:
        decide(meetup(guests=1), None, going(2), NOW)
    assert info.value.field == "guests"
    with pytest.raises(errors.InvalidInput):
        decide(meetup(guests=0), None, going(1), NOW)


def test_closed_or_cancelled_meetups_take_no_answer() -> None:
    with pytest.raises(AnswersClosed):
        decide(meetup(closes=NOW), None, going(), NOW)
    with pytest.raises(AnswersClosed):
        decide(meetup(status="cancelled"), rsvp("going"), NOT_GOING, NOW)
    assert decide(meetup(closes=NOW + timedelta(seconds=1)), None, going(), NOW).changed


# ---------------------------------------------------------------- any sequence of answers

_answers = st.lists(st.tuples(st.integers(0, 5), st.sampled_from(["going", "not_going"]),
                              st.integers(0, 2)), max_size=60)


@settings(max_examples=300, deadline=None)
@given(capacity=st.integers(1, 6), waitlist=st.booleans(), steps=_answers)
def test_applying_decisions_never_exceeds_capacity_and_keeps_counters_true(
        capacity: int, waitlist: bool, steps: list[tuple[int, str, int]]) -> None:
    """Six members answering in any order: the seats going never pass capacity, and the
    counters the decisions produce equal what the RSVPs themselves add up to."""
    m = meetup(capacity, 0, waitlist=waitlist, guests=2)
    rsvps: dict[int, Rsvp] = {}
    waitlist_count = 0
    for who, choice, guests in steps:
        try:
            d = decide(m, rsvps.get(who), RsvpAnswer(status=choice, guests=guests), NOW)  # type: ignore[arg-type]
        except MeetupFull:
            continue
        if not d.changed:
            continue
        if d.room_for is not None:
            assert m.going_seats + d.room_for <= capacity  # what the transaction re-checks
        if d.full_for is not None:
            assert m.going_seats + d.full_for > capacity
        m = m.model_copy(update={"going_seats": m.going_seats + d.seats_delta})
        waitlist_count += d.wait_delta
        rsvps[who] = rsvp(d.status, d.guests)
        assert 0 <= m.going_seats <= capacity
        assert m.going_seats == sum(r.seats for r in rsvps.values() if r.status == "going")
        assert waitlist_count == sum(1 for r in rsvps.values() if r.status == "waitlisted")
        assert waitlist or waitlist_count == 0
