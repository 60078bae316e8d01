"""Console pages for lunches (issue 13, parts 3 and 4): the programme's settings (review
included), the rounds with pairs, reasons, scores, answers and feedback, and a held round's
review: swap, take a pair out, see the score change, approve. Every POST needs this session's
CSRF token; a bad form gets its error beside the field and changes nothing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from chalicelib import deps, links
from chalicelib.services import console
from tests.api.console_pages import CSRF, Console, error_beside, mails, text_of
from tests.api.test_console_auth import sign_in
from tests.api.test_lunch_api import of_kind, opt_in_nine, path_of, post_form

SETTINGS: dict[str, str] = {
    "enabled": "on", "cadence": "weekly", "weekday": "tue", "local_hour": "10", "repeat_window": "",
    "odd_rule": "sit_out", "reconnect_after_months": "6", "review": "on", "slot_breakfast": "08:30",
    "slot_coffee": "10:30", "slot_lunch": "12:30", "slot_after_work": "18:00",
}


@pytest.fixture
def con(client: Any, org: Any, outbox_dir: Path) -> Console:
    return Console(client, org.group_id, outbox_dir)


def stored_program(con: Console) -> Any:
    return deps.store().lunch.get_program(con.group_id)


def page(con: Console, path: str) -> str:
    response = con.get(path)
    assert response.status_code == 200, con.text(response)
    return con.text(response)


def held_round(client: Any, org: Any, con: Console) -> tuple[str, str]:
    """Nine members, review on, a round run from the rounds page: (round id, its review page)."""
    opt_in_nine(client, org)
    assert con.post("/lunch", SETTINGS).status_code == 303
    response = con.post("/rounds", {})
    assert response.status_code == 303, con.text(response)
    found = re.fullmatch(rf"{con.base}/rounds/(lrd_\w+)/review\?done=started", response.headers["Location"])
    assert found, response.headers["Location"]
    return found.group(1), page(con, f"/rounds/{found.group(1)}/review")


# ---------------------------------------------------------------- the programme


def test_the_programme_form_saves_every_setting_including_review(con: Console) -> None:
    html = page(con, "/lunch")
    assert "no lunch programme yet" in html and 'name="review"' in html
    response = con.post("/lunch", {**SETTINGS, "repeat_window": "3", "slot_lunch": "13:00"})
    assert response.status_code == 303 and response.headers["Location"] == f"{con.base}/lunch?done=saved"
    saved = stored_program(con)
    assert (saved.review, saved.cadence, saved.repeat_window, saved.odd_rule) == (True, "weekly", 3, "sit_out")
    assert saved.slot_times["lunch"] == "13:00"
    html = page(con, "/lunch?done=saved")
    assert "The lunch programme is saved." in html
    assert re.search(r'name="review" value="on" checked', html) and 'value="13:00"' in html
    off = {k: v for k, v in SETTINGS.items() if k != "review"}  # an unticked box is not sent
    assert con.post("/lunch", off).status_code == 303 and stored_program(con).review is False


@pytest.mark.parametrize(("field", "value", "words"), [
    ("local_hour", "24", "must be at most 23"), ("local_hour", "ten", "must be a whole number"),
    ("local_hour", "", "is required"), ("repeat_window", "0", "must be at least 1"),
    ("reconnect_after_months", "-1", "must be a whole number"), ("cadence", "daily", "must be one of"),
    ("weekday", "<script>", "must be one of"), ("slot_lunch", "25:99", "25:99"),
])
def test_a_bad_setting_is_shown_beside_its_field_and_nothing_is_saved(con: Console, field: str, value: str,
                                                                    words: str) -> None:
    assert con.post("/lunch", SETTINGS).status_code == 303
    before = stored_program(con)
    response = con.post("/lunch", {**SETTINGS, field: value})
    assert response.status_code == 400, con.text(response)
    html = con.text(response)
    if field.startswith("slot_"):  # the four times share one error, under their fieldset
        found = re.search(r'<p class="error-text" id="e-slot_times">(.*?)</p>', html, re.DOTALL)
        assert found
        shown = found.group(1)
    else:
        shown = error_beside(html, field)
    assert words in shown.replace("&#39;", "'").replace("&lt;", "<"), shown
    assert "<script>" not in html
    assert stored_program(con) == before


def test_programme_posts_without_this_sessions_token_are_403_and_change_nothing(
        client: Any, con: Console, outbox_dir: Path) -> None:
    assert con.post("/lunch", SETTINGS).status_code == 303
    before = stored_program(con)
    assert con.post("/lunch", {**SETTINGS, "review": ""}, csrf=None).status_code == 403
    console.add_organizer(con.group_id, "cohost@example.com")
    other = sign_in(client, outbox_dir, "cohost@example.com")
    found = CSRF.search(con.text(client.http.get(con.base, headers={"Cookie": other})))
    assert found and found.group(1) != con.csrf
    assert con.post("/lunch", {**SETTINGS, "review": ""}, csrf=found.group(1)).status_code == 403
    assert stored_program(con) == before and before.review is True


# ---------------------------------------------------------------- review in the console


def test_review_in_the_console_swap_shows_the_score_change_and_approve_sends_the_swapped_pairs(
        client: Any, org: Any, con: Console, outbox_dir: Path) -> None:
    round_id, html = held_round(client, org, con)
    (asked,) = mails(outbox_dir, "round_review")
    assert "host@example.com" in str(asked["To"])  # the console's organizer, who can sign in
    link = re.search(r"https://lunch\.example\.test(/console/\S+/review)", text_of(asked))
    assert link and link.group(1) == f"{con.base}/rounds/{round_id}/review"
    assert of_kind(outbox_dir, "Meet ") == []
    d = org.get(f"lunch-rounds/{round_id}").data
    assert all(reason in html for p in d["pairs"] for reason in p["reasons"])
    p, q = d["pairs"][0], d["pairs"][1]
    a, x = p["member_ids"]
    b, y = q["member_ids"]

    assert con.post(f"/rounds/{round_id}/review", {"action": "swap", "swap_a": a, "swap_b": b, "version": "0"},
                    csrf=None).status_code == 403
    assert org.get(f"lunch-rounds/{round_id}").data["version"] == 0
    response = con.post(f"/rounds/{round_id}/review", {"action": "swap", "swap_a": a, "swap_b": b, "version": "0"})
    assert response.status_code == 303, con.text(response)
    after = org.get(f"lunch-rounds/{round_id}").data
    edit = after["edits"][0]
    change = edit["score_after"] - edit["score_before"]
    html = page(con, f"/rounds/{round_id}/review?done=edited")
    names = {m: n for pair in d["pairs"] for m, n in zip(pair["member_ids"], pair["names"], strict=True)}
    assert f"Swapped {names[a]} and {names[b]}" in html
    assert f"{change:+.1f}" in html and f"{edit['score_before']:.1f}" in html
    # The same form again (a double click) is refused: the round moved on.
    again = con.post(f"/rounds/{round_id}/review", {"action": "swap", "swap_a": a, "swap_b": b, "version": "0"})
    assert again.status_code == 409 and "changed since you saw it" in con.text(again)

    response = con.post(f"/rounds/{round_id}/approve", {})
    assert response.status_code == 303 and response.headers["Location"].endswith("?done=approved")
    intros = {str(m["To"]).split("<")[1].rstrip(">"): str(m["Subject"]) for m in of_kind(outbox_dir, "Meet ")}
    assert len(intros) == 8
    email_of = {mid: deps.store().members.get(con.group_id, mid).email for mid in (a, b)}  # type: ignore[union-attr]
    assert intros[email_of[a]].startswith(f"Meet {names[y]}") and intros[email_of[b]].startswith(f"Meet {names[x]}")
    assert con.post(f"/rounds/{round_id}/approve", {}).status_code == 303
    assert len(of_kind(outbox_dir, "Meet ")) == 8  # approving twice sends nothing more
    html = page(con, f"/rounds/{round_id}/review")
    assert "This round was sent" in html and "Approve and send" not in html


def test_a_swap_breaking_a_hard_rule_is_shown_beside_the_swap_and_changes_nothing(
        client: Any, org: Any, con: Console) -> None:
    round_id, _ = held_round(client, org, con)
    d = org.get(f"lunch-rounds/{round_id}").data
    moved = d["pairs"][1]["member_ids"][0]
    assert org.patch(f"members/{moved}", {"lunch": {"city": "Porto"}}).status_code == 200
    response = con.post(f"/rounds/{round_id}/review",
                        {"action": "swap", "swap_a": d["pairs"][0]["member_ids"][0], "swap_b": moved, "version": "0"})
    assert response.status_code == 409
    assert "they are not in the same city" in error_beside(con.text(response), "swap_a")
    assert org.get(f"lunch-rounds/{round_id}").data["version"] == 0


def test_taking_a_pair_out_in_the_console_sits_them_out(client: Any, org: Any, con: Console, outbox_dir: Path) -> None:
    round_id, _ = held_round(client, org, con)
    gone = org.get(f"lunch-rounds/{round_id}").data["pairs"][0]
    response = con.post(f"/rounds/{round_id}/review", {"action": "remove", "pair_id": gone["pair_id"], "version": "0"})
    assert response.status_code == 303, con.text(response)
    html = page(con, f"/rounds/{round_id}/review")
    assert f"Took out {gone['names'][0]} and {gone['names'][1]}" in html
    assert f"{-gone['score']:+.1f}" in html
    assert con.post(f"/rounds/{round_id}/approve", {}).status_code == 303
    assert len(of_kind(outbox_dir, "Meet ")) == 6
    assert all(deps.store().lunch.get_record(con.group_id, m).sat_out_round == round_id for m in gone["member_ids"])


# ---------------------------------------------------------------- the rounds page


def test_the_rounds_page_shows_pairs_reasons_scores_answers_and_feedback(
        client: Any, org: Any, con: Console, outbox_dir: Path) -> None:
    opt_in_nine(client, org)
    assert con.post("/lunch", {**SETTINGS, "review": ""}).status_code == 303
    response = con.post("/rounds", {})
    assert response.status_code == 303
    round_id = org.get("lunch-rounds").data["items"][0]["round_id"]
    d = org.get(f"lunch-rounds/{round_id}").data
    pair = d["pairs"][0]
    first, second = pair["member_ids"]
    for mid in (first, second):
        url = links.pairing_url(con.group_id, pair["pair_id"], mid)
        assert post_form(client, path_of(url), {"action": "confirm"}).status_code == 200
    url = links.pairing_url(con.group_id, pair["pair_id"], first)
    assert post_form(client, path_of(url), {"action": "feedback", "met": "yes", "rating": "5",
                                             "note": "Talked <b>hiring</b> for an hour"}).status_code == 200
    html = page(con, "/rounds")
    assert "Round of 2026-11-02" in html and "sent" in html
    for p in d["pairs"]:
        assert all(name in html for name in p["names"]) and f"{p['score']:.1f}" in html
        assert all(reason.replace("'", "&#39;").replace('"', "&#34;") in html for reason in p["reasons"])
    assert f"{pair['names'][0]}: will meet; met, rated 5/5: “Talked &lt;b&gt;hiring&lt;/b&gt; for an hour”" in html
    assert f"{pair['names'][1]}: will meet</p>" in html
    assert "Connected: they have each other" in html
    assert f"Sat out: {d['sat_out'][0]['name']}" in html
    assert page(con, f"/rounds/{round_id}").count("Round of 2026-11-02") == 1
    # A second plain start the same day: the 409 says why, on the page.
    response = con.post("/rounds", {})
    assert response.status_code == 409 and "A round already ran today" in con.text(response)
    assert con.post("/rounds", {}, csrf=None).status_code == 403
    assert len(org.get("lunch-rounds").data["items"]) == 1


def test_another_groups_organizer_gets_404_for_this_round(client: Any, org: Any, other_org: Any, con: Console,
                                                          outbox_dir: Path) -> None:
    round_id, _ = held_round(client, org, con)
    console.add_organizer(other_org.group_id, "other@example.com")
    cookie = sign_in(client, outbox_dir, "other@example.com")
    theirs = f"/console/{other_org.group_id}/rounds/{round_id}"
    assert client.http.get(theirs + "/review", headers={"Cookie": cookie}).status_code == 404
    found = CSRF.search(con.text(client.http.get(f"/console/{other_org.group_id}", headers={"Cookie": cookie})))
    assert found
    approve = client.http.post(theirs + "/approve", headers={
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}, body=f"csrf_token={found.group(1)}")
    assert approve.status_code == 404
    assert con.get(f"/../{other_org.group_id}/rounds").status_code in (403, 404)
    assert org.get(f"lunch-rounds/{round_id}").data["status"] == "review"


@pytest.mark.parametrize(("form", "where", "status"), [
    ({"action": "swap", "swap_a": "<script>alert(1)</script>", "swap_b": "x", "version": "0"}, "swap_a", 400),
    ({"action": "swap", "swap_a": "m" * 500, "swap_b": "x", "version": "0"}, "swap_a", 400),
    ({"action": "swap", "swap_a": "", "swap_b": "", "version": "0"}, "swap_a", 400),
    ({"action": "remove", "pair_id": "<b>lpr_x</b>", "version": "0"}, "form", 400),
    ({"action": "remove", "pair_id": "lpr_x", "version": "zero"}, "form", 400),
])
def test_hostile_review_forms_get_an_error_and_change_nothing(client: Any, org: Any, con: Console,
                                                               form: dict[str, str], where: str, status: int) -> None:
    round_id, _ = held_round(client, org, con)
    before = org.get(f"lunch-rounds/{round_id}").data
    response = con.post(f"/rounds/{round_id}/review", form)
    assert response.status_code == status, con.text(response)
    html = con.text(response)
    assert "<script>alert(1)" not in html and "<b>lpr_x" not in html
    if where == "form":
        assert re.search(r'<p class="flash error" role="alert">.+</p>', html)
        if form["version"] == "zero":
            assert "This form is out of date or damaged: nothing changed." in html
    else:
        assert error_beside(html, where)
    after = org.get(f"lunch-rounds/{round_id}").data
    assert (after["version"], pairs_of(after)) == (0, pairs_of(before))


def pairs_of(d: dict[str, Any]) -> set[frozenset[str]]:
    return {frozenset(p["member_ids"]) for p in d["pairs"]}
