"""The lunch console templates (lunch, rounds, review) in every state they have: escaped once,
every control labelled, every POST form carrying the CSRF token, errors beside their field."""

from __future__ import annotations

import re
from typing import Any

import pytest

from chalicelib.mail.render import render_console_page
from tests.unit.test_console_templates import ESCAPED, EVIL, SIGNED_IN

FORM = {"enabled": "on", "cadence": "weekly", "weekday": "tue", "local_hour": "10", "repeat_window": "",
        "odd_rule": "trio", "reconnect_after_months": "6", "review": "on", "slot_times": "",
        "slot_breakfast": "08:30", "slot_coffee": "10:30", "slot_lunch": "12:30", "slot_after_work": "18:00"}
PAIR = {"pair_id": "lpr_1", "member_ids": ["mem_a", "mem_b"], "names": [EVIL, "Ben Ode"], "score": 4.0,
        "reasons": [f"{EVIL} and Ben are both into climate"], "slot": "tue-lunch", "slot_zone": None,
        "origin": "round", "connected": False, "responses": {"mem_a": "confirmed"},
        "feedback": {"mem_a": {"met": True, "rating": 5, "note": EVIL, "no_show": []}}}
ROUND: dict[str, Any] = {
    "round_id": "lrd_1", "local_date": "2026-11-03", "trigger": "schedule", "status": "review", "pair_count": 1,
    "participants": 3, "total_score": 4.0, "outcome": None, "review_until": "2026-11-05T10:00:00+00:00",
    "approved_at": None, "version": 1, "edits": [], "pairs": [PAIR],
    "sat_out": [{"member_id": "mem_c", "name": EVIL}],
}
EDIT = {"kind": "swap", "member_ids": ["mem_a", "mem_c"], "names": [EVIL, "Cy"], "score_before": 5.0,
        "score_after": 4.0, "score_change": -1.0}

CASES: dict[str, list[dict[str, Any]]] = {
    "lunch": [{**SIGNED_IN, "program": None, "form": FORM, "form_errors": {}, "zone": "Europe/Lisbon"},
              {**SIGNED_IN, "program": object(), "form": {**FORM, "local_hour": EVIL},
               "form_errors": {"local_hour": "must be a whole number", "slot_times": "'25:99' is not a time"},
               "zone": "Europe/Lisbon"}],
    "rounds": [{**SIGNED_IN, "rounds": [ROUND, {**ROUND, "status": "done", "round_id": "lrd_2"},
                                        {**ROUND, "status": "expired", "pairs": [], "sat_out": []}],
                "next_cursor": "c", "single": False},
               {**SIGNED_IN, "rounds": [], "next_cursor": None, "single": False},
               {**SIGNED_IN, "rounds": [ROUND], "next_cursor": None, "single": True}],
    "review": [{**SIGNED_IN, "round": ROUND, "people": [("mem_a", EVIL), ("mem_b", "Ben Ode"), ("mem_c", EVIL)],
                "edits": [EDIT], "form_errors": {"swap": f"{EVIL} and Cy can't be paired: they have no time in common."},
                "posted": {"swap_a": "mem_a", "swap_b": "mem_c"}},
               {**SIGNED_IN, "round": {**ROUND, "status": "done", "approved_at": "x"}, "people": [], "edits": [],
                "form_errors": {"form": "this round is sent already"}, "posted": {}}],
}


@pytest.mark.parametrize(("name", "index"), [(n, i) for n, cases in CASES.items() for i in range(len(cases))])
def test_lunch_console_pages_render_escaped_labelled_and_with_the_token(name: str, index: int) -> None:
    html = render_console_page(name, **CASES[name][index])
    assert html.startswith("<!doctype html>") and "<script" not in html and " style=" not in html
    assert "&amp;lt;" not in html  # nothing escaped twice
    if EVIL in str(CASES[name][index]):
        assert ESCAPED in html
    labelled = set(re.findall(r'<label for="([^"]+)"', html))
    for control in re.finditer(r"<(input|select|textarea)\b([^>]*)>", html):
        if 'type="hidden"' in control.group(2):
            continue
        found = re.search(r'\bid="([^"]+)"', control.group(2))
        assert found and found.group(1) in labelled, (name, control.group(0))
    forms = re.findall(r'<form method="post"[^>]*>(.*?)</form>', html, re.DOTALL)
    assert all('name="csrf_token"' in form for form in forms), name


def test_the_review_page_shows_each_edits_score_change_and_the_error_beside_the_swap() -> None:
    html = render_console_page("review", **CASES["review"][0])
    assert f"Swapped {ESCAPED} and Cy" in html and ">-1.0<" in html and ">5.0<" in html and ">4.0<" in html
    assert 'aria-invalid="true" aria-describedby="e-swap_a"' in html
    assert re.search(r'<p class="error-text" id="e-swap_a">Not swapped: .*no time in common', html)
    assert 'value="mem_c" selected' in html and "(sitting out)" in html
    assert 'name="version" value="1"' in html and "Approve and send the introductions" in html
    assert "approved by Thursday 5 November 2026, 10:00 WET (UTC+00:00), it expires" in html
    done = render_console_page("review", **CASES["review"][1])
    assert "This round was sent" in done and "Approve and send" not in done and "<select" not in done


def test_the_rounds_page_says_what_each_status_means() -> None:
    html = render_console_page("rounds", **CASES["rounds"][0])
    assert "waiting for your review" in html and "Review and approve" in html
    assert "expired, nothing sent" in html and "Nobody got an email about this round" in html
    assert f"{ESCAPED}: will meet; met, rated 5/5: “{ESCAPED}”" in html and "Ben Ode: no answer" in html
    assert "Tuesday, lunch" in html and "Older rounds" in html
    assert "before Thursday 5 November 2026, 10:00 WET (UTC+00:00)" in html  # the group's zone, as people read it


def test_the_programme_form_shows_errors_beside_their_fields() -> None:
    html = render_console_page("lunch", **CASES["lunch"][1])
    assert '<p class="error-text" id="e-local_hour">At hour (0–23) must be a whole number</p>' in html
    assert '<p class="error-text" id="e-slot_times">Times &#39;25:99&#39; is not a time</p>' in html
    assert "Nothing was saved" in html and "Save changes" in html
    fresh = render_console_page("lunch", **CASES["lunch"][0])
    assert "no lunch programme yet" in fresh and 'id="f-review" name="review" value="on" checked' in fresh
