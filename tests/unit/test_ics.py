from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event

from chalicelib.mail.ics import CalendarEvent, calendar_bytes

BERLIN = ZoneInfo("Europe/Berlin")
STAMP = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

EVENT = CalendarEvent(
    uid="mtg_01JQ0000000000000000000002@powerlunch",
    sequence=0,
    title="Product people lunch",
    description="Bring one question and one introduction you can make.",
    starts_at=datetime(2026, 3, 26, 12, 30, tzinfo=BERLIN),
    ends_at=datetime(2026, 3, 26, 14, 0, tzinfo=BERLIN),
    timezone="Europe/Berlin",
    location="Café Zürich, Hauptstraße 1, 10827 Berlin",
    url="https://lunch.example/rsvp/abc.def",
    organizer_name='Berlin "Product", Lunch',
    organizer_email="organizer@lunch.example",
)
MEMBER = ("Zoë O'Neil", "zoe@example.org")


def parse(data: bytes) -> tuple[Calendar, Event]:
    calendar = Calendar.from_ical(data)
    events = calendar.events
    assert len(events) == 1
    return calendar, events[0]


def test_request_has_organizer_attendee_and_required_properties() -> None:
    data = calendar_bytes(EVENT, method="REQUEST", attendee=MEMBER, dtstamp=STAMP)
    calendar, event = parse(data)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"])
    assert str(event["SUMMARY"]) == EVENT.title
    assert str(event["DESCRIPTION"]) == EVENT.description
    assert str(event["LOCATION"]) == EVENT.location
    assert str(event["URL"]) == EVENT.url
    assert str(event["STATUS"]) == "CONFIRMED"
    organizer = event["ORGANIZER"]
    assert str(organizer) == "mailto:organizer@lunch.example"
    assert organizer.params["CN"] == 'Berlin "Product", Lunch'
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:zoe@example.org"
    assert attendee.params["CN"] == "Zoë O'Neil"
    assert attendee.params["PARTSTAT"] == "ACCEPTED"
    assert attendee.params["RSVP"] == "FALSE"
    assert event.decoded("DTSTAMP") == STAMP


def test_uid_is_stable_and_sequence_is_as_given() -> None:
    first = parse(
        calendar_bytes(EVENT, method="REQUEST", attendee=MEMBER, dtstamp=STAMP)
    )[1]
    moved = replace(EVENT, sequence=3, starts_at=EVENT.starts_at + timedelta(hours=1))
    second = parse(
        calendar_bytes(
            moved, method="REQUEST", attendee=MEMBER, dtstamp=STAMP + timedelta(days=1)
        )
    )[1]
    assert str(first["UID"]) == str(second["UID"]) == EVENT.uid
    assert int(first["SEQUENCE"]) == 0
    assert int(second["SEQUENCE"]) == 3


def test_cancel_has_method_cancel_and_status_cancelled() -> None:
    cancelled = replace(EVENT, sequence=4, cancelled=True)
    calendar, event = parse(
        calendar_bytes(cancelled, method="CANCEL", attendee=MEMBER, dtstamp=STAMP)
    )
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == EVENT.uid
    assert int(event["SEQUENCE"]) == 4


def test_publish_is_a_plain_download_without_attendees() -> None:
    calendar, event = parse(calendar_bytes(EVENT, method="PUBLISH", dtstamp=STAMP))
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert "ATTENDEE" not in event
    assert "ORGANIZER" in event


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        # the Thursday before and the Monday after the switch to summer time (29 March 2026)
        (datetime(2026, 3, 26, 12, 30), datetime(2026, 3, 26, 11, 30, tzinfo=UTC)),
        (datetime(2026, 3, 30, 12, 30), datetime(2026, 3, 30, 10, 30, tzinfo=UTC)),
        # the day of the switch itself, and autumn on both sides of 25 October 2026
        (datetime(2026, 3, 29, 12, 30), datetime(2026, 3, 29, 10, 30, tzinfo=UTC)),
        (datetime(2026, 10, 22, 12, 30), datetime(2026, 10, 22, 10, 30, tzinfo=UTC)),
        (datetime(2026, 11, 5, 12, 30), datetime(2026, 11, 5, 11, 30, tzinfo=UTC)),
    ],
)
def test_berlin_times_round_trip_across_dst(local: datetime, utc: datetime) -> None:
    event_in = replace(
        EVENT,
        starts_at=local.replace(tzinfo=BERLIN),
        ends_at=local.replace(tzinfo=BERLIN) + timedelta(hours=1),
    )
    data = calendar_bytes(event_in, method="REQUEST", attendee=MEMBER, dtstamp=STAMP)
    calendar, event = parse(data)
    assert b"DTSTART;TZID=Europe/Berlin:" in data
    assert [tz.tz_name for tz in calendar.timezones] == ["Europe/Berlin"]
    assert calendar.get_missing_tzids() == set()
    assert event.start.astimezone(UTC) == utc
    assert event.end.astimezone(UTC) == utc + timedelta(hours=1)
    # also when the VTIMEZONE, not zoneinfo, has to be believed
    rules = calendar.timezones[0].to_tz()
    assert event.start.replace(tzinfo=None).replace(tzinfo=rules).astimezone(UTC) == utc


def test_utc_input_is_written_in_the_meetup_zone() -> None:
    event_in = replace(
        EVENT,
        starts_at=datetime(2026, 11, 5, 11, 30, tzinfo=UTC),
        ends_at=datetime(2026, 11, 5, 12, 30, tzinfo=UTC),
    )
    data = calendar_bytes(event_in, method="PUBLISH", dtstamp=STAMP)
    assert b"DTSTART;TZID=Europe/Berlin:20261105T123000" in data


def test_crlf_line_endings_and_folded_lines() -> None:
    long = replace(EVENT, description="Intros, asks and offers. " * 20)
    data = calendar_bytes(long, method="REQUEST", attendee=MEMBER, dtstamp=STAMP)
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    assert parse(data)[1]["DESCRIPTION"] == long.description


def test_online_meetup_without_location_or_url() -> None:
    online = replace(EVENT, location=None, url=None)
    event = parse(calendar_bytes(online, method="PUBLISH", dtstamp=STAMP))[1]
    assert "LOCATION" not in event
    assert "URL" not in event


@pytest.mark.parametrize(
    ("event", "method", "attendee"),
    [
        (EVENT, "REQUEST", None),
        (replace(EVENT, cancelled=True), "REQUEST", MEMBER),
        (replace(EVENT, ends_at=EVENT.starts_at), "PUBLISH", None),
        (replace(EVENT, timezone="Mars/Olympus"), "PUBLISH", None),
        (replace(EVENT, starts_at=datetime(2026, 3, 26, 12, 30)), "PUBLISH", None),
        (EVENT, "REQUEST", ("Eve", "eve@example.org\r\nX-Evil: 1")),
    ],
)
def test_bad_input_is_refused(
    event: CalendarEvent, method: str, attendee: tuple[str, str] | None
) -> None:
    with pytest.raises(ValueError):
        calendar_bytes(event, method=method, attendee=attendee, dtstamp=STAMP)  # type: ignore[arg-type]
