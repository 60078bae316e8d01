"""What the organizer console does to meetups beyond the JSON API: duplicate one a week or a
month later, and message the people going or waitlisted, once."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from chalicelib import deps, errors
from chalicelib.models import Meetup, MeetupIn, MeetupMessageIn
from chalicelib.services import meetups, outbox, rsvp

Step = Literal["week", "month"]


def shifted(at: datetime, zone: str, step: Step) -> datetime:
    """The same local wall time a week or a calendar month later (31 January + a month is the
    last day of February), so a 19:00 meetup stays at 19:00 across a DST change."""
    local = at.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    if step == "week":
        moved = local + timedelta(days=7)
    else:
        year, month = divmod(local.month, 12)
        year, month = local.year + year, month + 1
        moved = local.replace(year=year, month=month, day=min(local.day, calendar.monthrange(year, month)[1]))
    return moved.replace(tzinfo=ZoneInfo(zone))


def duplicate_meetup(group_id: str, meetup_id: str, step: Step) -> Meetup:
    """A new meetup like this one, a week or a month later; RSVPs and counters start empty.
    Answers close as long before the start as they did on the original."""
    original = meetups.get_meetup(group_id, meetup_id)
    fields: dict[str, Any] = {name: getattr(original, name) for name in MeetupIn.model_fields}
    zone = original.timezone
    fields["starts_at"] = shifted(original.starts_at, zone, step)
    fields["ends_at"] = shifted(original.ends_at, zone, step)
    # The same lead time, not the closing date moved: 30 January + a month would land on the
    # 28 February start of a copy of a 31 January meetup.
    lead = original.starts_at - original.rsvp_closes_at
    fields["rsvp_closes_at"] = None if not lead else fields["starts_at"] - lead
    return meetups.create_meetup(group_id, MeetupIn.model_validate(fields))


@dataclass(frozen=True)
class Messaged:
    recipients: int  # going/waitlisted members this message is for
    queued: int  # emails recorded now (0 when the same message was sent before)


def message_attendees(group_id: str, meetup_id: str, given: MeetupMessageIn) -> Messaged:
    """Record the organizer's note for each member going and/or waitlisted, through the outbox.
    The dedupe key holds the form's message id, so sending the form again sends nothing twice."""
    store = deps.store()
    meetup = store.meetups.require(group_id, meetup_id)
    if meetup.status == "cancelled":
        raise errors.Conflict("the meetup is cancelled; everyone had its cancellation email", field="status")
    group = store.groups.require(group_id)
    wanted = {"going"} if given.going else set()
    if given.waitlisted:
        wanted.add("waitlisted")
    rsvps = [r for r in store.rsvps.all(meetup_id) if r.status in wanted]
    members = {m.member_id: m for m in store.members.get_many(group_id, [r.member_id for r in rsvps])}
    view = rsvp.meetup_view(meetup)
    batch = [(members[r.member_id],
              outbox.email("meetup_message", f"meetup_message:{meetup_id}:{given.message_id}:{r.member_id}",
                           group, members[r.member_id], meetup=view, note=given.note, status=r.status,
                           rsvp_url=rsvp.rsvp_url(meetup, r.member_id)))
             for r in rsvps if r.member_id in members]
    return Messaged(recipients=len(batch), queued=outbox.queue_many(group, batch))
