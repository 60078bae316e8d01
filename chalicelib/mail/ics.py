"""Calendar files (.ics, RFC 5545 / iTIP RFC 5546) for meetups, built with icalendar.

Times are written in the meetup's own zone (TZID=...) with a matching VTIMEZONE generated
from zoneinfo, so a calendar shows the local time the organiser chose and moves it right
across a DST change. No I/O: bytes out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event, vCalAddress, vText

PRODID: Final = "-//powerlunch//meetups//EN"
Method = Literal["REQUEST", "PUBLISH", "CANCEL"]
# A VTIMEZONE needs only the transitions around the event; a year either side keeps it small
# while covering any client that expands it a little beyond the event.
_TZ_MARGIN: Final = timedelta(days=366)


@dataclass(frozen=True)
class CalendarEvent:
    """One meetup as a calendar sees it. uid is stable per meetup; sequence rises on every
    change of time or place (the caller keeps it)."""

    uid: str
    sequence: int
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    location: str | None
    url: str | None
    organizer_name: str
    organizer_email: str
    cancelled: bool = False


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _address(name: str, email: str) -> vCalAddress:
    if not email or any(c in email for c in "\r\n:; "):
        raise ValueError(f"not a usable email address: {email!r}")
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["CN"] = vText(name)
    return address


def _check(event: CalendarEvent, method: str, attendees: Sequence[tuple[str, str]]) -> None:
    for name, value in (("starts_at", event.starts_at), ("ends_at", event.ends_at)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware")
    if event.ends_at <= event.starts_at:
        raise ValueError("ends_at must be after starts_at")
    if not event.uid or not event.title:
        raise ValueError("uid and title are required")
    if event.sequence < 0:
        raise ValueError("sequence must not be negative")
    if method not in ("REQUEST", "PUBLISH", "CANCEL"):
        raise ValueError(f"unsupported METHOD {method!r}")
    if method == "REQUEST" and not attendees:
        raise ValueError("METHOD:REQUEST needs the attendee it is sent to")
    if method == "REQUEST" and event.cancelled:
        raise ValueError("a cancelled meetup is sent with METHOD:CANCEL, not REQUEST")


def calendar_bytes(
    event: CalendarEvent,
    *,
    method: Method,
    attendee: tuple[str, str] | None = None,
    attendees: Sequence[tuple[str, str]] = (),
    dtstamp: datetime,
) -> bytes:
    """The .ics for one meetup or lunch.

    REQUEST: an invitation to one member (ORGANIZER + that ATTENDEE, already accepted, no
    reply wanted; a lunch lists everyone at the table in `attendees`). CANCEL: removes the
    meetup from a calendar (STATUS:CANCELLED). PUBLISH: the plain download, no attendees.
    """
    everyone = [attendee, *attendees] if attendee is not None else list(attendees)
    _check(event, method, everyone)
    if dtstamp.tzinfo is None or dtstamp.utcoffset() is None:
        raise ValueError("dtstamp must be timezone-aware")
    zone = _zone(event.timezone)
    starts_at = event.starts_at.astimezone(zone)
    ends_at = event.ends_at.astimezone(zone)

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)

    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("sequence", event.sequence)
    vevent.add("dtstamp", dtstamp.astimezone(ZoneInfo("UTC")))
    vevent.add("dtstart", starts_at)
    vevent.add("dtend", ends_at)
    vevent.add("summary", event.title)
    if event.description:
        vevent.add("description", event.description)
    if event.location:
        vevent.add("location", event.location)
    if event.url:
        vevent.add("url", event.url)
    cancelled = event.cancelled or method == "CANCEL"
    vevent.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    vevent.add("transp", "OPAQUE")
    vevent.add("organizer", _address(event.organizer_name, event.organizer_email))
    for name, email in everyone if method != "PUBLISH" else ():
        member = _address(name, email)
        member.params["CUTYPE"] = "INDIVIDUAL"
        member.params["ROLE"] = "REQ-PARTICIPANT"
        member.params["PARTSTAT"] = "ACCEPTED"
        member.params["RSVP"] = "FALSE"
        vevent.add("attendee", member)
    calendar.add_component(vevent)

    calendar.add_missing_timezones(
        first_date=(starts_at - _TZ_MARGIN).date(),
        last_date=(ends_at + _TZ_MARGIN).date(),
    )
    data: bytes = calendar.to_ical()
    return data
