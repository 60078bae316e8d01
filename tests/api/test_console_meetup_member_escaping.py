"""Every route of the console's meetup and member pages (read from the app, so a new route is
covered the day it lands) answers with the member pages' security headers, and script or
markup payloads in what the pages show (meetup title, description, venue, member names, what
was typed into a form, a CSV's column) come out escaped once."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from app import app
from chalicelib import deps
from chalicelib.models import MeetupIn, MemberIn, RsvpAnswer
from chalicelib.services import jobs, meetups, members, rsvp
from chalicelib.tokens import Claims
from tests.api.console_pages import Console
from tests.api.test_escaping import check_page_headers, payload, safe_html

MODULES = ("chalicelib.routes.console_meetups", "chalicelib.routes.console_members")


def routes() -> set[tuple[str, str]]:
    return {(method, path) for path, methods in app.routes.items() for method, entry in methods.items()
            if entry.view_function.__module__ in MODULES}


def test_every_meetup_and_member_page_escapes_payloads_and_sends_the_security_headers(
        client: Any, org: Any, outbox_dir: Path) -> None:
    con = Console(client, org.group_id, outbox_dir)
    gid = org.group_id
    meetup = meetups.create_meetup(gid, MeetupIn.model_validate({
        "title": payload("title"), "description": payload("description"), "starts_at": "2026-12-03T08:30",
        "ends_at": "2026-12-03T10:00", "timezone": "Europe/Lisbon",
        "venue": {"name": payload("venue"), "address": payload("address")}}))
    created, _ = members.add_members(gid, [MemberIn(email="jane@example.com", name=payload("name"),
                                                    headline=payload("headline"))])
    jane = created[0]
    rsvp.answer(Claims(purpose="rsvp", group_id=gid, member_id=jane.member_id, resource_id=meetup.meetup_id,
                       expires_at=meetup.ends_at), RsvpAnswer(status="going"))
    job = jobs.invite_to_meetup(gid, meetup.meetup_id, None)
    m, mem = meetup.meetup_id, jane.member_id
    base = f"/console/{gid}"
    seen: set[tuple[str, str]] = set()

    def call(method: str, template: str, path: str, status: int, form: dict[str, Any] | None = None,
             multipart: dict[str, str] | None = None) -> str:
        seen.add((method, template))
        response = con.get(path) if method == "GET" else con.post(path, form or {}, multipart=multipart)
        where = f"{method} {base}{path}"
        assert response.status_code == status, (where, response.status_code, con.text(response)[:500])
        headers = {k.lower(): v for k, v in response.headers.items()}
        assert headers["cache-control"] == "no-store" and headers["x-content-type-options"] == "nosniff", where
        if status == 303:
            return ""
        if headers["content-type"].startswith("text/csv"):
            assert headers["referrer-policy"] == "no-referrer", where
            return con.text(response)
        check_page_headers(SimpleNamespace(headers=response.headers), where)
        return safe_html(con.text(response), where)

    shows = [
        ("GET", "/console/{group_id}/meetups", "/meetups", 200),
        ("GET", "/console/{group_id}/meetups/{meetup_id}", f"/meetups/{m}", 200),
        ("GET", "/console/{group_id}/meetups/{meetup_id}/edit", f"/meetups/{m}/edit", 200),
        ("GET", "/console/{group_id}/meetups/{meetup_id}/people", f"/meetups/{m}/people", 200),
        ("GET", "/console/{group_id}/meetups/{meetup_id}/people.csv", f"/meetups/{m}/people.csv", 200),
        ("GET", "/console/{group_id}/jobs/{job_id}", f"/jobs/{job.job_id}", 200),
        ("GET", "/console/{group_id}/members", "/members", 200),
        ("GET", "/console/{group_id}/members/import", "/members/import", 200),
        ("GET", "/console/{group_id}/members/{member_id}/edit", f"/members/{mem}/edit", 200),
        ("GET", "/console/{group_id}/members/{member_id}/erase", f"/members/{mem}/erase", 200),
    ]
    texts = {template: call(method, template, path, status) for method, template, path, status in shows}
    for field in ("title", "description", "venue", "address"):
        assert payload(field) in texts["/console/{group_id}/meetups/{meetup_id}"], field
    assert payload("title") in texts["/console/{group_id}/meetups"]
    assert payload("name") in texts["/console/{group_id}/meetups/{meetup_id}/people"]
    assert payload("name") in texts["/console/{group_id}/members"]
    assert payload("headline") in texts["/console/{group_id}/members"]
    assert payload("title") in texts["/console/{group_id}/jobs/{job_id}"]
    [row] = csv.DictReader(io.StringIO(texts["/console/{group_id}/meetups/{meetup_id}/people.csv"]))
    assert row["name"] == payload("name")  # as typed: a CSV is data, not a page

    # what was typed comes back escaped once beside the form
    typed = call("POST", "/console/{group_id}/meetups", "/meetups", 400,
                 {"title": payload("typed"), "description": "", "starts_at": "x", "ends_at": "", "timezone": "UTC",
                  "venue_name": "", "venue_address": "", "online_url": "", "capacity": "", "guests_allowed": "",
                  "rsvp_closes_at": "", "visibility": "members"})
    assert payload("typed") in typed
    found = call("GET", "/console/{group_id}/members", "/members?q=" + payload("q").replace("&", "%26")
                 .replace("#", "%23"), 200)
    assert payload("q") in found
    typed_member = call("POST", "/console/{group_id}/members", "/members", 400,
                        {"email": "bad", "name": payload("member"), "headline": "", "timezone": ""})
    assert payload("member") in typed_member
    report = call("POST", "/console/{group_id}/members/import", "/members/import", 400, {},
                  multipart={"file": "email,name," + payload("col")[:40].replace(",", ";") + "\n"})
    assert payload("col")[:40].replace(",", ";") in report
    note = call("POST", "/console/{group_id}/meetups/{meetup_id}/message", f"/meetups/{m}/message", 400,
                {"message_id": "m" * 20, "note": payload("note") + "\x00", "going": "on"})
    assert payload("note") in note
    call("POST", "/console/{group_id}/meetups/{meetup_id}/edit", f"/meetups/{m}/edit", 400,
         {"title": ""})
    call("POST", "/console/{group_id}/members/{member_id}/edit", f"/members/{mem}/edit", 400,
         {"name": payload("edit"), "headline": "", "timezone": "Nowhere/City", "subscribed": "on"})
    call("POST", "/console/{group_id}/members/{member_id}/erase", f"/members/{mem}/erase", 400, {"confirm": "no"})
    call("POST", "/console/{group_id}/meetups/{meetup_id}/people/{member_id}/check-in",
         f"/meetups/{m}/people/{mem}/check-in", 303)
    call("POST", "/console/{group_id}/meetups/{meetup_id}/invite", f"/meetups/{m}/invite", 303)
    call("POST", "/console/{group_id}/meetups/{meetup_id}/duplicate", f"/meetups/{m}/duplicate", 303,
         {"step": "week"})
    call("POST", "/console/{group_id}/meetups/{meetup_id}/cancel", f"/meetups/{m}/cancel", 303,
         {"reason": payload("reason")})
    # the reason reaches the cancellation email, escaped in its HTML part
    from tests.api.console_pages import mails

    [cancelled] = mails(outbox_dir, "meetup_cancelled")
    html = cancelled.get_body(preferencelist=("html",))
    assert html is not None and payload("reason") in safe_html(str(html.get_content()), "meetup_cancelled")
    assert seen == routes(), routes() - seen
    assert deps.store().meetups.require(gid, m).status == "cancelled"
