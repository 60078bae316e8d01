"""Console meetup pages (issue 13): create, edit, duplicate, cancel with a reason the email
carries, message attendees once, a meetup's people (filter, check-in, CSV), invitations and the
job's progress; hostile input gets an error beside the field and changes nothing; every POST
needs the session's CSRF token."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chalicelib import deps
from chalicelib.models import Meetup, MemberIn, RsvpAnswer
from chalicelib.services import members, rsvp
from chalicelib.tokens import Claims
from tests.api.console_pages import Console, error_beside, mails, text_of

FORM: dict[str, str] = {
    "title": "Founders breakfast", "description": "Coffee and intros.",
    "starts_at": "2026-12-03T08:30", "ends_at": "2026-12-03T10:00", "timezone": "Europe/Lisbon",
    "venue_name": "Café A Brasileira", "venue_address": "Rua Garrett 120, Lisboa", "online_url": "",
    "capacity": "2", "waitlist": "on", "guests_allowed": "0", "rsvp_closes_at": "", "visibility": "members",
}


@pytest.fixture
def con(client: Any, org: Any, outbox_dir: Path) -> Console:
    return Console(client, org.group_id, outbox_dir)


def stored(con: Console) -> list[Meetup]:
    up, _ = deps.store().meetups.page(con.group_id, upcoming=True, now=deps.now(), limit=100, cursor=None)
    past, _ = deps.store().meetups.page(con.group_id, upcoming=False, now=deps.now(), limit=100, cursor=None)
    return up + past


def create(con: Console, **changes: str) -> Meetup:
    response = con.post("/meetups", {**FORM, **changes})
    assert response.status_code == 303, con.text(response)
    found = re.fullmatch(rf"{con.base}/meetups/(mtp_\w+)\?done=created", response.headers["Location"])
    assert found
    return deps.store().meetups.require(con.group_id, found.group(1))


def answer(meetup: Meetup, name: str, status: str = "going") -> str:
    created, _ = members.add_members(meetup.group_id, [MemberIn(email=f"{name.lower()}@example.com", name=name)])
    member_id = created[0].member_id
    claims = Claims(purpose="rsvp", group_id=meetup.group_id, member_id=member_id, resource_id=meetup.meetup_id,
                    expires_at=meetup.ends_at)
    rsvp.answer(claims, RsvpAnswer(status=status))  # type: ignore[arg-type]
    return member_id


# ---------------------------------------------------------------- create, list, edit


def test_create_through_the_form_then_it_is_listed_upcoming_then_past(con: Console, clock: Any) -> None:
    assert "No meetups coming up" in con.text(con.get("/meetups"))
    meetup = create(con)
    assert meetup.starts_at == datetime(2026, 12, 3, 8, 30, tzinfo=UTC)  # Lisbon is UTC in December
    assert meetup.capacity == 2 and meetup.waitlist and meetup.venue == {
        "name": "Café A Brasileira", "address": "Rua Garrett 120, Lisboa"}
    page = con.text(con.get(f"/meetups/{meetup.meetup_id}?done=created"))
    assert "Meetup created." in page and "Founders breakfast" in page
    assert "Founders breakfast" in con.text(con.get("/meetups"))
    create(con, title="Morning coffee", starts_at="2026-11-02T10:00", ends_at="2026-11-02T11:00")
    assert "Morning coffee" in con.text(con.get("/meetups"))
    clock.advance(hours=3)  # the session lasts 12 hours
    upcoming, past = con.text(con.get("/meetups")), con.text(con.get("/meetups?when=past"))
    assert "Founders breakfast" in upcoming and "Morning coffee" not in upcoming
    assert "Morning coffee" in past and "Founders breakfast" not in past


HOSTILE_CREATE = [
    ({"title": ""}, "title", "is required"),
    ({"title": "x" * 201}, "title", "too long"),
    ({"title": "Tea\x00time"}, "title", "control characters"),
    ({"description": "x" * 5001}, "description", "too long"),
    ({"starts_at": "next tuesday"}, "starts_at", "not a date and time"),
    ({"starts_at": ""}, "starts_at", "is required"),
    ({"ends_at": "2026-12-03T08:00"}, "ends_at", "after the start"),
    ({"timezone": "Europe/Atlantis"}, "timezone", ""),
    ({"venue_name": "", "venue_address": ""}, "venue_name", "venue"),
    ({"venue_address": ""}, "venue_address", "is required"),
    ({"online_url": "javascript:alert(1)"}, "online_url", "https://"),
    ({"capacity": "0"}, "capacity", "at least 1"),
    ({"capacity": "ten"}, "capacity", "whole number"),
    ({"capacity": "１２"}, "capacity", "whole number"),
    ({"guests_allowed": "6"}, "guests_allowed", "at most 5"),
    ({"rsvp_closes_at": "2026-12-03T09:00"}, "rsvp_closes_at", "after the start"),
    ({"visibility": "everyone"}, "visibility", ""),
]


@pytest.mark.parametrize("change, field, words", HOSTILE_CREATE)
def test_a_bad_create_form_shows_the_error_beside_the_field_and_creates_nothing(
        con: Console, change: dict[str, str], field: str, words: str) -> None:
    response = con.post("/meetups", {**FORM, **change})
    assert response.status_code == 400
    html = con.text(response)
    if field in ("waitlist", "visibility"):
        assert re.search(r'<p class="error-text">Visibility', html)
    else:
        assert words in error_beside(html, field)
    assert 'value="Founders breakfast"' in html or field == "title"  # what was typed is kept
    assert stored(con) == []


def test_an_empty_form_says_everything_missing_at_once(con: Console) -> None:
    """Missing times and a title are said together, not one submit after another."""
    response = con.post("/meetups", {**FORM, "title": "", "starts_at": "", "ends_at": "", "capacity": "ten"})
    assert response.status_code == 400
    html = con.text(response)
    assert "is required" in error_beside(html, "title")
    assert "is required" in error_beside(html, "starts_at") and "is required" in error_beside(html, "ends_at")
    assert "whole number" in error_beside(html, "capacity")
    assert html.index("Nothing was saved yet: 4 answers below need a fix.") < html.index("New meetup")  # said on top
    assert stored(con) == []


def test_a_field_sent_twice_is_an_error_not_a_guess(con: Console) -> None:
    response = con.post("/meetups", [*FORM.items(), ("title", "Second title")])
    assert response.status_code == 400 and "sent twice" in error_beside(con.text(response), "title")
    assert stored(con) == []


def test_a_script_title_is_stored_as_typed_and_shown_escaped(con: Console) -> None:
    meetup = create(con, title="<script>alert(1)</script>")
    html = con.text(con.get(f"/meetups/{meetup.meetup_id}"))
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_edit_saves_and_a_bad_edit_changes_nothing(con: Console) -> None:
    meetup = create(con)
    form_page = con.text(con.get(f"/meetups/{meetup.meetup_id}/edit"))
    assert 'value="2026-12-03T08:30"' in form_page and 'value="Europe/Lisbon"' in form_page
    saved = con.post(f"/meetups/{meetup.meetup_id}/edit", {**FORM, "title": "Founders brunch", "capacity": ""})
    assert saved.status_code == 303 and saved.headers["Location"].endswith("?done=saved")
    after = deps.store().meetups.require(con.group_id, meetup.meetup_id)
    assert after.title == "Founders brunch" and after.capacity is None

    bad = con.post(f"/meetups/{meetup.meetup_id}/edit", {**FORM, "title": "Changed", "ends_at": "2026-12-03T07:00"})
    assert bad.status_code == 400 and "after the start" in error_beside(con.text(bad), "ends_at")
    assert deps.store().meetups.require(con.group_id, meetup.meetup_id) == after


# ---------------------------------------------------------------- duplicate, cancel


def test_duplicate_a_week_and_a_month_later_at_the_same_local_time(con: Console) -> None:
    # 28 March 2027 Lisbon moves to summer time: a week after the 25th keeps 19:00 local (below).
    meetup = create(con, starts_at="2027-01-31T19:00", ends_at="2027-01-31T21:00", rsvp_closes_at="2027-01-30T19:00")
    week = con.post(f"/meetups/{meetup.meetup_id}/duplicate", {"step": "week"})
    month = con.post(f"/meetups/{meetup.meetup_id}/duplicate", {"step": "month"})
    ids = [re.search(r"(mtp_\w+)\?done=duplicated", r.headers["Location"]) for r in (week, month)]
    assert all(ids)
    by_week, by_month = (deps.store().meetups.require(con.group_id, i.group(1)) for i in ids if i)
    assert by_week.starts_at == datetime(2027, 2, 7, 19, 0, tzinfo=UTC)
    assert by_month.starts_at == datetime(2027, 2, 28, 19, 0, tzinfo=UTC)  # 31 January + a month
    assert by_month.rsvp_closes_at == datetime(2027, 2, 27, 19, 0, tzinfo=UTC)
    assert (by_week.title, by_week.venue, by_week.capacity, by_week.going_seats) == (
        meetup.title, meetup.venue, meetup.capacity, 0)
    summer = create(con, starts_at="2027-03-25T19:00", ends_at="2027-03-25T21:00")
    moved = con.post(f"/meetups/{summer.meetup_id}/duplicate", {"step": "week"})
    found = re.search(r"(mtp_\w+)", moved.headers["Location"])
    assert found
    assert deps.store().meetups.require(con.group_id, found.group(1)).starts_at == datetime(
        2027, 4, 1, 18, 0, tzinfo=UTC)  # 19:00 in Lisbon summer time
    assert con.post(f"/meetups/{meetup.meetup_id}/duplicate", {"step": "year"}).status_code == 400
    assert len(stored(con)) == 5  # the two originals and three copies


def test_cancel_with_a_reason_that_the_cancellation_email_carries(con: Console, outbox_dir: Path) -> None:
    meetup = create(con)
    ana = answer(meetup, "Ana")
    answer(meetup, "Bo")
    answer(meetup, "Cy")  # capacity 2: waitlisted
    response = con.post(f"/meetups/{meetup.meetup_id}/cancel", {"reason": "The venue flooded; we'll pick a new date."})
    assert response.status_code == 303 and response.headers["Location"].endswith("?done=cancelled")
    assert deps.store().meetups.require(con.group_id, meetup.meetup_id).status == "cancelled"
    sent = mails(outbox_dir, "meetup_cancelled")
    assert len(sent) == 3
    assert all("The venue flooded; we'll pick a new date." in text_of(m) for m in sent)
    page = con.text(con.get(f"/meetups/{meetup.meetup_id}?done=cancelled"))
    assert "Cancelled: Founders breakfast" in page and "/cancel" not in page
    assert "was told why:</p><blockquote>The venue flooded; we&#39;ll pick a new date.</blockquote>" in page
    link = rsvp.rsvp_url(deps.store().meetups.require(con.group_id, meetup.meetup_id), ana)
    her_page = con.text(con.client.http.get(link.removeprefix("https://lunch.example.test")))
    assert "nothing to answer" in her_page and "you're going" not in her_page and "join us" not in her_page
    assert "The organizer says:</p><blockquote>The venue flooded; we&#39;ll pick a new date.</blockquote>" in her_page
    # again: nothing new
    con.post(f"/meetups/{meetup.meetup_id}/cancel", {"reason": "Again"})
    assert len(mails(outbox_dir, "meetup_cancelled")) == 3


def test_a_reason_on_several_lines_as_a_browser_sends_it(con: Console, outbox_dir: Path) -> None:
    """A textarea's lines come as CRLF from a browser: they are line breaks, not control characters."""
    meetup = create(con)
    answer(meetup, "Ana")
    response = con.post(f"/meetups/{meetup.meetup_id}/cancel", {"reason": "The venue flooded.\r\n\r\nSee you next week."})
    assert response.status_code == 303, con.text(response)
    assert deps.store().meetups.require(con.group_id, meetup.meetup_id).cancel_reason == \
        "The venue flooded.\n\nSee you next week."
    [sent] = mails(outbox_dir, "meetup_cancelled")
    assert "The venue flooded.\n\nSee you next week." in text_of(sent).replace("\r\n", "\n")


def test_a_bad_reason_cancels_nothing(con: Console, outbox_dir: Path) -> None:
    meetup = create(con)
    answer(meetup, "Ana")
    for reason in ("x" * 2001, "bad\x07bell"):
        response = con.post(f"/meetups/{meetup.meetup_id}/cancel", {"reason": reason})
        assert response.status_code == 400 and error_beside(con.text(response), "reason")
    assert deps.store().meetups.require(con.group_id, meetup.meetup_id).status == "scheduled"
    assert mails(outbox_dir, "meetup_cancelled") == []


# ---------------------------------------------------------------- message attendees


def test_a_create_or_duplicate_form_sent_twice_makes_one_meetup(con: Console) -> None:
    """A double click, or the browser resending the form: the form's one-off id makes it once."""
    found = re.search(r'name="form_id" value="([^"]+)"', con.text(con.get("/meetups")))
    assert found
    first_try = con.post("/meetups", {**FORM, "form_id": found.group(1)})
    again = con.post("/meetups", {**FORM, "form_id": found.group(1)})
    assert first_try.status_code == again.status_code == 303
    assert again.headers["Location"] == first_try.headers["Location"]
    assert len(stored(con)) == 1
    mid = re.search(r"(mtp_\w+)", first_try.headers["Location"])
    assert mid
    page = con.text(con.get(f"/meetups/{mid.group(1)}"))
    form_id = re.search(r'name="form_id" value="([^"]+)"', page)
    assert form_id
    copies = [con.post(f"/meetups/{mid.group(1)}/duplicate", {"step": "week", "form_id": form_id.group(1)})
              for _ in range(2)]
    assert copies[0].headers["Location"] == copies[1].headers["Location"]
    month = con.post(f"/meetups/{mid.group(1)}/duplicate", {"step": "month", "form_id": form_id.group(1)})
    assert month.headers["Location"] != copies[0].headers["Location"]  # the other button: its own copy
    assert len(stored(con)) == 3
    # The same form id with other words is refused, not silently answered with the first meetup.
    other = con.post("/meetups", {**FORM, "title": "Something else", "form_id": found.group(1)})
    assert other.status_code == 400 and len(stored(con)) == 3


def message_id(con: Console, meetup: Meetup) -> str:
    found = re.search(r'name="message_id" value="([^"]+)"', con.text(con.get(f"/meetups/{meetup.meetup_id}")))
    assert found
    return found.group(1)


def test_message_attendees_once_per_form(con: Console, outbox_dir: Path) -> None:
    meetup = create(con)
    answer(meetup, "Ana")
    answer(meetup, "Bo")
    answer(meetup, "Cy")  # waitlisted
    answer(meetup, "Di", "not_going")
    first_id = message_id(con, meetup)
    form = {"message_id": first_id, "note": "Doors open at 8:15.\nAsk for the back room.", "going": "on"}
    response = con.post(f"/meetups/{meetup.meetup_id}/message", form)
    assert response.status_code == 200 and "on its way to 2 members" in con.text(response)
    sent = mails(outbox_dir, "meetup_message")
    assert sorted(str(m["To"]) for m in sent) == ["Ana <ana@example.com>", "Bo <bo@example.com>"]
    assert "Ask for the back room." in text_of(sent[0]) and "Founders breakfast" in str(sent[0]["Subject"])
    # the same form again (a retried POST, a double click): nothing twice
    again = con.post(f"/meetups/{meetup.meetup_id}/message", form)
    assert "sent already" in con.text(again)
    assert len(mails(outbox_dir, "meetup_message")) == 2
    # a new note to the waitlist only
    second = {"message_id": message_id(con, meetup), "note": "A seat may free up.", "waitlisted": "on"}
    assert second["message_id"] != first_id
    con.post(f"/meetups/{meetup.meetup_id}/message", second)
    waitlisted = [m for m in mails(outbox_dir, "meetup_message") if "Cy" in str(m["To"])]
    assert len(waitlisted) == 1 and "on the waitlist" in text_of(waitlisted[0])


@pytest.mark.parametrize("change, field", [
    ({"note": ""}, "note"), ({"note": "x" * 2001}, "note"), ({"note": "null\x00byte"}, "note"),
    ({"going": ""}, None), ({"message_id": "short"}, None),
])
def test_a_bad_message_sends_nothing(con: Console, outbox_dir: Path, change: dict[str, str], field: str | None) -> None:
    meetup = create(con)
    answer(meetup, "Ana")
    form = {"message_id": message_id(con, meetup), "note": "Hello", "going": "on", **change}
    response = con.post(f"/meetups/{meetup.meetup_id}/message", form)
    assert response.status_code == 400
    html = con.text(response)
    if field:
        assert error_beside(html, field)
    else:
        assert 'class="error-text"' in html
    assert mails(outbox_dir, "meetup_message") == []


# ---------------------------------------------------------------- people


def test_people_by_status_check_in_and_csv(con: Console) -> None:
    meetup = create(con)
    ana = answer(meetup, "Ana")
    answer(meetup, "=Bo")  # a formula in a spreadsheet: the CSV defuses it
    answer(meetup, "Cy")
    page = con.text(con.get(f"/meetups/{meetup.meetup_id}/people"))
    assert all(n in page for n in ("Ana", "=Bo", "Cy"))
    waitlist = con.text(con.get(f"/meetups/{meetup.meetup_id}/people?status=waitlisted"))
    assert "Cy" in waitlist and "Ana" not in waitlist
    assert con.get(f"/meetups/{meetup.meetup_id}/people?status=maybe").status_code == 400

    checked = con.post(f"/meetups/{meetup.meetup_id}/people/{ana}/check-in", {"status": "going"})
    assert checked.status_code == 303 and checked.headers["Location"].endswith("done=checked_in&status=going")
    row = deps.store().rsvps.get(meetup.meetup_id, ana)
    assert row is not None and row.checked_in_at == deps.now()
    going = con.text(con.get(f"/meetups/{meetup.meetup_id}/people?status=going"))
    assert going.count("Check in<span") == 1  # Bo still can be; Ana is done

    download = con.get(f"/meetups/{meetup.meetup_id}/people.csv")
    assert download.status_code == 200 and download.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in download.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(con.text(download))))
    assert sorted(r["name"] for r in rows) == ["'=Bo", "Ana", "Cy"]
    assert next(r for r in rows if r["name"] == "Ana")["checked_in_at"]
    only_waitlist = list(csv.DictReader(io.StringIO(con.text(con.get(
        f"/meetups/{meetup.meetup_id}/people.csv?status=waitlisted")))))
    assert [r["name"] for r in only_waitlist] == ["Cy"]


def test_invite_everyone_and_follow_the_job(con: Console, outbox_dir: Path) -> None:
    meetup = create(con)
    members.add_members(con.group_id, [MemberIn(email=f"m{i}@example.com", name=f"M {i}") for i in range(3)])
    response = con.post(f"/meetups/{meetup.meetup_id}/invite", {})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert re.fullmatch(rf"{con.base}/jobs/job_\w+", location)
    job_page = con.client.http.get(location, headers={"Cookie": con.cookie})
    html = con.text(job_page)
    assert job_page.status_code == 200 and "Done: every invitation was handled." in html
    assert re.search(r"<dt>Sent</dt><dd>3</dd>", html) and "Refresh" not in job_page.headers
    assert len(mails(outbox_dir, "rsvp_invite")) == 3


def test_a_running_job_page_refreshes_itself(con: Console) -> None:
    from chalicelib.models import Job

    job = Job(job_id="job_" + "0" * 26, group_id=con.group_id, kind="invite.lunch", status="running",
              created_at=deps.now())
    deps.store().jobs.create(job)
    page = con.get(f"/jobs/{job.job_id}")
    assert page.status_code == 200 and page.headers["Refresh"] == "5"
    assert "<script" not in con.text(page)


# ---------------------------------------------------------------- CSRF, isolation


def test_every_post_needs_this_sessions_csrf_token(con: Console, outbox_dir: Path) -> None:
    meetup = create(con)
    member_id = answer(meetup, "Ana")
    before = stored(con)
    posts = [
        ("/meetups", FORM),
        (f"/meetups/{meetup.meetup_id}/edit", {**FORM, "title": "Changed"}),
        (f"/meetups/{meetup.meetup_id}/duplicate", {"step": "week"}),
        (f"/meetups/{meetup.meetup_id}/message", {"message_id": "m" * 20, "note": "Hi", "going": "on"}),
        (f"/meetups/{meetup.meetup_id}/people/{member_id}/check-in", {}),
        (f"/meetups/{meetup.meetup_id}/invite", {}),
        (f"/meetups/{meetup.meetup_id}/cancel", {"reason": "no"}),
    ]
    for path, form in posts:
        for token in (None, "0" * 64):
            assert con.post(path, form, csrf=token).status_code == 403, (path, token)
    assert stored(con) == before
    row = deps.store().rsvps.get(meetup.meetup_id, member_id)
    assert row is not None and row.checked_in_at is None
    assert mails(outbox_dir, "meetup_message") == mails(outbox_dir, "rsvp_invite") == []


def test_another_groups_meetup_is_not_found(con: Console, other_org: Any) -> None:
    from chalicelib.models import MeetupIn
    from chalicelib.services import meetups

    theirs = meetups.create_meetup(other_org.group_id, MeetupIn.model_validate({
        "title": "Theirs", "starts_at": "2026-12-03T08:30", "ends_at": "2026-12-03T10:00",
        "timezone": "Europe/Berlin", "online_url": "https://meet.example.com/x"}))
    for path in (f"/meetups/{theirs.meetup_id}", f"/meetups/{theirs.meetup_id}/people",
                 f"/meetups/{theirs.meetup_id}/people.csv", f"/meetups/{theirs.meetup_id}/edit",
                 "/meetups/mtp_nope", "/jobs/job_nope"):
        response = con.get(path)
        assert response.status_code == 404 and "Theirs" not in con.text(response), path
    cancel = con.post(f"/meetups/{theirs.meetup_id}/cancel", {"reason": ""})
    assert cancel.status_code == 404
    assert meetups.get_meetup(other_org.group_id, theirs.meetup_id).status == "scheduled"
