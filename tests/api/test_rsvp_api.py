"""RSVPs end to end through HTTP (moto): invitations by email, the member's page and answer,
capacity and the waitlist, notices on change and cancellation, lists, CSV, check-in, reminders.

Members act only through links taken from the .eml files the outbox writes, as they would.
"""

from __future__ import annotations

import csv
import email
import email.policy
import io
import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import icalendar
import pytest

from chalicelib import deps

LINK = re.compile(r"https://lunch\.example\.test(/rsvp/[A-Za-z0-9_.\-]+)")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


# ---------------------------------------------------------------- helpers


def mails(outbox_dir: Path, kind: str | None = None, to: str | None = None) -> list[EmailMessage]:
    found = []
    for path in sorted(outbox_dir.glob("*.eml")) if outbox_dir.exists() else []:
        if kind is not None and f"-{kind}-" not in path.name:
            continue
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if to is not None and to not in str(message["To"]):
            continue
        found.append(message)  # type: ignore[arg-type]
    return found


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def calendar_of(message: EmailMessage) -> icalendar.Calendar | None:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return icalendar.Calendar.from_ical(part.get_payload(decode=True))
    return None


def event_of(cal: icalendar.Calendar) -> Any:
    return next(iter(cal.walk("VEVENT")))


def link_in(message: EmailMessage) -> str:
    match = LINK.search(text_of(message))
    assert match, text_of(message)
    return match.group(1)


class Member:
    def __init__(self, http: Any, data: dict[str, Any], outbox_dir: Path) -> None:
        self.http = http
        self.member_id = data["member_id"]
        self.email = data["email"]
        self.name = data["name"]
        self.outbox_dir = outbox_dir

    def mails(self, kind: str | None = None) -> list[EmailMessage]:
        return mails(self.outbox_dir, kind, self.email)

    @property
    def link(self) -> str:
        invites = self.mails("rsvp_invite")
        assert invites, f"no invitation for {self.email}"
        return link_in(invites[-1])

    def page(self, path: str | None = None) -> Any:
        return self.http.get(path or self.link)

    def answer(self, choice: str, guests: int | None = None, *, link: str | None = None) -> Any:
        form = {"answer": choice, **({"guests": str(guests)} if guests is not None else {})}
        return self.http.post(link or self.link, headers=FORM, body=urlencode(form).encode())


def body(response: Any) -> str:
    return response.body.decode() if isinstance(response.body, bytes) else str(response.body)


def new_meetup(org: Any, **over: Any) -> dict[str, Any]:
    data = {"title": "Founders' lunch", "description": "Bring a question.\n\nAnd an answer.",
            "starts_at": "2026-11-10T12:30:00", "ends_at": "2026-11-10T14:00:00",
            "timezone": "Europe/Lisbon", "venue": {"name": "Café Tati", "address": "Rua da Ribeira Nova 36"},
            "capacity": 2, "guests_allowed": 1, **over}
    r = org.post("meetups", data)
    assert r.status_code == 201, r.data
    return dict(r.data)


def new_members(org: Any, client: Any, outbox_dir: Path, n: int, **over: Any) -> list[Member]:
    r = org.post("members", {"members": [{"email": f"m{i}@example.com", "name": f"Member {i}", **over}
                                         for i in range(n)]})
    assert r.status_code == 201, r.data
    by_email = {m["email"]: m for m in r.data["created"]}
    return [Member(client.http, by_email[f"m{i}@example.com"], outbox_dir) for i in range(n)]


def invite(org: Any, meetup: dict[str, Any], members: list[Member] | None = None) -> Any:
    payload = {} if members is None else {"member_ids": [m.member_id for m in members]}
    return org.post(f"meetups/{meetup['meetup_id']}/invitations", payload)


def get_meetup(org: Any, meetup: dict[str, Any]) -> dict[str, Any]:
    return dict(org.get(f"meetups/{meetup['meetup_id']}").data)


def statuses(org: Any, meetup: dict[str, Any]) -> dict[str, str]:
    r = org.get(f"meetups/{meetup['meetup_id']}/rsvps?limit=200")
    assert r.status_code == 200
    return {row["name"]: row["status"] for row in r.data["items"]}


@pytest.fixture
def people(org: Any, client: Any, outbox_dir: Path) -> list[Member]:
    return new_members(org, client, outbox_dir, 6)


# ---------------------------------------------------------------- invitations and the page


def test_invitations_reach_each_subscribed_member_once(org: Any, client: Any, outbox_dir: Path,
                                                       people: list[Member]) -> None:
    org.patch(f"members/{people[5].member_id}", {"subscribed": False})
    meetup = new_meetup(org)
    r = invite(org, meetup)
    assert r.status_code == 202 and r.data == {"job_id": r.data["job_id"], "status": "queued"}
    assert r.headers["Location"] == f"/groups/{org.group_id}/jobs/{r.data['job_id']}"
    job = org.get(f"jobs/{r.data['job_id']}").data
    counts = ("status", "total", "recorded", "sent", "skipped", "failed")
    assert tuple(job[k] for k in counts) == ("done", 6, 5, 5, 1, 0)  # the unsubscribed one skipped
    assert len(mails(outbox_dir, "rsvp_invite")) == 5
    assert not people[5].mails()
    for again in (invite(org, meetup), invite(org, meetup, people[:2]),
                  org.post(f"meetups/{meetup['meetup_id']}/invitations", {"all": True})):
        assert again.status_code == 202
        job = org.get(f"jobs/{again.data['job_id']}").data
        assert job["status"] == "done" and job["recorded"] == job["sent"] == 0, job
    assert len(mails(outbox_dir, "rsvp_invite")) == 5
    message = people[0].mails("rsvp_invite")[0]
    assert message["From"].addresses[0].display_name == "Lisbon Founders"
    assert "Founders' lunch" in message["Subject"]
    text = text_of(message)
    assert "Tuesday 10 November 2026, 12:30–14:00 WET (UTC+00:00)" in text
    assert "Café Tati, Rua da Ribeira Nova 36" in text
    assert calendar_of(message) is None  # no answer yet: nothing for the calendar


def test_invitations_name_bad_member_ids_and_send_nothing(org: Any, outbox_dir: Path,
                                                          people: list[Member], other_org: Any) -> None:
    meetup = new_meetup(org)
    r = org.post(f"meetups/{meetup['meetup_id']}/invitations",
                 {"member_ids": [people[0].member_id, "mem_" + "0" * 26]})
    assert r.status_code == 400 and r.data["error"]["field"] == "member_ids"
    r = org.post(f"meetups/{meetup['meetup_id']}/invitations", {"member_ids": "everyone"})
    assert r.status_code == 400 and r.data["error"]["field"] == "member_ids"
    r = org.post(f"meetups/{meetup['meetup_id']}/invitations", {"member_ids": []})
    assert r.status_code == 400 and r.data["error"]["field"] == "member_ids"
    r = org.post(f"meetups/{meetup['meetup_id']}/invitations", raw=b"[1]")
    assert r.status_code == 400
    r = other_org.post(f"/groups/{org.group_id}/meetups/{meetup['meetup_id']}/invitations", {})
    assert r.status_code == 404
    assert not mails(outbox_dir)


def test_rsvp_routes_of_unknown_or_foreign_meetups_answer_404(org: Any, other_org: Any,
                                                               people: list[Member]) -> None:
    meetup = new_meetup(org)
    mid = meetup["meetup_id"]
    for path in (f"meetups/{mid}/rsvps", f"meetups/{mid}/rsvps.csv",
                 f"meetups/{mid}/rsvps/{people[0].member_id}/check-in"):
        method = other_org.post if path.endswith("check-in") else other_org.get
        assert method(f"/groups/{org.group_id}/{path}").status_code == 404
        r = method(f"/groups/{other_org.group_id}/{path}")
        assert r.status_code == 404 and r.data["error"]["field"] == "meetup_id"
    assert org.get("meetups/mtp_nope/rsvps").status_code == 404


def test_an_expired_link_gets_a_410_page(org: Any, clock: Any, people: list[Member]) -> None:
    meetup = new_meetup(org)
    invite(org, meetup, people[:1])
    link = people[0].link
    clock.set(clock.current.replace(day=17, hour=15))  # a week after the meetup ended
    r = people[0].http.get(link)
    assert r.status_code == 410 and "This link has expired" in body(r)
    assert people[0].answer("going", link=link).status_code == 410


def test_the_page_shows_the_meetup_and_get_changes_nothing(org: Any, people: list[Member]) -> None:
    meetup = new_meetup(org)
    invite(org, meetup, people[:1])
    r = people[0].page()
    assert r.status_code == 200
    html = body(r)
    assert "Founders&#39; lunch" in html
    assert "Tuesday 10 November 2026, 12:30–14:00 WET (UTC+00:00)" in html
    assert "Café Tati, Rua da Ribeira Nova 36" in html
    assert "2 left" in html and "Hi Member, will you join us?" in html
    assert '<label for="guests">' in html and 'name="answer" value="going"' in html
    assert r.headers["Cache-Control"] == "no-store" and "script-src" not in r.headers["Content-Security-Policy"]
    r = people[0].page(people[0].link + "?answer=going")
    assert re.search(r'value="going" required checked', body(r))
    assert get_meetup(org, meetup)["going_count"] == 0
    assert statuses(org, meetup) == {}


def test_going_records_seats_and_mails_a_calendar_request(org: Any, people: list[Member]) -> None:
    meetup = new_meetup(org, capacity=5)
    invite(org, meetup, people[:1])
    r = people[0].answer("going", 1)
    assert r.status_code == 200
    html = body(r)
    assert "you're going with 1 guest" in html and "3 left" in html
    assert f'href="https://lunch.example.test{people[0].link}/meetup.ics"' in html
    m = get_meetup(org, meetup)
    assert (m["going_count"], m["seats_left"], m["waitlist_count"]) == (2, 3, 0)
    [confirmation] = people[0].mails("rsvp_confirmation")
    assert "You're going" in confirmation["Subject"]
    cal = calendar_of(confirmation)
    assert cal is not None and str(cal["METHOD"]) == "REQUEST"
    event = event_of(cal)
    assert str(event["UID"]) == f"{meetup['meetup_id']}@powerlunch"
    assert int(event["SEQUENCE"]) == 0
    assert str(event["ORGANIZER"]) == "mailto:organizer@example.com"
    assert str(event["ATTENDEE"]) == f"mailto:{people[0].email}"
    assert "12:30" in text_of(confirmation) and "Café Tati" in text_of(confirmation)


def test_the_same_answer_twice_writes_nothing_and_mails_nothing(org: Any, people: list[Member]) -> None:
    meetup = new_meetup(org, capacity=5)
    invite(org, meetup, people[:1])
    people[0].answer("going", 1)
    r = people[0].answer("going", 1)
    assert r.status_code == 200 and "already your answer" in body(r)
    assert len(people[0].mails("rsvp_confirmation")) == 1
    assert get_meetup(org, meetup)["going_count"] == 2
    people[0].answer("going", 0)
    assert get_meetup(org, meetup)["going_count"] == 1
    assert len(people[0].mails("rsvp_confirmation")) == 2


def test_guests_beyond_the_allowance_are_refused_naming_guests(org: Any, people: list[Member]) -> None:
    meetup = new_meetup(org, capacity=5, guests_allowed=1)
    invite(org, meetup, people[:1])
    for guests in ("2", "-1", "lots"):
        r = people[0].http.post(people[0].link, headers=FORM,
                                body=urlencode({"answer": "going", "guests": guests}).encode())
        assert r.status_code == 400, guests
        assert "Guests:" in body(r)
    r = people[0].http.post(people[0].link, headers=FORM, body=b"answer=maybe")
    assert r.status_code == 400 and "Choose going or not going" in body(r)
    assert get_meetup(org, meetup)["going_count"] == 0
    assert not people[0].mails("rsvp_confirmation")


def test_tampered_and_wrong_purpose_links_get_a_403_page(org: Any, people: list[Member]) -> None:
    meetup = new_meetup(org)
    invite(org, meetup, people[:1])
    link = people[0].link
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    for path in (tampered, tampered + "/meetup.ics"):
        r = people[0].http.get(path)
        assert r.status_code == 403 and "This link doesn" in body(r)
    r = people[0].answer("going", link=tampered)
    assert r.status_code == 403
    from chalicelib import links

    unsubscribe = links.unsubscribe_url(org.group_id, people[0].member_id)
    r = people[0].http.get("/rsvp/" + unsubscribe.rsplit("/", 1)[1])
    assert r.status_code == 403
    assert get_meetup(org, meetup)["going_count"] == 0


def test_calendar_download_is_a_publish_file(org: Any, people: list[Member]) -> None:
    meetup = new_meetup(org)
    invite(org, meetup, people[:1])
    r = people[0].http.get(people[0].link + "/meetup.ics")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert r.headers["Content-Disposition"] == 'attachment; filename="founders-lunch.ics"'
    cal = icalendar.Calendar.from_ical(r.body)
    assert str(cal["METHOD"]) == "PUBLISH"
    event = event_of(cal)
    assert "ATTENDEE" not in event and str(event["UID"]) == f"{meetup['meetup_id']}@powerlunch"


# ---------------------------------------------------------------- capacity and the waitlist


def test_waitlist_promotes_the_earliest_that_fit_in_order(org: Any, clock: Any,
                                                         people: list[Member]) -> None:
    a, b, c, d, e, f = people
    meetup = new_meetup(org, capacity=2, guests_allowed=1)
    invite(org, meetup)
    assert a.answer("going").status_code == 200
    assert b.answer("going").status_code == 200
    for member, guests in ((c, 0), (d, 1), (e, 0)):
        clock.advance(minutes=1)
        r = member.answer("going", guests)
        assert r.status_code == 200 and "on the waitlist" in body(r)
        [note] = member.mails("rsvp_confirmation")
        assert "waitlist" in note["Subject"] and calendar_of(note) is None
    m = get_meetup(org, meetup)
    assert (m["going_count"], m["seats_left"], m["waitlist_count"]) == (2, 0, 3)
    assert "Full, waitlist open" in body(f.page())

    a.answer("not_going")  # one seat: C is first and fits
    assert statuses(org, meetup)["Member 2"] == "going"
    [promoted] = c.mails("rsvp_promoted")
    cal = calendar_of(promoted)
    assert cal is not None and str(cal["METHOD"]) == "REQUEST"
    assert str(event_of(cal)["ATTENDEE"]) == f"mailto:{c.email}"
    assert "you're going" in body(c.page())

    b.answer("not_going")  # one seat: D needs two, so E (next that fits) goes
    s = statuses(org, meetup)
    assert (s["Member 3"], s["Member 4"]) == ("waitlisted", "going")
    assert not d.mails("rsvp_promoted") and e.mails("rsvp_promoted")

    r = org.patch(f"meetups/{meetup['meetup_id']}", {"capacity": 4})  # two more: D fits now
    assert r.status_code == 200
    assert statuses(org, meetup)["Member 3"] == "going"
    assert len(d.mails("rsvp_promoted")) == 1
    m = get_meetup(org, meetup)
    assert (m["going_count"], m["waitlist_count"]) == (4, 0)


def test_without_a_waitlist_a_full_meetup_says_full(org: Any, people: list[Member]) -> None:
    meetup = new_meetup(org, capacity=1, waitlist=False)
    invite(org, meetup)
    people[0].answer("going")
    r = people[1].answer("going")
    assert r.status_code == 409 and "full" in body(r).lower()
    assert statuses(org, meetup) == {"Member 0": "going"}
    assert not people[1].mails("rsvp_confirmation")


def test_a_member_who_unsubscribed_can_still_answer_but_gets_no_mail(org: Any,
                                                                      people: list[Member]) -> None:
    meetup = new_meetup(org)
    invite(org, meetup, people[:1])
    org.patch(f"members/{people[0].member_id}", {"subscribed": False})
    assert people[0].answer("going").status_code == 200
    assert statuses(org, meetup) == {"Member 0": "going"}
    assert not people[0].mails("rsvp_confirmation")


# ---------------------------------------------------------------- closed and cancelled


def test_after_the_close_time_the_page_says_so_and_takes_no_answer(org: Any, clock: Any,
                                                                   people: list[Member]) -> None:
    meetup = new_meetup(org, rsvp_closes_at="2026-11-09T18:00:00")
    invite(org, meetup)
    people[0].answer("going")
    assert "Answers close Monday 9 November 2026, 18:00" in body(people[1].page())
    clock.set(clock.current.replace(year=2026, month=11, day=9, hour=18, minute=0))
    html = body(people[1].page())
    assert "Answers for this meetup are closed" in html and "<form" not in html
    r = people[0].answer("not_going")
    assert r.status_code == 409 and "closed" in body(r)
    assert statuses(org, meetup) == {"Member 0": "going"}
    assert len(people[0].mails("rsvp_confirmation")) == 1


def test_cancelling_tells_going_and_waitlisted_once_with_a_cancel(org: Any, outbox_dir: Path,
                                                                  people: list[Member]) -> None:
    a, b, c, d = people[:4]
    meetup = new_meetup(org, capacity=1)
    invite(org, meetup)
    a.answer("going")
    b.answer("going")  # waitlisted
    c.answer("not_going")
    assert org.post(f"meetups/{meetup['meetup_id']}/cancel").status_code == 200
    assert org.post(f"meetups/{meetup['meetup_id']}/cancel").status_code == 200
    assert len(mails(outbox_dir, "meetup_cancelled")) == 2
    for member in (a, b):
        [notice] = member.mails("meetup_cancelled")
        cal = calendar_of(notice)
        assert cal is not None and str(cal["METHOD"]) == "CANCEL"
        event = event_of(cal)
        assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 1
        assert "Café Tati" in text_of(notice)
    html = body(d.page())
    assert "Cancelled: Founders" in html and "<form" not in html
    r = d.answer("going")
    assert r.status_code == 409
    assert "d@" not in str(statuses(org, meetup))
    assert "Member 3" not in statuses(org, meetup)


def test_a_new_time_or_place_mails_an_update_with_a_higher_sequence(org: Any, outbox_dir: Path,
                                                                    people: list[Member]) -> None:
    a, b, c = people[:3]
    meetup = new_meetup(org, capacity=1)
    invite(org, meetup)
    a.answer("going")
    b.answer("going")  # waitlisted
    c.answer("not_going")
    mid = meetup["meetup_id"]
    org.patch(f"meetups/{mid}", {"title": "Founders' long lunch"})
    assert not mails(outbox_dir, "meetup_updated")
    org.patch(f"meetups/{mid}", {"starts_at": "2026-11-10T13:00:00", "ends_at": "2026-11-10T15:00:00"})
    [update] = a.mails("meetup_updated")
    cal = calendar_of(update)
    assert cal is not None and str(cal["METHOD"]) == "REQUEST"
    assert int(event_of(cal)["SEQUENCE"]) == 1
    assert "Time: was Tuesday 10 November 2026, 12:30–14:00" in text_of(update)
    [note] = b.mails("meetup_updated")
    assert calendar_of(note) is None and "still on the waitlist" in text_of(note)
    assert not c.mails("meetup_updated")
    org.patch(f"meetups/{mid}", {"venue": {"name": "Time Out Market", "address": "Av. 24 de Julho"}})
    updates = a.mails("meetup_updated")
    assert len(updates) == 2
    sequences = sorted(int(event_of(calendar_of(u))["SEQUENCE"]) for u in updates)  # type: ignore[arg-type]
    assert sequences == [1, 2]
    # Later confirmations carry the current SEQUENCE, so calendars do not go back in time.
    org.patch(f"meetups/{mid}", {"guests_allowed": 1, "capacity": 3})
    assert a.answer("going", 1).status_code == 200
    confirmations = a.mails("rsvp_confirmation")
    assert len(confirmations) == 2
    assert max(int(event_of(calendar_of(m))["SEQUENCE"]) for m in confirmations) == 2  # type: ignore[arg-type]


# ---------------------------------------------------------------- organizer lists


def test_rsvp_list_pages_filters_and_shows_erased_members_as_stubs(org: Any, clock: Any,
                                                                   people: list[Member]) -> None:
    meetup = new_meetup(org, capacity=3)
    invite(org, meetup)
    for i, member in enumerate(people[:5]):
        clock.advance(minutes=1)
        member.answer("going" if i != 1 else "not_going")
    mid = meetup["meetup_id"]
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        r = org.get(f"meetups/{mid}/rsvps?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert r.status_code == 200 and len(r.data["items"]) <= 2
        seen += r.data["items"]
        cursor = r.data["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and len({row["member_id"] for row in seen}) == 5
    row = next(r for r in seen if r["name"] == "Member 0")
    assert row["email"] == "m0@example.com" and row["guests"] == 0 and row["checked_in_at"] is None
    assert row["answered_at"].endswith("+00:00")
    r = org.get(f"meetups/{mid}/rsvps?status=going")
    assert [x["name"] for x in r.data["items"]] == ["Member 0", "Member 2", "Member 3"]
    r = org.get(f"meetups/{mid}/rsvps?status=waitlisted")
    assert [x["name"] for x in r.data["items"]] == ["Member 4"]
    assert org.get(f"meetups/{mid}/rsvps?status=maybe").data["error"]["field"] == "status"
    assert org.get(f"meetups/{mid}/rsvps?limit=0").data["error"]["field"] == "limit"
    assert org.get(f"meetups/{mid}/rsvps?cursor=nonsense").data["error"]["field"] == "cursor"
    assert org.delete(f"members/{people[2].member_id}").status_code == 204
    r = org.get(f"meetups/{mid}/rsvps?status=going")
    stub = r.data["items"][1]
    assert stub == {**stub, "name": "Former member", "email": None, "status": "going"}


def test_rsvp_csv_has_every_row_and_is_safe_in_a_spreadsheet(org: Any, client: Any, outbox_dir: Path) -> None:
    people = new_members(org, client, outbox_dir, 3)
    org.patch(f"members/{people[1].member_id}", {"name": "=HYPERLINK(\"http://x\")"})
    meetup = new_meetup(org, capacity=None)
    invite(org, meetup)
    for member in people:
        member.answer("going")
    r = org.get(f"meetups/{meetup['meetup_id']}/rsvps.csv")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert r.headers["Content-Disposition"].startswith("attachment; filename=")
    rows = list(csv.reader(io.StringIO(body(r))))
    assert rows[0] == ["member_id", "name", "email", "status", "guests", "answered_at", "checked_in_at"]
    assert len(rows) == 4
    names = {row[1] for row in rows[1:]}
    assert "'=HYPERLINK(\"http://x\")" in names and not any(n.startswith("=") for n in names)
    assert org.get(f"meetups/{meetup['meetup_id']}/rsvps.csv", key="pl.bad.key").status_code == 401


def test_check_in_is_recorded_once_and_only_for_people_going(org: Any, clock: Any,
                                                             people: list[Member]) -> None:
    meetup = new_meetup(org)
    invite(org, meetup)
    people[0].answer("going")
    people[1].answer("not_going")
    path = f"meetups/{meetup['meetup_id']}/rsvps/{{}}/check-in"
    r = org.post(path.format(people[0].member_id))
    assert r.status_code == 200 and r.data["checked_in_at"] is not None
    first = r.data["checked_in_at"]
    clock.advance(minutes=5)
    r = org.post(path.format(people[0].member_id))
    assert r.status_code == 200 and r.data["checked_in_at"] == first
    r = org.post(path.format(people[1].member_id))
    assert r.status_code == 409 and r.data["error"]["field"] == "status"
    r = org.post(path.format(people[2].member_id))
    assert r.status_code == 404
    r = org.post(path.format("nonsense"))
    assert r.status_code == 404


# ---------------------------------------------------------------- reminders


def test_reminders_go_once_to_people_going_about_a_day_before(org: Any, client: Any, clock: Any,
                                                              people: list[Member]) -> None:
    from chalicelib.services import schedules

    meetup = new_meetup(org, capacity=1)
    invite(org, meetup)
    people[0].answer("going")
    people[1].answer("going")  # waitlisted
    assert schedules.run_hourly(deps.now())["meetup_reminders"] == 0
    # The meetup starts 2026-11-10 12:30 UTC: the run at 11:00 the day before is too early
    # (23-25 h ahead), the runs at 12:00 and 13:00 both hand it to the RSVP worker, and its
    # dedupe key makes it one reminder.
    clock.set(clock.current.replace(day=9, hour=11, minute=0))
    assert schedules.run_hourly(deps.now())["meetup_reminders"] == 0
    assert not people[0].mails("meetup_reminder")
    clock.advance(hours=1)
    assert schedules.run_hourly(deps.now())["meetup_reminders"] == 1
    assert len(people[0].mails("meetup_reminder")) == 1
    clock.advance(hours=1)
    assert schedules.run_hourly(deps.now())["meetup_reminders"] == 1
    client.lambda_.invoke("hourly", client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]))
    [reminder] = people[0].mails("meetup_reminder")
    assert "Reminder: Founders' lunch" in reminder["Subject"] and "Café Tati" in text_of(reminder)
    assert not people[1].mails("meetup_reminder")


def test_a_moved_meetup_is_reminded_at_its_new_time(org: Any, clock: Any, people: list[Member]) -> None:
    from chalicelib.services import rsvp

    meetup = new_meetup(org)
    invite(org, meetup)
    people[0].answer("going")
    org.patch(f"meetups/{meetup['meetup_id']}", {"starts_at": "2026-11-12T12:30:00",
                                                 "ends_at": "2026-11-12T14:00:00"})
    clock.set(clock.current.replace(day=9, hour=12, minute=0))
    assert rsvp.reminders_due(deps.now()) == []
    clock.set(clock.current.replace(day=11, hour=12, minute=0))
    [due] = rsvp.reminders_due(deps.now())
    assert rsvp.remind_work(due) == 1


# ---------------------------------------------------------------- round trips


def test_an_answer_reads_once_and_writes_once(org: Any, people: list[Member],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.services import outbox

    meetup = new_meetup(org, capacity=5)
    invite(org, meetup, people[:1])
    calls: list[str] = []
    dispatched: list[Any] = []
    # Delivery runs in the mail worker in AWS, not in the request: count only the request.
    monkeypatch.setattr(outbox, "dispatch", dispatched.extend)
    events = deps.dynamodb_client().meta.events
    handler = lambda model, **kw: calls.append(model.name)  # noqa: E731
    events.register("before-call.dynamodb", handler)
    try:
        people[0].answer("going", 1)
    finally:
        events.unregister("before-call.dynamodb", handler)
    # One consistent BatchGetItem (group, member, meetup, own RSVP), one transaction that also
    # records the confirmation (transactional outbox); the page is rendered from what it knows.
    assert calls == ["BatchGetItem", "TransactWriteItems"]
    assert [m.kind for m in dispatched] == ["rsvp_confirmation"]
    assert deps.store().outbox.get(dispatched[0].group_id, dispatched[0].member_id,
                                   dispatched[0].mail_id) is not None
