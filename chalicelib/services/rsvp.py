"""RSVPs: answer (seats, waitlist, promotion), invitations, notices after a change or a
cancellation, check-in, reminders, and the organizer's lists.

The rules are `decide` (pure: meetup + current RSVP + answer in, a Decision out); the store
writes each decision in one transaction with the meetup's counters, so capacity holds under
any concurrency. A lost race re-reads and decides again, a bounded number of times.
"""

from __future__ import annotations

import csv
import io
import logging
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib import deps, errors, links, observe, timeutil, workers
from chalicelib.models import Group, Meetup, Member, Rsvp, RsvpAnswer, RsvpStatus
from chalicelib.store.rsvps import Snapshot, WaitEntryGone
from chalicelib.tokens import Claims

if TYPE_CHECKING:  # icalendar loads when a calendar is first made, not at import
    from chalicelib.mail.ics import CalendarEvent, Method

log = logging.getLogger(__name__)

MAX_TRIES = 12
REMINDER_WINDOW = (timedelta(hours=23), timedelta(hours=25))


class AnswersClosed(errors.Conflict):
    """Raised when a member answers after rsvp_closes_at or once the meetup is cancelled."""

    code = "closed"


class MeetupFull(errors.Conflict):
    """Raised when the seats asked for do not fit and there is no waitlist to join."""

    code = "full"


# ---------------------------------------------------------------- the rules (pure)


@dataclass(frozen=True)
class Decision:
    """What an answer does. room_for / full_for are what the transaction must re-check on the
    meetup: that many seats still fit (going) / still do not fit (waitlisted)."""

    status: RsvpStatus
    guests: int
    changed: bool
    seats_delta: int = 0
    wait_delta: int = 0
    room_for: int | None = None
    full_for: int | None = None

    @property
    def frees_seats(self) -> bool:
        return self.seats_delta < 0


def decide(meetup: Meetup, current: Rsvp | None, answer: RsvpAnswer, now: datetime) -> Decision:
    """Seats = 1 + guests; going while they fit, else the waitlist (or MeetupFull without one);
    the same answer again changes nothing; closed or cancelled meetups take no answer."""
    if meetup.status == "cancelled":
        raise AnswersClosed("this meetup is cancelled", field="status")
    if not meetup.is_open(now):
        raise AnswersClosed("answers for this meetup are closed", field="status")
    status = current.status if current is not None else None
    if answer.status == "not_going":
        if status == "not_going":
            return Decision("not_going", 0, changed=False)
        if status == "going":
            assert current is not None
            return Decision("not_going", 0, changed=True, seats_delta=-current.seats)
        if status == "waitlisted":
            return Decision("not_going", 0, changed=True, wait_delta=-1)
        return Decision("not_going", 0, changed=True)

    guests = answer.guests
    if guests > meetup.guests_allowed:
        allowed = meetup.guests_allowed
        raise errors.InvalidInput(
            "guests are not allowed at this meetup" if allowed == 0
            else f"at most {allowed} guest{'s' if allowed != 1 else ''} per member", field="guests")
    seats = 1 + guests
    left = meetup.seats_left
    if current is not None and status == "going":
        delta = seats - current.seats
        if delta == 0:
            return Decision("going", guests, changed=False)
        if delta < 0 or left is None:
            return Decision("going", guests, changed=True, seats_delta=delta,
                            room_for=delta if delta > 0 else None)
        if delta > left:
            raise MeetupFull(f"only {left} more seat{'s' if left != 1 else ''} free: you can bring "
                             f"at most {current.guests + left} guests", field="guests")
        return Decision("going", guests, changed=True, seats_delta=delta, room_for=delta)
    waiting = current is not None and status == "waitlisted"
    if left is None or seats <= left:
        return Decision("going", guests, changed=True, seats_delta=seats,
                        wait_delta=-1 if waiting else 0, room_for=seats)
    if waiting:
        assert current is not None
        return Decision("waitlisted", guests, changed=guests != current.guests, full_for=seats)
    if not meetup.waitlist:
        raise MeetupFull("the meetup is full", field="status")
    return Decision("waitlisted", guests, changed=True, wait_delta=1, full_for=seats)


def _next_rsvp(meetup: Meetup, member_id: str, current: Rsvp | None, decision: Decision,
               now: datetime) -> Rsvp:
    waitlisted_at = None
    if decision.status == "waitlisted":
        waitlisted_at = current.waitlisted_at if current and current.waitlisted_at else now
    return Rsvp(meetup_id=meetup.meetup_id, member_id=member_id, group_id=meetup.group_id,
                status=decision.status, guests=decision.guests, answered_at=now,
                waitlisted_at=waitlisted_at,
                checked_in_at=current.checked_in_at if current else None,
                version=current.version + 1 if current else 1)


def _backoff(attempt: int) -> None:
    # Full jitter: racing answers spread out instead of colliding again in step.
    time.sleep(random.uniform(0, min(0.5, 0.01 * 2 ** attempt)))


# ---------------------------------------------------------------- member pages


@dataclass(frozen=True)
class Answered:
    group: Group
    member: Member
    meetup: Meetup
    rsvp: Rsvp | None
    changed: bool


def _require(snapshot: Snapshot) -> tuple[Group, Member, Meetup]:
    if snapshot.group is None or snapshot.member is None or snapshot.meetup is None:
        raise errors.NotFound("this meetup or member no longer exists")
    return snapshot.group, snapshot.member, snapshot.meetup


def view(claims: Claims) -> Answered:
    """What the RSVP page shows: one BatchGetItem, no writes (mail scanners open links)."""
    snapshot = deps.store().rsvps.load(claims.group_id, claims.resource_id, claims.member_id)
    group, member, meetup = _require(snapshot)
    return Answered(group, member, meetup, snapshot.rsvp, changed=False)


def answer(claims: Claims, given: RsvpAnswer) -> Answered:
    """Record a member's answer in two round trips: one BatchGetItem, then one transaction that
    changes the RSVP, the meetup's counters and records the confirmation email (a transactional
    outbox: the answer and its email commit together). Freed seats go to the waitlist in the
    background (`request_promotion`): the member's request does not do other people's work."""
    from chalicelib.services import outbox

    store = deps.store()
    for attempt in range(MAX_TRIES):
        snapshot = store.rsvps.load(claims.group_id, claims.resource_id, claims.member_id)
        group, member, meetup = _require(snapshot)
        now = deps.now()
        decision = decide(meetup, snapshot.rsvp, given, now)
        if not decision.changed:
            return Answered(group, member, meetup, snapshot.rsvp, changed=False)
        after = _next_rsvp(meetup, member.member_id, snapshot.rsvp, decision, now)
        record, mail = outbox.record_action(group, member, _confirmation(group, member, meetup,
                                                                         snapshot.rsvp, after))
        try:
            store.rsvps.commit(meetup, snapshot.rsvp, after, seats_delta=decision.seats_delta,
                               wait_delta=decision.wait_delta, room_for=decision.room_for,
                               full_for=decision.full_for, extra=[record])
        except errors.StaleWrite:
            _backoff(attempt)
            continue
        observe.count(observe.RSVPS, status=after.status)
        outbox.dispatch([mail])
        meetup = meetup.model_copy(update={
            "going_seats": meetup.going_seats + decision.seats_delta,
            "waitlist_count": meetup.waitlist_count + decision.wait_delta})
        if decision.frees_seats and meetup.waitlist_count > 0:
            request_promotion(meetup)
        return Answered(group, member, meetup, after, changed=True)
    raise errors.Unavailable("Many people are answering at once; please try again.")


def request_promotion(meetup: Meetup) -> None:
    """Seats were freed: promote from the waitlist in the worker (SQS in AWS, which retries a
    failed promotion; inline locally and in tests)."""
    workers.send("rsvp.promote", group_id=meetup.group_id, meetup_id=meetup.meetup_id)


def promote_work(body: dict[str, Any]) -> list[Rsvp]:
    """The RSVP worker's side of `request_promotion`."""
    group = deps.store().groups.get(str(body["group_id"]))
    return [] if group is None else promote_waitlist(group, str(body["meetup_id"]))


def promote_waitlist(group: Group, meetup_id: str) -> list[Rsvp]:
    """Give free seats to the earliest waitlisted members that fit, in order, each in its own
    transaction (conditional on the entry still being there and the seats still fitting, and
    recording the member's notice), and email each. Safe to run concurrently: a lost race on one
    entry moves on to the next."""
    from chalicelib.services import outbox

    store = deps.store()
    promoted: list[Rsvp] = []
    for attempt in range(MAX_TRIES):
        meetup = store.meetups.get(group.group_id, meetup_id)
        if meetup is None or meetup.status != "scheduled" or meetup.waitlist_count <= 0:
            return promoted
        left = meetup.seats_left
        if left == 0:
            return promoted
        stale = False
        for entry in store.rsvps.waitlist(meetup_id):
            if left is not None and entry.seats > left:
                continue
            member = store.members.get(group.group_id, entry.member_id)
            extra: list[dict[str, Any]] = []
            mail = None
            if member is not None:
                notice = _email("rsvp_promoted",
                                f"rsvp_promoted:{meetup_id}:{member.member_id}:{entry.version + 1}",
                                group, member, meetup, method="REQUEST", guests=entry.guests)
                record, mail = outbox.record_action(group, member, notice)
                extra.append(record)
            try:
                rsvp = store.rsvps.promote(meetup, entry, deps.now(), extra=extra)
            except WaitEntryGone:
                continue
            except errors.StaleWrite:
                stale = True
                break
            if mail is not None:
                outbox.dispatch([mail])
            promoted.append(rsvp)
            if left is not None:
                left -= entry.seats
                if left <= 0:
                    return promoted
        if not stale:
            return promoted
        _backoff(attempt)
    log.warning("promotion for %s gave up after %d tries", meetup_id, MAX_TRIES)
    return promoted


# ---------------------------------------------------------------- email


def meetup_view(meetup: Meetup) -> dict[str, Any]:
    """The meetup as templates see it (see the context notes in templates/pages/rsvp.html)."""
    place = f"{meetup.venue['name']}, {meetup.venue['address']}" if meetup.venue else None
    return {"title": meetup.title, "description": meetup.description,
            "starts_at": meetup.starts_at, "ends_at": meetup.ends_at,
            "timezone": meetup.timezone, "place": place, "online_url": meetup.online_url,
            "cancel_reason": meetup.cancel_reason}


def calendar_event(group: Group, meetup: Meetup) -> CalendarEvent:
    """One stable UID per meetup; SEQUENCE is the meetup's, raised on each change of time or place."""
    from chalicelib.mail.ics import CalendarEvent

    place = meetup_view(meetup)["place"]
    return CalendarEvent(
        uid=f"{meetup.meetup_id}@powerlunch", sequence=meetup.sequence, title=meetup.title,
        description=meetup.description, starts_at=meetup.starts_at, ends_at=meetup.ends_at,
        timezone=meetup.timezone, location=place or meetup.online_url, url=meetup.online_url,
        organizer_name=group.sender_name,
        organizer_email=group.reply_to or deps.settings().sender_email,
        cancelled=meetup.status == "cancelled")


def calendar(group: Group, meetup: Meetup, method: Method, member: Member | None = None) -> bytes:
    from chalicelib.mail.ics import calendar_bytes

    attendee = (member.name, member.email) if member is not None and method != "PUBLISH" else None
    return calendar_bytes(calendar_event(group, meetup), method=method, attendee=attendee,
                          dtstamp=deps.now())


def rsvp_url(meetup: Meetup, member_id: str) -> str:
    return links.rsvp_url(meetup.group_id, meetup.meetup_id, member_id, meetup.ends_at)


def _email(kind: str, dedupe_key: str, group: Group, member: Member, meetup: Meetup, *,
           method: Method | None = None, **context: Any) -> Any:
    """An email about this meetup: its details, the member's RSVP link, and the calendar entry
    for `method` when given."""
    from chalicelib.services import outbox

    return outbox.email(kind, dedupe_key, group, member, meetup=meetup_view(meetup),
                        rsvp_url=rsvp_url(meetup, member.member_id),
                        calendar=calendar(group, meetup, method, member) if method else None,
                        calendar_method=method, **context)


def _confirmation(group: Group, member: Member, meetup: Meetup, before: Rsvp | None,
                  after: Rsvp) -> Any:
    """The confirmation of an answer. Going: an invitation for the calendar; leaving after
    going: take it off the calendar; waitlisted: no calendar entry until promoted."""
    method: Method | None = None
    if after.status == "going":
        method = "REQUEST"
    elif before is not None and before.status == "going":
        method = "CANCEL"
    return _email("rsvp_confirmation",
                  f"rsvp_confirmation:{meetup.meetup_id}:{member.member_id}:{after.version}",
                  group, member, meetup, method=method, status=after.status, guests=after.guests)


def _members_by_id(group_id: str, member_ids: Iterable[str]) -> dict[str, Member]:
    return {m.member_id: m for m in deps.store().members.get_many(group_id, list(member_ids))}


# ---------------------------------------------------------------- organizer: invitations


def require_invitable(group_id: str, meetup_id: str) -> Meetup:
    """The meetup, if invitations to it can go out now: not cancelled, answers still open."""
    meetup = deps.store().meetups.require(group_id, meetup_id)
    if meetup.status == "cancelled":
        raise AnswersClosed("the meetup is cancelled", field="status")
    if not meetup.is_open(deps.now()):
        raise AnswersClosed("answers for this meetup are closed", field="rsvp_closes_at")
    return meetup


def invitations(group: Group, meetup: Meetup, members: Sequence[Member]) -> list[tuple[Member, Any]]:
    """A personal RSVP email to each member (the jobs worker records them, a page at a time)."""
    return [(m, _email("rsvp_invite", f"rsvp_invite:{meetup.meetup_id}:{m.member_id}", group, m,
                       meetup, guests_allowed=meetup.guests_allowed))
            for m in members]


# ---------------------------------------------------------------- organizer: change, cancel


def _changes(before: Meetup, after: Meetup) -> list[str]:
    from chalicelib.mail.render import format_when

    changes = []
    if (before.starts_at, before.ends_at, before.timezone) != (after.starts_at, after.ends_at, after.timezone):
        changes.append(f"Time: was {format_when(before.starts_at, before.ends_at, before.timezone)}")
    if (before.venue, before.online_url) != (after.venue, after.online_url):
        old = meetup_view(before)
        was = ", online: ".join(p for p in (old["place"], old["online_url"]) if p) or "to be announced"
        changes.append(f"Place: was {was}")
    return changes


def after_change(before: Meetup, after: Meetup, *, moved: bool) -> None:
    """A new time or place: an updated invitation (REQUEST, higher SEQUENCE) to everyone going
    and a note to the waitlist. More room or a waitlist switch: promote from the waitlist."""
    from chalicelib.services import outbox

    store = deps.store()
    group = store.groups.require(after.group_id)
    if moved:
        if before.starts_at != after.starts_at:
            store.rsvps.delete_start(before)
        store.rsvps.put_start(after)
        rsvps = [r for r in store.rsvps.all(after.meetup_id) if r.status in ("going", "waitlisted")]
        members = _members_by_id(group.group_id, [r.member_id for r in rsvps])
        changes = _changes(before, after)
        batch = [(members[r.member_id],
                  _email("meetup_updated",
                         f"meetup_updated:{after.meetup_id}:{r.member_id}:{after.sequence}",
                         group, members[r.member_id], after,
                         method="REQUEST" if r.status == "going" else None,
                         changes=changes, status=r.status))
                 for r in rsvps if r.member_id in members]
        outbox.queue_many(group, batch)
    grew = (after.capacity is None and before.capacity is not None) or (
        after.capacity is not None and before.capacity is not None and after.capacity > before.capacity)
    if grew or before.waitlist != after.waitlist:
        request_promotion(after)


def after_cancel(meetup: Meetup, *, reason: str | None = None) -> None:
    """Tell everyone going or waitlisted, once, with a METHOD:CANCEL calendar entry (and the
    organizer's reason, when given)."""
    from chalicelib.services import outbox

    store = deps.store()
    group = store.groups.require(meetup.group_id)
    store.rsvps.delete_start(meetup)
    rsvps = [r for r in store.rsvps.all(meetup.meetup_id) if r.status in ("going", "waitlisted")]
    members = _members_by_id(group.group_id, [r.member_id for r in rsvps])
    batch = [(members[r.member_id],
              _email("meetup_cancelled", f"meetup_cancelled:{meetup.meetup_id}:{r.member_id}",
                     group, members[r.member_id], meetup, method="CANCEL", reason=reason))
             for r in rsvps if r.member_id in members]
    outbox.queue_many(group, batch)


# ---------------------------------------------------------------- organizer: lists, check-in


def _row(rsvp: Rsvp, member: Member | None, zone: str) -> dict[str, Any]:
    return {"member_id": rsvp.member_id,
            "name": member.name if member else "Former member",
            "email": member.email if member else None,
            "status": rsvp.status, "guests": rsvp.guests,
            "answered_at": timeutil.in_zone(rsvp.answered_at, zone).isoformat(),
            "checked_in_at": (timeutil.in_zone(rsvp.checked_in_at, zone).isoformat()
                              if rsvp.checked_in_at else None)}


def list_rsvps(group_id: str, meetup_id: str, status: RsvpStatus | None, *, limit: int,
               cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """One page of RSVPs with each member's name and email (joined with one BatchGetItem)."""
    store = deps.store()
    meetup = store.meetups.require(group_id, meetup_id)
    rsvps, next_cursor = store.rsvps.page(meetup_id, status, limit=limit, cursor=cursor)
    members = _members_by_id(group_id, [r.member_id for r in rsvps])
    return [_row(r, members.get(r.member_id), meetup.timezone) for r in rsvps], next_cursor


CSV_FIELDS = ("member_id", "name", "email", "status", "guests", "answered_at", "checked_in_at")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet runs cells starting with these as formulas (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def rsvps_csv(group_id: str, meetup_id: str, status: RsvpStatus | None) -> str:
    """Every RSVP (all pages) as CSV with a header row; cells safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    cursor: str | None = None
    while True:
        rows, cursor = list_rsvps(group_id, meetup_id, status, limit=200, cursor=cursor)
        for row in rows:
            writer.writerow([_cell(row[f]) for f in CSV_FIELDS])
        if cursor is None:
            return out.getvalue()


def check_in(group_id: str, meetup_id: str, member_id: str) -> dict[str, Any]:
    """Record that a member who is going came (once; checking in again changes nothing)."""
    store = deps.store()
    meetup = store.meetups.require(group_id, meetup_id)
    now = deps.now()
    rsvp = store.rsvps.check_in(meetup_id, member_id, now)
    if rsvp.checked_in_at == now:  # newly here: they met everyone checked in (the introduce page)
        from chalicelib.services import intros

        intros.met_at_meetup(group_id, meetup_id, member_id)
    return _row(rsvp, store.members.get(group_id, member_id), meetup.timezone)


# ---------------------------------------------------------------- reminders


def reminders_due(now: datetime) -> list[dict[str, str]]:
    """Hourly: the meetups starting in about a day, as ids for the RSVP worker. A meetup is in
    two runs' windows; the reminders' dedupe keys make it one email each."""
    lower, upper = now + REMINDER_WINDOW[0], now + REMINDER_WINDOW[1]
    return [{"group_id": group_id, "meetup_id": meetup_id}
            for group_id, meetup_id in deps.store().rsvps.starting_between(lower, upper)]


def scheduled_in(body: dict[str, Any]) -> tuple[Group, Meetup] | None:
    """The group and meetup a worker message names, while the meetup is still scheduled (None
    when an id is missing, either is gone, or the meetup was cancelled)."""
    group_id, meetup_id = body.get("group_id"), body.get("meetup_id")
    if not isinstance(group_id, str) or not isinstance(meetup_id, str):
        return None
    store = deps.store()
    group, meetup = store.groups.get(group_id), store.meetups.get(group_id, meetup_id)
    if group is None or meetup is None or meetup.status != "scheduled":
        return None
    return group, meetup


def remind_work(body: dict[str, Any]) -> int:
    """The RSVP worker: one reminder to everyone going to this meetup, if it is still about a
    day away. Answers how many were queued."""
    from chalicelib.services import outbox

    store, now = deps.store(), deps.now()
    lower, upper = now + REMINDER_WINDOW[0], now + REMINDER_WINDOW[1]
    found = scheduled_in(body)
    if found is None or not lower - timedelta(hours=1) <= found[1].starts_at < upper:
        return 0
    group, meetup = found
    group_id, meetup_id = group.group_id, meetup.meetup_id
    going = [r for r in store.rsvps.all(meetup_id) if r.status == "going"]
    members = _members_by_id(group_id, [r.member_id for r in going])
    stamp = timeutil.to_store(meetup.starts_at)
    batch = [(members[r.member_id],
              _email("meetup_reminder", f"meetup_reminder:{meetup_id}:{r.member_id}:{stamp}",
                     group, members[r.member_id], meetup, guests=r.guests))
             for r in going if r.member_id in members]
    return outbox.queue_many(group, batch)
