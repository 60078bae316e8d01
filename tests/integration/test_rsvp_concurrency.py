"""Capacity and promotion under concurrency, on Amazon's own engine (DynamoDB Local).

200 members answer "going" at once for 50 seats; then 10 of those going decline at once.
Capacity must hold exactly, the counters must equal what the RSVP items say, and the seats
freed must go to exactly the first 10 on the waitlist.
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

from chalicelib import deps
from chalicelib.models import GroupIn, MeetupIn, MemberIn, RsvpAnswer
from chalicelib.services import groups, meetups, members, rsvp
from chalicelib.tokens import Claims

SEATS = 50
PEOPLE = 200
THREADS = 32


def _claims(meetup: Any, member_id: str) -> Claims:
    return Claims(purpose="rsvp", group_id=meetup.group_id, member_id=member_id,
                  resource_id=meetup.meetup_id, expires_at=meetup.ends_at + timedelta(days=7))


def _check_counters(meetup_id: str, group_id: str) -> tuple[Any, Counter[str]]:
    store = deps.store()
    meetup = store.meetups.require(group_id, meetup_id)
    rsvps = list(store.rsvps.all(meetup_id))
    by_status = Counter(r.status for r in rsvps)
    assert meetup.going_seats == sum(r.seats for r in rsvps if r.status == "going")
    assert meetup.waitlist_count == by_status["waitlisted"] == len(list(store.rsvps.waitlist(meetup_id)))
    return meetup, by_status


def test_200_answers_for_50_seats_then_10_declines_promote_the_first_10(
        local_table: str, clock: Any, outbox_dir: Path) -> None:
    group, _ = groups.create_group(GroupIn(name="Rush", timezone="Europe/Lisbon", sender_name="Rush",
                                           reply_to="org@example.com"))
    created, _ = members.add_members(group.group_id, [
        MemberIn(email=f"p{i}@example.com", name=f"Person {i}") for i in range(PEOPLE)])
    start = clock.current + timedelta(days=3)
    meetup = meetups.create_meetup(group.group_id, MeetupIn(
        title="Launch party", starts_at=start, ends_at=start + timedelta(hours=2),
        timezone="Europe/Lisbon", online_url="https://meet.example.com/launch", capacity=SEATS))
    ids = [m.member_id for m in created]
    going = RsvpAnswer(status="going")
    deps.store()  # build the shared store (and its thread-safe client) before the threads

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        answers = list(pool.map(lambda mid: rsvp.answer(_claims(meetup, mid), going), ids))
    took = time.monotonic() - began
    assert all(a.changed for a in answers)
    after, by_status = _check_counters(meetup.meetup_id, group.group_id)
    assert by_status == Counter({"going": SEATS, "waitlisted": PEOPLE - SEATS})
    assert after.going_seats == SEATS and after.seats_left == 0
    print(f"200 answers in {took:.1f}s")

    waitlist = [e.member_id for e in deps.store().rsvps.waitlist(meetup.meetup_id)]
    assert len(waitlist) == PEOPLE - SEATS
    leaving = [r.member_id for r in deps.store().rsvps.all(meetup.meetup_id) if r.status == "going"][:10]
    no = RsvpAnswer(status="not_going")
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(lambda mid: rsvp.answer(_claims(meetup, mid), no), leaving))

    after, by_status = _check_counters(meetup.meetup_id, group.group_id)
    assert by_status == Counter({"going": SEATS, "waitlisted": PEOPLE - SEATS - 10, "not_going": 10})
    now_going = {r.member_id for r in deps.store().rsvps.all(meetup.meetup_id) if r.status == "going"}
    assert set(waitlist[:10]) <= now_going
    assert [e.member_id for e in deps.store().rsvps.waitlist(meetup.meetup_id)] == waitlist[10:]
    promoted_mail = list(outbox_dir.glob("*-rsvp_promoted-*.eml"))
    assert len(promoted_mail) == 10
