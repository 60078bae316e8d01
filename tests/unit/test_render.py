from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.mail.render import (
    AVAILABILITY,
    TEMPLATES_DIR,
    first_name,
    format_when,
    page_csp,
    page_headers,
    render_email,
    render_page,
    slot_label,
)

BERLIN = ZoneInfo("Europe/Berlin")
EVIL = "<script>alert('x')</script> & Tea"
ESCAPED = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Tea"

MEETUP: dict[str, Any] = {
    "title": "Product people lunch",
    "description": "Bring one question.\n\nAnd one intro you can make.",
    "starts_at": datetime(2026, 3, 26, 12, 30, tzinfo=BERLIN),
    "ends_at": datetime(2026, 3, 26, 14, 0, tzinfo=BERLIN),
    "timezone": "Europe/Berlin",
    "place": "Café Zürich, Hauptstraße 1, Berlin",
    "online_url": None,
}
WHEN = "Thursday 26 March 2026, 12:30–14:00 CET (UTC+01:00)"
COMMON: dict[str, Any] = {
    "group_name": "Berlin Product Lunch",
    "member_name": "Zoë",
    "unsubscribe_url": "https://lunch.example/unsubscribe/tok",
    "settings_url": "https://lunch.example/settings/tok",
}
PARTNERS = [{"name": "Ada Obi", "headline": "Head of Product at Fernweh", "email": None}]
REASONS = ["You both care about climate tech", "Ada is hiring, you're looking"]

PAGES: dict[str, dict[str, Any]] = {
    "rsvp": {
        "group_name": "Berlin Product Lunch",
        "member_name": "Zoë",
        "meetup": MEETUP,
        "state": "open",
        "seats_left": 4,
        "waitlist": True,
        "status": "going",
        "guests": 1,
        "guests_allowed": 2,
        "rsvp_url": "https://lunch.example/rsvp/tok",
        "closes_at": datetime(2026, 3, 25, 18, 0, tzinfo=UTC),
        "flash": "Saved: you're going.",
    },
    "error": {
        "status_code": 410,
        "title": "This link has expired",
        "message": "RSVP links stop working after the meetup.",
        "hint": "Use the link in the newest email from the group.",
    },
    "unsubscribe": {"group_name": "Berlin Product Lunch", "done": False},
    "settings": {
        "group_name": "Berlin Product Lunch",
        "member_name": "Zoë",
        "email": "on",
        "subscribed": True,
        "bounced": False,
        "meetups": "off",
        "intro_thanks": "off",
        "lunch": "paused",
        "paused_until": "2026-12-24",
        "auto_paused": False,
        "has_place": True,
        "preferences_url": "https://lunch.example/lunch/tok",
        "min_date": "2026-11-03",
        "max_date": "2027-11-03",
        "flash": "Saved. Thank you!",
    },
    "fresh_link": {"group_name": "Berlin Product Lunch", "outcome": "sent", "link_url": None, "max_per_day": 3},
    "lunch": {
        "group_name": "Berlin Product Lunch",
        "member_name": "Zoë",
        "prefs": {
            "opted_in": True,
            "skip_next": False,
            "virtual": False,
            "city": "Berlin",
            "interests": ["product", "climate tech"],
            "goals": ["hiring", "give_intros"],
            "offers": ["Intros to PMs", "CV reviews"],
            "asks": ["A designer to hire"],
            "meetup_people": True,
            "availability": ["tue-lunch", "thu-coffee"],
            "timezone": "America/Chicago",
        },
        "group_zone": "Europe/Berlin",
        "zones": ["America/Chicago", "Europe/Lisbon"],
    },
    "reconnect": {
        "group_name": "Berlin Product Lunch",
        "member_name": "Zoë",
        "partner": {"name": "Ada Obi", "headline": "Head of Product at Fernweh"},
        "answer": None,
        "ask": "yes",
        "connected": False,
        "waiting": False,
    },
    "join": {"group_name": "Berlin Product Lunch", "join_open": True, "sent": False,
             "posted": {"name": "Zoë", "email": "zoe@example.org", "lunch": "1", "mode": "virtual"}},
    "links": {"group_name": "Berlin Product Lunch", "sent": False, "posted": {}},
    "welcome": {"group_name": "Berlin Product Lunch", "person": "Zoë", "join_open": True, "meetup": MEETUP},
    "event": {"group_name": "Berlin Product Lunch", "state": "open", "join_open": True,
              "join_url": "https://lunch.example/join/grp", "meetup": MEETUP, "seats_left": 4, "going": 6,
              "waitlist": True, "sent": False, "posted": {}},
    "pairing": {
        "group_name": "Berlin Product Lunch",
        "member_name": "Zoë",
        "partners": PARTNERS,
        "reasons": REASONS,
        "suggested_slot": "tue-lunch",
        "response": "pending",
        "blocked": False,
        "partner_names": ["Ana"],
        "ask": None,
        "connected": False,
        "proposed_time": None,
        "waiting_for": ["Ana"],
        "declined": [],
        "feedback_open": True,
        "feedback": {"met": True, "rating": 4, "note": "Great chat", "no_show": []},
    },
    "introduce": {"group_name": "Berlin Product Lunch", "member_name": "Zoë",
                  "people": [{"member_id": "mem_1", "name": "Ana Lee", "headline": "Founder"},
                             {"member_id": "mem_2", "name": EVIL, "headline": ""}],
                  "open": 1, "offered": 2, "accepted": 1, "note_min": 20, "note_max": 500, "more": True,
                  "posted": {"member_ids": ["mem_1"], "note": "Both into climate"}, "flash": "Sent.", "flash_kind": "ok"},
    "offer": {"group_name": "Berlin Product Lunch", "member_name": "Zoë", "connector": "Grace",
              "note": "You both build climate software.",
              "other": {"name": "Ben Ode", "headline": "CTO at Kiln", "email": None},
              "answer": None, "status": "open", "connected": False, "ask": None, "met": False,
              "someone_met": False},
    # After a meetup: whom of the people suggested there the member met (issue 14, part 3).
    "met": {"group_name": "Berlin Product Lunch", "member_name": "Zoë", "meetup": MEETUP,
            "people": [{"member_id": "mem_b", "name": "Ben Ode", "headline": "CTO at Kiln", "met": False},
                       {"member_id": "mem_c", "name": "Cy Lo", "headline": "", "met": True}],
            "ask": {"member_id": "mem_b", "name": "Ben Ode", "headline": "CTO at Kiln", "met": False},
            "introduce_url": "https://l.ex/introduce/t"},
}

EMAILS: dict[str, dict[str, Any]] = {
    "rsvp_invite": {
        **COMMON,
        "meetup": MEETUP,
        "rsvp_url": "https://l.ex/rsvp/t",
        "guests_allowed": 1,
    },
    "rsvp_confirmation": {
        **COMMON,
        "meetup": MEETUP,
        "status": "going",
        "guests": 0,
        "rsvp_url": "https://l.ex/rsvp/t",
    },
    "rsvp_promoted": {
        **COMMON,
        "meetup": MEETUP,
        "guests": 1,
        "rsvp_url": "https://l.ex/rsvp/t",
    },
    "meetup_updated": {
        **COMMON,
        "meetup": MEETUP,
        "changes": ["Time: was Wednesday 25 March, 12:30"],
        "rsvp_url": "https://l.ex/rsvp/t",
    },
    "meetup_cancelled": {**COMMON, "meetup": MEETUP, "reason": "The venue flooded."},
    "meetup_message": {**COMMON, "meetup": MEETUP, "note": "Doors open at 12:15.\nBring a friend.",
                       "status": "going", "rsvp_url": "https://l.ex/rsvp/t"},
    "meetup_people": {
        **COMMON,
        "meetup": MEETUP,
        "people": [{"name": "Ben Ode", "headline": "Data engineer",
                    "why": ['You asked for "python code review", and Ben can help with "Python code reviews".']},
                   {"name": "Cy Lo", "headline": "", "why": ["You're both into climate."]}],
    },
    "meetup_met": {
        **COMMON,
        "meetup": MEETUP,
        "people": [{"member_id": "mem_b", "name": "Ben Ode", "headline": "Data engineer", "met": False,
                    "yes_url": "https://l.ex/met/t?who=mem_b"},
                   {"member_id": "mem_c", "name": "Cy Lo", "headline": "", "met": True,
                    "yes_url": "https://l.ex/met/t?who=mem_c"}],
    },
    "meetup_reminder": {
        **COMMON,
        "meetup": MEETUP,
        "guests": 0,
        "rsvp_url": "https://l.ex/rsvp/t",
    },
    "lunch_invite": {**COMMON, "preferences_url": "https://l.ex/lunch/t"},
    "fresh_link": {**COMMON, "what": "your lunch preferences", "link_url": "https://l.ex/lunch/new",
                   "expires_at": datetime(2027, 1, 1, 9, 0, tzinfo=UTC), "zone": "Europe/Berlin"},
    "lunch_intro": {
        **COMMON,
        "partners": PARTNERS,
        "reasons": REASONS,
        "suggested_slot": "tue-lunch",
        "rematch": False,
        "pairing_url": "https://l.ex/pairing/t",
    },
    "lunch_connected": {
        **COMMON,
        "partners": [{"name": "Ana Silva", "headline": "Designer", "email": "ana@example.org"}],
        "proposed_time": "Tuesday 10 November 2026, 12:30 CET (UTC+01:00)",
        "slot": "tue-lunch",
        "pairing_url": "https://l.ex/pairing/t",
    },
    "lunch_declined": {
        **COMMON,
        "who": "Ana",
        "left_with": [],
        "rematch": True,
        "pairing_url": "https://l.ex/pairing/t",
    },
    "lunch_nudge": {**COMMON, "confirmed": ["Ana"], "pairing_url": "https://l.ex/pairing/t"},
    "lunch_unmatched": {**COMMON, "preferences_url": "https://l.ex/lunch/t"},
    "lunch_followup": {
        **COMMON,
        "partners": PARTNERS,
        "pairing_url": "https://l.ex/pairing/t",
        "no_show_reports": 2, "no_show_window": 6, "no_show_pause_rounds": 2, "sit_out_window": 10,
        "good_rating": 4, "reconnect_after_months": 6,
    },
    "lunch_paused": {**COMMON, "preferences_url": "https://l.ex/lunch/t"},
    "lunch_no_show_paused": {**COMMON, "rounds": 2, "reports": 2, "window": 6,
                             "preferences_url": "https://l.ex/lunch/t"},
    "member_links": {**COMMON, "meetups": [{"meetup": MEETUP, "rsvp_url": "https://l.ex/rsvp/t"}],
                     "preferences_url": "https://l.ex/lunch/t", "pairing_url": "https://l.ex/pairing/t",
                     "welcome": False},
    "lunch_reconnect": {**COMMON, "partner": {"name": "Ada Obi", "headline": "Head of Product"},
                        "lunch_month": "May 2026", "yes_url": "https://l.ex/reconnect/t?answer=yes",
                        "no_url": "https://l.ex/reconnect/t?answer=no"},
    # Introductions (issue 14): the offer carries no address; connected shows the other's.
    "intro_offer": {**COMMON, "connector": "Grace", "other": {"name": "Ben Ode", "headline": "CTO at Kiln"},
                    "note": "You both build climate software.", "yes_url": "https://l.ex/offer/t?answer=yes",
                    "no_url": "https://l.ex/offer/t?answer=no"},
    "intro_connected": {**COMMON, "other": {"name": "Ben Ode", "headline": "CTO at Kiln", "email": "ben@example.com"},
                        "connector": "Grace Hopper", "note": "You both build climate software.",
                        "offer_url": "https://l.ex/offer/t"},
    "intro_declined": {**COMMON, "as_connector": False, "other_name": "Ben Ode", "names": None,
                       "connector": None, "introduce_url": "https://l.ex/introduce/t"},
    "intro_thanks": {**COMMON, "pairs": [["Ana Lee", "Ben Ode"]], "introduce_url": "https://l.ex/introduce/t"},
}
MEETUP_EMAILS = [n for n in EMAILS if "meetup" in EMAILS[n]]
# To an address that asked to join: not a member yet, so no unsubscribe link.
ADDRESS_EMAILS: dict[str, dict[str, Any]] = {
    "join_confirm": {**COMMON, "unsubscribe_url": None, "welcome_url": "https://l.ex/welcome/t", "meetup": MEETUP,
                     "expires_at": datetime(2026, 3, 30, 9, 0, tzinfo=UTC), "timezone": "Europe/Berlin"},
    "console_signin": {**COMMON, "unsubscribe_url": None, "member_name": "host@example.com",
                       "signin_url": "https://l.ex/console/signin/t", "minutes": 15,
                       "group_names": ["Berlin Product Lunch", EVIL]},
}
# To the organizer (the group's Reply-To): no unsubscribe link, they run the group.
ORGANIZER_EMAILS: dict[str, dict[str, Any]] = {
    "round_empty": {**COMMON, "unsubscribe_url": None, "round_date": "Tuesday 3 November 2026",
                    "outcome": "everyone has met everyone they can meet", "participants": 4},
    "program_running_dry": {**COMMON, "unsubscribe_url": None, "round_date": "Tuesday 3 November 2026",
                            "participants": 12, "no_one_new": 4, "new_pairs_left": 8,
                            "repeat_window": None},
}


# To the organizer about a round held for review (issue 13, part 4).
REVIEW_EMAILS: dict[str, dict[str, Any]] = {
    "round_review": {**COMMON, "unsubscribe_url": None, "round_date": "Tuesday 3 November 2026", "pair_count": 4,
                     "sat_out": 1, "review_until": "Thursday 5 November at 10:00 (Europe/Berlin)",
                     "review_url": "https://l.ex/console/grp_1/rounds/lrd_1/review"},
    "round_expired": {**COMMON, "unsubscribe_url": None, "round_date": "Tuesday 3 November 2026", "pair_count": 1,
                      "rounds_url": "https://l.ex/console/grp_1/rounds"},
}


def style_of(page: str) -> str:
    styles = re.findall(r"<style>(.*?)</style>", page, re.DOTALL)
    assert len(styles) == 1
    return str(styles[0])


def test_every_page_and_email_template_is_covered() -> None:
    pages = {p.stem for p in (TEMPLATES_DIR / "pages").glob("*.html") if not p.stem.startswith("_")} - {"base"}
    assert pages == set(PAGES)
    emails = {
        p.name.removesuffix(".subject.txt")
        for p in (TEMPLATES_DIR / "email").glob("*.subject.txt")
    }
    assert emails == set(EMAILS) | set(ORGANIZER_EMAILS) | set(ADDRESS_EMAILS) | set(REVIEW_EMAILS)
    for name in emails:
        for suffix in (".txt", ".html"):
            assert (TEMPLATES_DIR / "email" / f"{name}{suffix}").is_file()


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_page_renders_plain_accessible_html(name: str) -> None:
    html = render_page(name, **PAGES[name])
    assert html.startswith("<!doctype html>")
    assert '<html lang="en">' in html
    assert 'name="viewport"' in html
    assert "<script" not in html.lower()
    assert " style=" not in html  # the CSP allows only the hashed <style> block
    assert "&amp;lt;" not in html  # nothing escaped twice
    # every visible control sits inside a <label> or is named by <label for=...>
    ids_labelled = set(re.findall(r'<label for="([^"]+)"', html))
    for match in re.finditer(r"<(input|select|textarea)\b([^>]*)>", html):
        attrs = match.group(2)
        if 'type="hidden"' in attrs:
            continue
        control_id = re.search(r'\bid="([^"]+)"', attrs)
        inside_label = html.rfind("<label", 0, match.start()) > html.rfind(
            "</label>", 0, match.start()
        )
        assert inside_label or (control_id and control_id.group(1) in ids_labelled), (
            attrs
        )


@pytest.mark.parametrize("name", sorted(PAGES))
def test_served_style_matches_the_csp_hash(name: str) -> None:
    style = style_of(render_page(name, **PAGES[name]))
    digest = base64.b64encode(hashlib.sha256(style.encode("utf-8")).digest()).decode()
    csp = page_csp()
    assert f"style-src 'sha256-{digest}'" in csp
    assert "default-src 'none'" in csp
    assert "script-src" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "form-action 'self'" in csp
    assert page_headers()["Content-Security-Policy"] == csp


def test_rsvp_page_shows_time_place_status_form_and_calendar_link() -> None:
    html = render_page("rsvp", **PAGES["rsvp"])
    assert WHEN in html
    assert "Café Zürich, Hauptstraße 1, Berlin" in html
    assert "4 left" in html
    assert "you're going with 1 guest." in html
    assert 'name="answer" value="going" required checked' in html
    assert '<option value="1" selected>1</option>' in html
    assert '<option value="2">2</option>' in html
    assert 'href="https://lunch.example/rsvp/tok/meetup.ics"' in html
    assert "Saved: you&#39;re going." in html
    assert "Answers close Wednesday 25 March 2026, 19:00 CET (UTC+01:00)" in html


@pytest.mark.parametrize("state", ["closed", "cancelled"])
def test_closed_and_cancelled_meetups_show_no_form(state: str) -> None:
    html = render_page("rsvp", **{**PAGES["rsvp"], "state": state})
    assert "<form" not in html
    assert ("cancelled" if state == "cancelled" else "closed") in html


def test_rsvp_page_without_guests_or_place() -> None:
    online = {**MEETUP, "place": None, "online_url": "https://meet.example/abc"}
    html = render_page(
        "rsvp",
        **{
            **PAGES["rsvp"],
            "meetup": online,
            "guests_allowed": 0,
            "status": "none",
            "seats_left": None,
        },
    )
    assert "<select" not in html
    assert 'href="https://meet.example/abc"' in html
    assert " checked" not in html


def test_unsubscribe_page_posts_one_click_and_shows_done() -> None:
    html = render_page("unsubscribe", **PAGES["unsubscribe"])
    assert '<form method="post">' in html
    assert 'name="List-Unsubscribe" value="One-Click"' in html
    done = render_page("unsubscribe", group_name="Berlin Product Lunch", done=True)
    assert "You're unsubscribed" in done and "<form" not in done
    back = render_page("unsubscribe", group_name="Berlin Product Lunch", done=True,
                       settings_url="https://lunch.example/settings/tok")
    assert 'href="https://lunch.example/settings/tok"' in back and "Turn email back on" in back


def test_lunch_page_offers_every_goal_and_slot() -> None:
    html = render_page("lunch", **PAGES["lunch"])
    for label in (
        "Find a job",
        "Hiring",
        "Mentor someone",
        "Be mentored",
        "Give intros",
        "Learn",
        "Meet peers",
    ):
        assert label in html
    values = set(re.findall(r'name="availability" value="([^"]+)"', html))
    assert values == AVAILABILITY
    assert 'value="tue-lunch" checked' in html
    assert 'value="mon-lunch">' in html
    assert 'value="hiring" checked' in html
    assert 'value="product, climate tech"' in html


def test_pairing_page_shows_partner_reasons_slot_and_feedback() -> None:
    html = render_page("pairing", **PAGES["pairing"])
    assert "You're meeting Ada Obi" in html
    assert "Head of Product at Fernweh" in html
    assert "<li>You both care about climate tech</li>" in html
    assert "Tuesday, lunch" in html
    for action in ("confirm", "decline", "block", "feedback"):
        assert f'name="action" value="{action}"' in html
    assert 'name="rating" value="4" checked' in html
    assert ">Great chat</textarea>" in html


def test_error_page() -> None:
    html = render_page("error", **PAGES["error"])
    assert "This link has expired" in html and "Error 410" in html
    # a link too broken to name its group still gets a tidy page
    html = render_page("error", **PAGES["error"], group_name=None)
    assert "None" not in html
    assert "<title>This link has expired · Powerlunch</title>" in html


def test_expired_link_page_offers_a_fresh_link_by_post() -> None:
    html = render_page("error", **PAGES["error"], renew_url="https://lunch.example/renew/lunch/tok")
    assert '<form method="post" action="https://lunch.example/renew/lunch/tok">' in html
    assert "Email me a fresh link" in html
    assert "<form" not in render_page("error", **PAGES["error"])  # a 403 or 404 offers none


def test_settings_page_shows_the_stored_choices() -> None:
    html = render_page("settings", **PAGES["settings"])
    for name, value in (("email", "on"), ("meetups", "off"), ("lunch", "paused")):
        assert f'name="{name}" value="{value}" checked' in html
    assert 'name="paused_until" value="2026-12-24" min="2026-11-03"' in html
    assert 'href="https://lunch.example/lunch/tok"' in html
    html = render_page("settings", **{**PAGES["settings"], "subscribed": False, "email": "off"})
    assert "You're unsubscribed" in html and 'name="email" value="off" checked' in html


@pytest.mark.parametrize("outcome", ["sent", "limited", "over", "valid"])
def test_fresh_link_page_says_what_happened(outcome: str) -> None:
    html = render_page("fresh_link", **{**PAGES["fresh_link"], "outcome": outcome, "link_url": "https://l.ex/x"})
    expected = {"sent": "We've emailed you a fresh link", "limited": "at most 3 a day",
                "over": "That meetup is over", "valid": 'href="https://l.ex/x"'}[outcome]
    assert expected in html


def test_intro_and_followup_bodies_link_to_settings() -> None:
    for name in ("lunch_intro", "lunch_followup"):
        _, text, html = render_email(name, **{**EMAILS[name], "settings_url": "https://l.ex/settings/body"})
        assert "until a date, or stop them: https://l.ex/settings/body" in text
        assert 'href="https://l.ex/settings/body"' in html
        assert text.count("https://l.ex/settings/body") == 2  # the body's line and the footer's


def test_introduce_page_lists_people_escaped_and_keeps_what_was_posted() -> None:
    html = render_page("introduce", **PAGES["introduce"])
    assert "Ana Lee" in html and ESCAPED in html and EVIL not in html
    assert 'value="mem_1" checked' in html and 'value="mem_2">' in html
    assert "Both into climate</textarea>" in html and 'minlength="20" maxlength="500"' in html
    assert "the ones you met most recently" in html


def test_offer_page_shows_the_address_only_once_connected() -> None:
    waiting = render_page("offer", **PAGES["offer"])
    assert "Grace thinks you should meet Ben Ode" in waiting and "Yes, introduce us" in waiting
    assert "@example" not in waiting and "mailto:" not in waiting
    connected = render_page("offer", **{**PAGES["offer"], "status": "connected", "connected": True,
                                        "other": {"name": "Ben Ode", "headline": "", "email": "ben@example.com"}})
    assert "ben@example.com" in connected and "We met" in connected
    for status in ("declined", "expired"):
        closed = render_page("offer", **{**PAGES["offer"], "status": status, "answer": "yes"})
        assert "didn't work out this time" in closed and "declined" not in closed.lower()


def test_intro_emails_say_the_note_and_no_address_before_both_said_yes() -> None:
    subject, text, html = render_email("intro_offer", **EMAILS["intro_offer"])
    assert subject == "Grace thinks you should meet Ben Ode"
    assert "You both build climate software." in text and "CTO at Kiln" in html
    assert "@" not in text.replace("https://", "")
    subject, text, html = render_email("intro_connected", **EMAILS["intro_connected"])
    assert "ben@example.com" in text and 'href="mailto:ben@example.com"' in html
    assert "Thank you, Grace Hopper" in text
    connector = {**EMAILS["intro_declined"], "as_connector": True, "names": ["Ana Lee", "Ben Ode"],
                 "other_name": None}
    for context in (EMAILS["intro_declined"], connector):
        subject, text, _ = render_email("intro_declined", **context)
        assert subject == "It didn't work out this time" and "declined" not in text.lower()
    assert "Ana Lee and Ben Ode" in render_email("intro_declined", **connector)[1]


@pytest.mark.parametrize("name", ["lunch_connected", "lunch_followup", "member_links"])
def test_connected_followup_and_links_emails_offer_an_introduction(name: str) -> None:
    _, text, html = render_email(name, **EMAILS[name], introduce_url="https://l.ex/introduce/t")
    assert "Know two people who should meet?" in text and 'href="https://l.ex/introduce/t"' in html
    _, text, _ = render_email(name, **EMAILS[name])
    assert "Know two people" not in text


def test_a_script_title_is_escaped_in_pages() -> None:
    html = render_page("rsvp", **{**PAGES["rsvp"], "meetup": {**MEETUP, "title": EVIL}})
    assert "<script>" not in html
    assert ESCAPED in html
    html = render_page("error", **{**PAGES["error"], "title": EVIL})
    assert "<script>" not in html and ESCAPED in html


def test_a_script_title_is_escaped_in_html_email_but_plain_in_text() -> None:
    context = {**EMAILS["rsvp_invite"], "meetup": {**MEETUP, "title": EVIL}}
    subject, text, html = render_email("rsvp_invite", **context)
    assert "<script>" not in html
    assert ESCAPED in html
    assert EVIL in text
    assert "&lt;" not in text and "&amp;" not in text
    assert subject.startswith(f"You're invited: {EVIL}")


@pytest.mark.parametrize("name", sorted(EMAILS))
def test_every_email_renders_with_footer(name: str) -> None:
    subject, text, html = render_email(name, **EMAILS[name])
    assert (
        subject
        and "\n" not in subject
        and "\r" not in subject
        and subject == subject.strip()
    )
    assert "{{" not in text + html and "{%" not in text + html
    assert "https://lunch.example/unsubscribe/tok" in text
    assert 'href="https://lunch.example/unsubscribe/tok"' in html
    assert "https://lunch.example/settings/tok" in text  # the footer's settings link
    assert 'href="https://lunch.example/settings/tok"' in html
    assert "Berlin Product Lunch" in text and "Berlin Product Lunch" in html
    assert "Zoë" in text and "Zoë" in html
    assert "\n\n\n\n" not in text


@pytest.mark.parametrize("name", sorted(ORGANIZER_EMAILS))
def test_organizer_emails_render_without_an_unsubscribe_link(name: str) -> None:
    subject, text, html = render_email(name, **ORGANIZER_EMAILS[name])
    assert subject and "\n" not in subject and "{{" not in text + html and "{%" not in text + html
    assert "unsubscribe" not in (text + html).lower() and "None" not in text + html
    assert "/settings/" not in text + html
    assert "You get this because you organize Berlin Product Lunch." in text
    assert "Invite more members" in text and "Invite more members" in html
    assert "\n\n\n\n" not in text


@pytest.mark.parametrize("name", sorted(REVIEW_EMAILS))
def test_review_emails_go_to_the_organizer_with_their_console_link(name: str) -> None:
    subject, text, html = render_email(name, **REVIEW_EMAILS[name])
    assert subject and "\n" not in subject and "{{" not in text + html and "None" not in text + html
    assert "unsubscribe" not in (text + html).lower() and "/settings/" not in text + html
    assert "You get this because you organize Berlin Product Lunch." in text
    url = REVIEW_EMAILS[name].get("review_url") or REVIEW_EMAILS[name]["rounds_url"]
    assert url in text and f'href="{url}"' in html
    assert "Tuesday 3 November 2026" in subject + text
    if name == "round_review":
        assert "4 pairs, and 1 member sits out" in text and "Thursday 5 November at 10:00" in text
    else:
        assert "Its 1 planned pair was not introduced" in text and "Its 1 planned pair was not introduced" in html


def test_public_pages_answer_the_same_and_show_no_names() -> None:
    sent = render_page("join", **{**PAGES["join"], "sent": True})
    assert "Check your email" in sent and "<form" not in sent and "zoe@example.org" not in sent
    closed = render_page("join", **{**PAGES["join"], "join_open": False})
    assert "isn't taking new members right now" in closed and "<form" not in closed
    form = render_page("join", **PAGES["join"])
    assert 'value="zoe@example.org"' in form and 'name="lunch" value="1" checked' in form
    assert 'value="virtual" checked' in form
    event = render_page("event", **PAGES["event"])
    assert WHEN in event and "4 left" in event and "<dd>6</dd>" in event and "personal to you" not in event
    members_only = render_page("event", **{**PAGES["event"], "state": "members_only", "meetup": None})
    assert "This meetup is for members" in members_only and 'href="https://lunch.example/join/grp"' in members_only


def test_join_confirm_goes_to_an_address_with_no_unsubscribe_link() -> None:
    subject, text, html = render_email("join_confirm", **ADDRESS_EMAILS["join_confirm"])
    assert subject == "Confirm you want to join Berlin Product Lunch"
    for body in (text, html):
        assert "https://l.ex/welcome/t" in body and "Product people lunch" in body
        assert "unsubscribe" not in body.lower() and "None" not in body
        assert "Monday 30 March 2026, 11:00 CEST (UTC+02:00)" in body
        assert "sign-up page" in body


@pytest.mark.parametrize("name", MEETUP_EMAILS)
def test_meetup_emails_state_time_and_place(name: str) -> None:
    _, text, html = render_email(name, **EMAILS[name])
    for body in (text, html):
        assert WHEN in body
        assert "Café Zürich, Hauptstraße 1, Berlin" in body


def test_invite_links_to_going_and_cant_go() -> None:
    _, text, html = render_email("rsvp_invite", **EMAILS["rsvp_invite"])
    for body in (text, html):
        assert "https://l.ex/rsvp/t?answer=going" in body
        assert "https://l.ex/rsvp/t?answer=not_going" in body


@pytest.mark.parametrize(
    ("status", "phrase"),
    [
        ("going", "calendar invitation is attached"),
        ("waitlisted", "no calendar entry until then"),
        ("not_going", "can't make it"),
    ],
)
def test_confirmation_variants(status: str, phrase: str) -> None:
    _, text, html = render_email(
        "rsvp_confirmation", **{**EMAILS["rsvp_confirmation"], "status": status}
    )
    assert phrase in text
    assert phrase in html


def test_intro_names_a_trio_and_links_every_action() -> None:
    partners = [*PARTNERS, {"name": "Bo Lind", "headline": None}]
    subject, text, html = render_email(
        "lunch_intro", **{**EMAILS["lunch_intro"], "partners": partners}
    )
    assert subject == "Meet Ada Obi and Bo Lind: your Berlin Product Lunch lunch"
    for body in (text, html):
        assert "Head of Product at Fernweh" in body
        assert "Ada is hiring" in body
        assert "Tuesday, lunch" in body
        for action in ("confirm", "decline", "block"):
            assert f"https://l.ex/pairing/t?do={action}" in body


def test_missing_context_is_an_error() -> None:
    from jinja2 import UndefinedError

    context = dict(EMAILS["rsvp_invite"])
    del context["rsvp_url"]
    with pytest.raises(UndefinedError):
        render_email("rsvp_invite", **context)


def test_when_across_midnight_and_zones() -> None:
    late = format_when(
        datetime(2026, 10, 24, 22, 0, tzinfo=BERLIN),
        datetime(2026, 10, 25, 4, 0, tzinfo=BERLIN),
        "Europe/Berlin",
    )
    assert late == (
        "Saturday 24 October 2026, 22:00 CEST (UTC+02:00) – Sunday 25 October 2026, 04:00 CET (UTC+01:00)"
    )
    kolkata = format_when(
        datetime(2026, 3, 26, 7, 0, tzinfo=UTC),
        datetime(2026, 3, 26, 8, 0, tzinfo=UTC),
        "Asia/Kolkata",
    )
    assert kolkata == "Thursday 26 March 2026, 12:30–13:30 IST (UTC+05:30)"
    assert slot_label("sun-after_work") == "Sunday, after work"
    assert slot_label("Friday breakfast") == "Friday breakfast"


def test_templates_live_inside_chalicelib() -> None:
    # Chalice packages chalicelib/ whole, so the templates ship with the Lambda.
    assert (
        Path(__file__).resolve().parents[2] / "chalicelib" / "templates"
        == TEMPLATES_DIR
    )


@pytest.mark.parametrize(("name", "greeted"), [
    ("Ana Duarte", "Ana"), ("Zoë", "Zoë"), ("  María José  García ", "María"), ("Dr. Ana Duarte", "Dr. Ana Duarte"),
    ("Prof Lee", "Prof Lee"), ("J. R. Smith", "J. R. Smith"), ("Duarte, Ana", "Duarte, Ana"), ("", ""),
])
def test_greetings_use_the_first_name_unless_the_name_starts_with_a_title_or_an_initial(name: str, greeted: str) -> None:
    assert first_name(name) == greeted


def test_a_members_email_greets_them_by_first_name() -> None:
    _, text, html = render_email("lunch_nudge", **{**EMAILS["lunch_nudge"], "member_name": "Ana Duarte"})
    assert "Hi Ana," in text and "Hi Ana," in html and "Ana Duarte" not in text
