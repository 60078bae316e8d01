"""Console templates (templates/console/): every page extends console/base.html and holds no
script and no style attribute (the CSP allows only pages/base.html's hashed style block); the
framework's own pages render with every state they have, escaping what they show."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from markupsafe import Markup

from chalicelib.mail.render import TEMPLATES_DIR, page_csp, render_console_page
from chalicelib.models import Group, LunchProgram, Meetup
from chalicelib.services.console_home import DeadRow, ProblemRow
from chalicelib.store.delivery import DeadMail, Problem

EVIL = "<script>alert('x')</script> & Tea"
ESCAPED = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Tea"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
GROUP = Group(group_id="grp_1", name=EVIL, timezone="Europe/Lisbon", sender_name="S", created_at=NOW,
              organizers=["host@example.com", "co@example.com"])
SESSION = SimpleNamespace(email="host@example.com", group_id="grp_1")
NAV = [("home", "Home", "/console/grp_1"), ("delivery", "Delivery", "/console/grp_1/delivery")]
SIGNED_IN: dict[str, Any] = {"group": GROUP, "session": SESSION, "email": SESSION.email, "nav": NAV,
                             "active": "home", "csrf": Markup('<input type="hidden" name="csrf_token" value="t">'),
                             "console_base": "/console/grp_1", "group_name": GROUP.name, "flash": None,
                             "flash_kind": "ok"}
SIGNED_OUT: dict[str, Any] = {"group": None, "session": None, "email": None, "nav": [], "active": None, "csrf": "",
                              "group_name": None, "flash": None, "flash_kind": "ok"}
MEETUP = Meetup(meetup_id="mtg_1", group_id="grp_1", title=EVIL, starts_at=NOW, ends_at=NOW, timezone="Europe/Lisbon",
                rsvp_closes_at=NOW, capacity=10, going_seats=3, waitlist_count=1, created_at=NOW, updated_at=NOW)
PROGRAM = LunchProgram(group_id="grp_1", cadence="weekly", created_at=NOW, updated_at=NOW)
STATES = {"queued": 1, "sent": 20, "suppressed": 2, "dead": 1}
MEMBER = SimpleNamespace(name=EVIL, email="jane@example.com", bounced=True, complained=False)

CASES: dict[str, list[dict[str, Any]]] = {
    "start": [{**SIGNED_OUT, "sent": False, "posted": {"email": EVIL}, "field_error": "is not an email address"},
              {**SIGNED_OUT, "sent": True, "posted": {}, "field_error": None}],
    "signin": [{**SIGNED_OUT, "state": s, "token": "tok"} for s in ("ok", "used", "expired", "invalid")],
    "groups": [{**SIGNED_OUT, "session": SESSION, "email": SESSION.email, "csrf": SIGNED_IN["csrf"],
                "groups": [GROUP]},
               {**SIGNED_OUT, "session": SESSION, "email": SESSION.email, "csrf": SIGNED_IN["csrf"], "groups": []}],
    "error": [{**SIGNED_IN, "status_code": 404, "title": "We couldn't find that", "message": EVIL, "hint": "h"},
              {**SIGNED_OUT, "status_code": 403, "title": "t", "message": None, "hint": ""}],
    "home": [{**SIGNED_IN, "meetups": [MEETUP], "program": PROGRAM, "next_round_at": NOW, "rounds": [],
              "states": STATES, "timezone": "Europe/Lisbon",
              "attention": [{"text": EVIL, "url": "/console/grp_1/delivery"}]},
             {**SIGNED_IN, "meetups": [], "program": None, "next_round_at": None, "rounds": [],
              "states": dict.fromkeys(STATES, 0), "timezone": "Europe/Lisbon", "attention": []}],
    "delivery": [{**SIGNED_IN, "active": "delivery", "totals": STATES, "states": tuple(STATES), "period_days": 30,
                  "timezone": "Europe/Lisbon", "days": [(date(2026, 11, 1), STATES)],
                  "dead": [DeadRow(mail=DeadMail(mail_id="m", member_id="mem_1", kind="rsvp_invite", error=EVIL,
                                                 attempts=5, created_at=NOW, died_at=NOW), to=EVIL)],
                  "problems": [ProblemRow(problem=Problem(member_id="mem_1", flag="bounced", at=NOW),
                                          member=MEMBER)]},  # type: ignore[arg-type]
                 {**SIGNED_IN, "totals": dict.fromkeys(STATES, 0), "states": tuple(STATES), "period_days": 30,
                  "timezone": "Europe/Lisbon", "days": [], "dead": [], "problems": []}],
    "organizers": [{**SIGNED_IN, "posted": {"email": EVIL}, "field_error": "is not an email address"},
                   {**SIGNED_IN, "group": GROUP.model_copy(update={"organizers": ["host@example.com"]}),
                    "posted": {}, "field_error": None}],
}


def test_every_console_template_extends_the_console_base_without_script_or_style() -> None:
    for path in sorted((TEMPLATES_DIR / "console").glob("*.html")):
        source = path.read_text()
        assert "<script" not in source.lower(), path.name
        assert " style=" not in source and "<style" not in source, path.name
        if path.name != "base.html" and not path.name.startswith("_"):
            assert '{% extends "console/base.html" %}' in source, path.name


@pytest.mark.parametrize(("name", "index"), [(n, i) for n, cases in CASES.items() for i in range(len(cases))])
def test_the_frameworks_pages_render_escaped_and_labelled(name: str, index: int) -> None:
    html = render_console_page(name, **CASES[name][index])
    assert html.startswith("<!doctype html>") and "<script" not in html and " style=" not in html
    assert "<script>alert" not in html
    if EVIL in str(CASES[name][index]):
        assert ESCAPED in html
    assert html.count("<style>") == 1  # pages/base.html's one block: the CSP's hash covers it
    labelled = set(re.findall(r'<label for="([^"]+)"', html))
    for control in re.finditer(r"<(input|select|textarea)\b([^>]*)>", html):
        if 'type="hidden"' in control.group(2):
            continue
        found = re.search(r'\bid="([^"]+)"', control.group(2))
        assert found and found.group(1) in labelled, (name, control.group(0))
    for form in re.findall(r'<form method="post"[^>]*>(.*?)</form>', html, re.DOTALL):
        if CASES[name][index]["session"] is not None and 'action="/console/signin' not in form:
            assert 'name="csrf_token"' in form, (name, form)  # every signed-in form carries the token
    assert "sha256-" in page_csp()


def test_error_beside_the_field() -> None:
    html = render_console_page("organizers", **CASES["organizers"][0])
    assert 'aria-invalid="true" aria-describedby="e-email"' in html
    assert '<p class="error-text" id="e-email">Email is not an email address</p>' in html
    assert Counter(re.findall(r'name="csrf_token"', html))['name="csrf_token"'] >= 2


def _insights_sentence(pairs: list[Any]) -> str:
    from chalicelib.models import LunchPair, Member
    from chalicelib.services import insights

    people = [Member(member_id=m, group_id="grp_1", email=f"{m}@example.com", name=f"Name {m}", created_at=NOW,
                     updated_at=NOW) for m in "abcd"]
    lunches = [LunchPair(pair_id=f"lpr_{n}", round_id=f"lrd_{n}", group_id="grp_1", member_ids=list(two),
                         responses=dict.fromkeys(two, "confirmed"), created_at=NOW) for n, two in enumerate(pairs)]
    context = insights.page_context(GROUP, people, lunches, [], [], insights.Timings())
    html = render_console_page("insights", **SIGNED_IN, **context)
    found = re.search(r'<h2 id="h-network">The relationship network</h2>\s*<p>(.*?) Each circle', html, re.DOTALL)
    assert found is not None
    return " ".join(found.group(1).split())


def test_the_network_sentence_counts_only_what_happened() -> None:
    assert _insights_sentence([]) == "0 of your 4 members have met someone at lunch or been introduced."
    assert _insights_sentence([("a", "b")]) == (
        "2 of your 4 members have met someone at lunch or been introduced: 1 pair of members met at lunch.")
    assert _insights_sentence([("a", "b"), ("a", "b"), ("c", "d")]) == (
        "4 of your 4 members have met someone at lunch or been introduced: 2 pairs of members met at lunch"
        " (3 times in all: some met more than once).")
