"""Meetups: create, read, list, change, cancel. RSVP notices hang off `after_change`/`after_cancel`."""

from __future__ import annotations

from typing import Any

from chalicelib import deps, errors, ids
from chalicelib.models import Meetup, MeetupIn, MeetupPatch

_TIME_OR_PLACE = ("starts_at", "ends_at", "timezone", "venue", "online_url")


def create_meetup(group_id: str, data: MeetupIn) -> Meetup:
    now = deps.now()
    fields = data.model_dump()
    fields["rsvp_closes_at"] = data.rsvp_closes_at or data.starts_at
    meetup = Meetup(meetup_id=ids.new_id("mtp"), group_id=group_id, created_at=now,
                    updated_at=now, **fields)
    deps.store().meetups.create(meetup)
    return meetup


def get_meetup(group_id: str, meetup_id: str) -> Meetup:
    return deps.store().meetups.require(group_id, meetup_id)


def list_meetups(group_id: str, *, upcoming: bool, limit: int,
                 cursor: str | None) -> tuple[list[Meetup], str | None]:
    return deps.store().meetups.page(group_id, upcoming=upcoming, now=deps.now(), limit=limit,
                                     cursor=cursor)


def update_meetup(group_id: str, meetup_id: str, patch: MeetupPatch) -> Meetup:
    """Apply an organizer's change, checked as a whole; a new time or place raises the
    calendar SEQUENCE (and, with RSVPs, mails an update to everyone going or waitlisted)."""
    for attempt in range(3):
        current = deps.store().meetups.require(group_id, meetup_id)
        if current.status == "cancelled":
            raise errors.Conflict("the meetup is cancelled and can no longer change", field="status")
        given = patch.model_dump(exclude_unset=True)
        for required in ("title", "starts_at", "ends_at", "timezone", "waitlist", "guests_allowed", "visibility"):
            if required in given and given[required] is None:
                raise errors.InvalidInput("cannot be null", field=required)
        merged: dict[str, Any] = {name: getattr(current, name) for name in MeetupIn.model_fields}
        if ("rsvp_closes_at" not in given and "starts_at" in given
                and current.rsvp_closes_at == current.starts_at):
            merged["rsvp_closes_at"] = None  # it followed the start: keep following it
        merged.update(given)
        checked = MeetupIn.model_validate(merged)
        new_fields = checked.model_dump()
        new_fields["rsvp_closes_at"] = checked.rsvp_closes_at or checked.starts_at
        changes = {k: v for k, v in new_fields.items() if getattr(current, k) != v}
        if not changes:
            return current
        changes["updated_at"] = deps.now()
        moved = any(k in changes for k in _TIME_OR_PLACE)
        try:
            updated = deps.store().meetups.update(current, changes, bump_sequence=moved)
        except errors.StaleWrite:
            if attempt == 2:
                raise errors.Unavailable("The meetup is changing; try again.") from None
            continue
        after_change(current, updated, moved=moved)
        return updated
    raise AssertionError("unreachable")


def cancel_meetup(group_id: str, meetup_id: str, reason: str | None = None) -> Meetup:
    """Cancel once; cancelling again answers the cancelled meetup and sends nothing. `reason`
    (the console's) is told in everyone's cancellation email."""
    current = deps.store().meetups.require(group_id, meetup_id)
    cancelled = deps.store().meetups.cancel(current, deps.now(), reason or None)
    if cancelled is None:
        return deps.store().meetups.require(group_id, meetup_id)
    after_cancel(cancelled, reason=reason or None)
    return cancelled


def after_change(before: Meetup, after: Meetup, *, moved: bool) -> None:
    """Hook for what follows a change: notices and waitlist promotion (the RSVP feature)."""
    from chalicelib.services import rsvp

    rsvp.after_change(before, after, moved=moved)


def after_cancel(meetup: Meetup, *, reason: str | None = None) -> None:
    """Hook for what follows a cancellation: notices (the RSVP feature)."""
    from chalicelib.services import rsvp

    rsvp.after_cancel(meetup, reason=reason)
