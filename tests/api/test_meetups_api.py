"""Meetups through HTTP: create with validation, zones and offsets, lists, patch, cancel."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def meetup_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Founders breakfast", "description": "Coffee and intros.",
        "starts_at": "2026-12-03T08:30:00", "ends_at": "2026-12-03T10:00:00",
        "timezone": "Europe/Lisbon",
        "venue": {"name": "Café A Brasileira", "address": "Rua Garrett 120, Lisboa"},
        "capacity": 20, "guests_allowed": 1,
    }
    body.update(overrides)
    return body


def test_create_meetup_reads_naive_times_in_its_zone_and_answers_with_offset(org: Any) -> None:
    r = org.post("meetups", meetup_body(timezone="America/New_York"))
    assert r.status_code == 201, r.data
    m = r.data
    assert m["starts_at"] == "2026-12-03T08:30:00-05:00"
    assert m["rsvp_closes_at"] == m["starts_at"]
    assert (m["going_count"], m["waitlist_count"], m["seats_left"]) == (0, 0, 20)
    assert m["waitlist"] is True and m["status"] == "scheduled"
    assert org.get(f"meetups/{m['meetup_id']}").data == m


def test_create_meetup_accepts_explicit_offsets_across_dst(org: Any) -> None:
    # 29 March 2026: Europe/Berlin moves from +01:00 to +02:00.
    r = org.post("meetups", meetup_body(timezone="Europe/Berlin", starts_at="2026-03-29T00:30:00Z",
                                        ends_at="2026-03-29T02:30:00Z", rsvp_closes_at=None))
    assert r.status_code == 201
    assert r.data["starts_at"] == "2026-03-29T01:30:00+01:00"
    assert r.data["ends_at"] == "2026-03-29T04:30:00+02:00"


def test_meetup_validation_names_the_field_and_stores_nothing(org: Any) -> None:
    cases = [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"description": "x" * 5001}, "description"),
        ({"ends_at": "2026-12-03T08:00:00"}, "ends_at"),
        ({"timezone": "Europe/Atlantis"}, "timezone"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": 100_001}, "capacity"),
        ({"guests_allowed": 6}, "guests_allowed"),
        ({"online_url": "http://meet.example.com/x"}, "online_url"),
        ({"online_url": "javascript:alert(1)"}, "online_url"),
        ({"rsvp_closes_at": "2026-12-03T09:00:00"}, "rsvp_closes_at"),
        ({"venue": None}, "venue"),
        ({"starts_at": "next tuesday"}, "starts_at"),
        ({"waitlist": "maybe"}, "waitlist"),
    ]
    for change, field in cases:
        r = org.post("meetups", meetup_body(**change))
        assert r.status_code == 400, change
        assert r.data["error"]["field"] == field, (change, r.data)
    assert org.get("meetups").data["items"] == []


def test_online_meetup_with_unlimited_capacity(org: Any) -> None:
    r = org.post("meetups", meetup_body(venue=None, online_url="https://meet.example.com/abc",
                                        capacity=None))
    assert r.status_code == 201
    assert r.data["seats_left"] is None and r.data["online_url"] == "https://meet.example.com/abc"


def test_upcoming_and_past_lists_use_time_order_and_pages(org: Any, clock: Any) -> None:
    # The clock is 2 Nov 2026 09:00 UTC.
    days = [5, 1, 20, 12]
    for day in days:
        org.post("meetups", meetup_body(title=f"Day {day}", starts_at=f"2026-11-{day:02}T12:00:00",
                                        ends_at=f"2026-11-{day:02}T13:00:00", rsvp_closes_at=None))
    upcoming = org.get("meetups?when=upcoming&limit=2")
    assert [m["title"] for m in upcoming.data["items"]] == ["Day 5", "Day 12"]
    rest = org.get(f"meetups?when=upcoming&limit=2&cursor={upcoming.data['next_cursor']}")
    assert [m["title"] for m in rest.data["items"]] == ["Day 20"]
    assert [m["title"] for m in org.get("meetups?when=past").data["items"]] == ["Day 1"]
    clock.set(datetime.fromisoformat("2026-11-15T00:00:00+00:00"))
    assert [m["title"] for m in org.get("meetups?when=past").data["items"]] == ["Day 12", "Day 5", "Day 1"]
    assert org.get("meetups?when=tomorrow").data["error"]["field"] == "when"


def test_patch_meetup_rechecks_the_whole_and_raises_sequence_on_time_or_place(org: Any) -> None:
    m = org.post("meetups", meetup_body()).data
    r = org.patch(f"meetups/{m['meetup_id']}", {"title": "Founders breakfast (2nd)"})
    assert r.status_code == 200 and r.data["sequence"] == 0
    r = org.patch(f"meetups/{m['meetup_id']}", {"starts_at": "2026-12-03T09:00:00"})
    assert r.status_code == 200
    assert r.data["sequence"] == 1
    assert r.data["rsvp_closes_at"] == r.data["starts_at"]  # it followed the start
    r = org.patch(f"meetups/{m['meetup_id']}", {"starts_at": "2026-12-03T11:00:00"})
    assert r.status_code == 400 and r.data["error"]["field"] == "ends_at"
    r = org.patch(f"meetups/{m['meetup_id']}", {"title": None})
    assert r.status_code == 400 and r.data["error"]["field"] == "title"
    assert org.get(f"meetups/{m['meetup_id']}").data["starts_at"] == "2026-12-03T09:00:00+00:00"


def test_cancel_is_idempotent_and_freezes_the_meetup(org: Any) -> None:
    m = org.post("meetups", meetup_body()).data
    first = org.post(f"meetups/{m['meetup_id']}/cancel")
    assert first.status_code == 200 and first.data["status"] == "cancelled"
    again = org.post(f"meetups/{m['meetup_id']}/cancel")
    assert again.status_code == 200 and again.data["sequence"] == first.data["sequence"]
    r = org.patch(f"meetups/{m['meetup_id']}", {"title": "Back on"})
    assert r.status_code == 409 and r.data["error"]["field"] == "status"


def test_another_groups_key_gets_404_on_meetups_and_nothing_changes(org: Any, other_org: Any) -> None:
    m = org.post("meetups", meetup_body()).data
    mid = m["meetup_id"]
    for method, path, body in [("GET", f"meetups/{mid}", None), ("PATCH", f"meetups/{mid}", {"title": "X"}),
                               ("POST", f"meetups/{mid}/cancel", None), ("GET", "meetups", None),
                               ("POST", "meetups", meetup_body())]:
        assert org.call(method, f"{org.base}/{path}", body, key=other_org.api_key).status_code == 404
    assert org.get(f"meetups/{mid}").data == m
    assert other_org.get(f"{other_org.base}/meetups/{mid}").status_code == 404
    assert org.get("meetups/mtp_nope").status_code == 404
