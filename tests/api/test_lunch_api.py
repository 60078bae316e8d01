"""Lunch pairing through HTTP on moto: programme, preferences page, rounds, intros, pages, stats."""

from __future__ import annotations

import email
import email.policy
import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from chalicelib import deps, links

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
PAIRING_LINK = re.compile(r"https://lunch\.example\.test/pairing/[A-Za-z0-9_.\-]+")
PROGRAM = {"enabled": True, "cadence": "weekly", "weekday": "tue", "local_hour": 10,
           "odd_rule": "trio"}


# ---------------------------------------------------------------- helpers


def mails(outbox: Path) -> list[email.message.EmailMessage]:
    if not outbox.exists():
        return []
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for p in sorted(outbox.glob("*.eml"))]


def text_of(msg: email.message.EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def of_kind(outbox: Path, subject_start: str) -> list[email.message.EmailMessage]:
    return [m for m in mails(outbox) if str(m["Subject"]).startswith(subject_start)]


def path_of(url: str) -> str:
    return urlsplit(url).path


def post_form(client: Any, path: str, fields: dict[str, Any]) -> Any:
    return client.http.post(path, headers=FORM, body=urlencode(fields, doseq=True).encode())


def add_members(org: Any, n: int, city: str = "Lisbon") -> list[dict[str, Any]]:
    people = [{"email": f"person{i}@example.com", "name": f"Person{i} Test", "headline": f"Role {i}"}
              for i in range(n)]
    r = org.post("members", {"members": people})
    assert r.status_code == 201, r.data
    return sorted(r.data["created"], key=lambda m: m["email"])


def opt_in_nine(client: Any, org: Any) -> list[str]:
    """Nine members in Lisbon: five opt in on their /lunch page, four through the organizer."""
    members = add_members(org, 9)
    ids = [m["member_id"] for m in members]
    for i, mid in enumerate(ids[:5]):
        url = links.lunch_url(org.group_id, mid)
        r = post_form(client, path_of(url), {
            "opt_in": "in", "mode": "in_person", "city": "Lisbon", "interests": "climate, product",
            "goals": ["meet_peers", "hiring" if i % 2 else "find_job"], "offers": "intros to VCs",
            "asks": "advice on hiring", "availability": ["tue-lunch", "wed-coffee"]})
        assert r.status_code == 200, r.body
    for mid in ids[5:]:
        r = org.patch(f"members/{mid}", {"lunch": {"opted_in": True, "city": "lisbon",
                                                   "interests": ["Climate"], "goals": ["meet_peers"],
                                                   "availability": ["tue-lunch"]}})
        assert r.status_code == 200, r.data
    return ids


def run_round(org: Any) -> dict[str, Any]:
    # These tests run several rounds in one day, so they say `again` (tests/api/test_manual_rounds.py
    # checks that a plain second start that day is refused).
    r = org.post("lunch-rounds", {"again": True})
    assert r.status_code == 202, r.data
    detail = org.get(f"lunch-rounds/{r.data['round_id']}")
    assert detail.status_code == 200
    return dict(detail.data)


def nine_lunched(client: Any, org: Any) -> list[dict[str, Any]]:
    """`opt_in_nine`, the programme, one round, and everyone in it confirmed: its pairs, all met."""
    opt_in_nine(client, org)
    assert org.call("PUT", "lunch-program", PROGRAM).status_code == 201
    pairs: list[dict[str, Any]] = run_round(org)["pairs"]
    for pair in pairs:
        for mid in pair["member_ids"]:
            deps.store().lunch.respond(org.group_id, pair["pair_id"], mid, "confirmed")
    return pairs


# ---------------------------------------------------------------- programme


def test_programme_get_before_put_is_404_then_put_and_get(org: Any) -> None:
    r = org.get("lunch-program")
    assert r.status_code == 404
    assert "no lunch programme" in r.data["error"]["message"]
    r = org.call("PUT", "lunch-program", PROGRAM)
    assert r.status_code == 201
    r = org.call("PUT", "lunch-program", {**PROGRAM, "cadence": "monthly", "repeat_window": 3})
    assert r.status_code == 200
    got = org.get("lunch-program").data
    assert got["cadence"] == "monthly" and got["repeat_window"] == 3 and got["odd_rule"] == "trio"


def test_programme_bad_fields_are_named(org: Any) -> None:
    for body, field in (({"cadence": "daily"}, "cadence"), ({"local_hour": 24}, "local_hour"),
                        ({"odd_rule": "pair"}, "odd_rule"), ({"weekday": "tuesday"}, "weekday"),
                        ({"colour": 1}, "colour")):
        r = org.call("PUT", "lunch-program", body)
        assert r.status_code == 400 and r.data["error"]["field"] == field, (body, r.data)
    assert org.get("lunch-program").status_code == 404


def test_invitations_are_sent_once_with_a_working_preferences_link(client: Any, org: Any,
                                                                   outbox_dir: Path) -> None:
    members = add_members(org, 3)
    assert org.post("lunch-program/invitations", {}).status_code == 404  # no programme yet
    org.call("PUT", "lunch-program", PROGRAM)
    r = org.post("lunch-program/invitations", {})
    assert r.status_code == 202 and r.data["status"] == "queued"
    job = org.get(f"jobs/{r.data['job_id']}").data
    assert (job["status"], job["total"], job["recorded"], job["sent"], job["skipped"]) == ("done", 3, 3, 3, 0)
    r = org.post("lunch-program/invitations", {"member_ids": [members[0]["member_id"]]})
    job = org.get(f"jobs/{r.data['job_id']}").data
    assert (job["status"], job["total"], job["recorded"], job["skipped"]) == ("done", 1, 0, 1)
    invites = of_kind(outbox_dir, "Lunch with someone new")
    assert len(invites) == 3
    url = re.search(r"https://lunch\.example\.test/lunch/\S+", text_of(invites[0]))
    assert url is not None
    page = client.http.get(path_of(url.group(0)))
    assert page.status_code == 200 and "Lunch pairing" in page.body.decode()
    r = org.post("lunch-program/invitations", {"member_ids": ["mem_nope"]})
    assert r.status_code == 400 and r.data["error"]["field"] == "member_ids"


# ---------------------------------------------------------------- preferences page


def test_preferences_page_shows_saves_and_names_bad_fields(client: Any, org: Any) -> None:
    mid = add_members(org, 1)[0]["member_id"]
    path = path_of(links.lunch_url(org.group_id, mid))
    before = org.get(f"members/{mid}").data
    assert client.http.get(path).status_code == 200
    assert org.get(f"members/{mid}").data == before  # GET changed nothing
    r = post_form(client, path, {"opt_in": "in", "mode": "in_person", "city": "Porto",
                                 "interests": "ai", "goals": ["learn", "be_famous"],
                                 "offers": "code review"})
    assert r.status_code == 400
    body = r.body.decode()
    assert "Goals" in body and "code review" in body and "Porto" in body  # nothing lost
    assert org.get(f"members/{mid}").data["lunch"]["opted_in"] is False
    r = post_form(client, path, {"opt_in": "in", "mode": "in_person", "city": "Porto",
                                 "interests": "AI,  Climate Tech", "goals": ["learn"],
                                 "skip_next": "1", "availability": ["mon-breakfast"]})
    assert r.status_code == 200
    lunch = org.get(f"members/{mid}").data["lunch"]
    assert lunch["opted_in"] and lunch["skip_next"] and lunch["city"] == "Porto"
    assert lunch["interests"] == ["ai", "climate tech"] and lunch["availability"] == ["mon-breakfast"]
    assert post_form(client, path, {"opt_in": "in", "availability": ["funday-lunch"],
                                    "mode": "virtual"}).status_code == 400


def test_tampered_and_expired_lunch_links(client: Any, org: Any, clock: Any) -> None:
    mid = add_members(org, 1)[0]["member_id"]
    path = path_of(links.lunch_url(org.group_id, mid))
    assert client.http.get(path[:-3] + "abc").status_code == 403
    assert client.http.get(path_of(links.pairing_url(org.group_id, "lpr_x", mid)).replace(
        "/pairing/", "/lunch/")).status_code == 403
    clock.advance(days=61)
    assert client.http.get(path).status_code == 410


# ---------------------------------------------------------------- rounds


@pytest.mark.parametrize("odd_rule", ["trio", "sit_out"])
def test_a_round_pairs_everyone_per_the_odd_rule(client: Any, org: Any, outbox_dir: Path,
                                                 odd_rule: str) -> None:
    ids = opt_in_nine(client, org)
    org.call("PUT", "lunch-program", {**PROGRAM, "odd_rule": odd_rule})
    detail = run_round(org)
    assert detail["status"] == "done"
    sizes = sorted(len(p["member_ids"]) for p in detail["pairs"])
    paired = [m for p in detail["pairs"] for m in p["member_ids"]]
    assert len(paired) == len(set(paired))
    if odd_rule == "trio":
        assert sizes == [2, 2, 2, 3] and detail["sat_out"] == []
        assert sorted(paired) == sorted(ids)
    else:
        assert sizes == [2, 2, 2, 2] and len(detail["sat_out"]) == 1
        assert sorted([*paired, detail["sat_out"][0]["member_id"]]) == sorted(ids)
    for p in detail["pairs"]:
        assert p["reasons"] and all("{" not in r for r in p["reasons"])
        assert all(n and n.startswith("Person") for n in p["names"])
    intros = of_kind(outbox_dir, "Meet ")
    assert Counter(str(m["To"]) for m in intros).most_common(1)[0][1] == 1
    assert len(intros) == len(paired)


def test_intro_links_open_the_pairing_page_and_confirm(client: Any, org: Any, outbox_dir: Path) -> None:
    opt_in_nine(client, org)
    org.call("PUT", "lunch-program", PROGRAM)
    detail = run_round(org)
    intro = of_kind(outbox_dir, "Meet ")[0]
    text = text_of(intro)
    assert "Why we think you should meet" in text
    link = PAIRING_LINK.search(text)
    assert link is not None
    path = path_of(link.group(0))
    page = client.http.get(path)
    assert page.status_code == 200
    assert "Are you in?" in page.body.decode()
    r = post_form(client, path, {"action": "confirm"})
    assert r.status_code == 200 and "You confirmed" in r.body.decode()
    r = post_form(client, path, {"action": "confirm"})  # twice: the same answer
    assert r.status_code == 200
    after = org.get(f"lunch-rounds/{detail['round_id']}").data
    confirmed = [v for p in after["pairs"] for v in p["responses"].values()]
    assert confirmed == ["confirmed"]
    assert post_form(client, path, {"action": "dance"}).status_code == 400
    assert post_form(client, path, {"action": "feedback", "met": "yes", "rating": "9"}).status_code == 400
    assert post_form(client, path, {"action": "feedback", "met": "yes",
                                    "note": "x" * 1001}).status_code == 400
    assert client.http.get(path[:-2] + "zz").status_code == 403


def test_followup_a_week_later_feedback_and_stats(client: Any, org: Any, outbox_dir: Path,
                                                  clock: Any) -> None:
    from chalicelib.services import schedules

    opt_in_nine(client, org)
    org.call("PUT", "lunch-program", PROGRAM)
    run_round(org)
    schedules.run_hourly(clock())
    assert of_kind(outbox_dir, "How was lunch") == []
    clock.advance(days=7)
    schedules.run_hourly(clock())
    followups = of_kind(outbox_dir, "How was lunch")
    assert len(followups) == 9
    schedules.run_hourly(clock())
    assert len(of_kind(outbox_dir, "How was lunch")) == 9
    link = PAIRING_LINK.search(text_of(followups[0]))
    assert link is not None
    page = client.http.get(path_of(link.group(0)))
    assert "After you met" in page.body.decode()
    r = post_form(client, path_of(link.group(0)), {"action": "feedback", "met": "yes", "rating": "4",
                                                   "note": "Great chat"})
    assert r.status_code == 200 and "rated it 4 out of 5" in r.body.decode()
    stats = org.get("stats").data
    assert stats["members"] == 9 and stats["opted_in"] == 9 and stats["rounds"] == 1
    assert stats["pairs"] == 4 and stats["average_rating"] == 4 and stats["met_rate"] == 0.25
    assert stats["repeat_pairs"] == 0


def test_several_rounds_never_repeat_a_pair_and_a_block_holds(client: Any, org: Any) -> None:
    opt_in_nine(client, org)
    org.call("PUT", "lunch-program", {**PROGRAM, "odd_rule": "sit_out"})
    first = run_round(org)
    blocked = first["pairs"][0]["member_ids"]
    url = links.pairing_url(org.group_id, first["pairs"][0]["pair_id"], blocked[0])
    r = post_form(client, path_of(url), {"action": "block"})
    assert r.status_code == 200 and "We won't" in r.body.decode()
    # With a repeat window of 1 every pair may come back after one round, except the blocked one.
    org.call("PUT", "lunch-program", {**PROGRAM, "odd_rule": "sit_out", "repeat_window": 1})
    previous = {frozenset(p["member_ids"]) for p in first["pairs"]}
    for _ in range(4):
        detail = run_round(org)
        pairs = {frozenset(p["member_ids"]) for p in detail["pairs"]}
        assert frozenset(blocked) not in pairs
        assert not pairs & previous  # window 1: not again in the very next round
        previous = pairs
    assert org.get("stats").data["repeat_pairs"] == 0
    rounds = org.get("lunch-rounds").data["items"]
    assert len(rounds) == 5 and rounds[0]["created_at"] >= rounds[-1]["created_at"]
    assert sorted(r["seq"] for r in rounds) == [1, 2, 3, 4, 5]  # a PUT keeps the round counter


def test_never_repeat_by_default_over_rounds(client: Any, org: Any) -> None:
    opt_in_nine(client, org)
    org.call("PUT", "lunch-program", {**PROGRAM, "odd_rule": "sit_out"})
    seen: set[frozenset[str]] = set()
    for _ in range(3):
        pairs = {frozenset(p["member_ids"]) for p in run_round(org)["pairs"]}
        assert not pairs & seen
        seen |= pairs
    assert org.get("stats").data["repeat_pairs"] == 0


def test_a_round_started_twice_is_one_round_with_one_intro_each(client: Any, org: Any,
                                                               outbox_dir: Path, clock: Any) -> None:
    from datetime import UTC, datetime

    from chalicelib.services import pairing, schedules

    opt_in_nine(client, org)
    org.call("PUT", "lunch-program", PROGRAM)
    clock.set(datetime(2026, 11, 3, 10, 5, tzinfo=UTC))  # Tuesday 10:05 in Lisbon (WET)
    assert schedules.run_hourly(clock())["lunch_rounds"] == 1
    assert schedules.run_hourly(clock())["lunch_rounds"] == 0
    clock.advance(hours=1)
    assert pairing.start_due_rounds(clock()) == 0
    rounds = org.get("lunch-rounds").data["items"]
    assert len(rounds) == 1 and rounds[0]["trigger"] == "schedule"
    intros = of_kind(outbox_dir, "Meet ")
    assert len(intros) == 9 and len({str(m["To"]) for m in intros}) == 9


def test_skip_next_sits_out_one_round_only(client: Any, org: Any) -> None:
    ids = opt_in_nine(client, org)
    org.call("PUT", "lunch-program", PROGRAM)
    org.patch(f"members/{ids[0]}", {"lunch": {"skip_next": True}})
    detail = run_round(org)
    assert ids[0] not in [m for p in detail["pairs"] for m in p["member_ids"]]
    assert org.get(f"members/{ids[0]}").data["lunch"]["skip_next"] is False
    detail = run_round(org)
    assert ids[0] in [m for p in detail["pairs"] for m in p["member_ids"]]


def test_three_ignored_rounds_pause_a_member_and_opting_in_unpauses(client: Any, org: Any,
                                                                   outbox_dir: Path, clock: Any) -> None:
    from chalicelib.services import schedules

    ids = opt_in_nine(client, org)
    org.call("PUT", "lunch-program", {**PROGRAM, "repeat_window": 1})
    for _ in range(3):
        detail = run_round(org)
        for p in detail["pairs"]:  # everyone answers but ids[0]
            for mid in p["member_ids"]:
                if mid != ids[0]:
                    post_form(client, path_of(links.pairing_url(org.group_id, p["pair_id"], mid)),
                              {"action": "confirm"})
        clock.advance(days=7)
        schedules.run_hourly(clock())
    paused = of_kind(outbox_dir, "We've paused")
    assert [str(m["To"]) for m in paused] == ["Person0 Test <person0@example.com>"]
    assert org.get(f"members/{ids[0]}").data["lunch"]["paused"] is True
    detail = run_round(org)
    assert ids[0] not in [m for p in detail["pairs"] for m in p["member_ids"]]
    r = post_form(client, path_of(links.lunch_url(org.group_id, ids[0])),
                  {"opt_in": "in", "mode": "in_person", "city": "Lisbon"})
    assert r.status_code == 200
    assert org.get(f"members/{ids[0]}").data["lunch"]["paused"] is False


def test_organizer_round_views_and_errors(client: Any, org: Any, other_org: Any) -> None:
    assert org.post("lunch-rounds", {}).status_code == 404  # no programme
    opt_in_nine(client, org)
    org.call("PUT", "lunch-program", PROGRAM)
    detail = run_round(org)
    assert {"round_id", "status", "pairs", "sat_out"} <= set(detail)
    assert {"pair_id", "member_ids", "names", "score", "reasons", "slot"} <= set(detail["pairs"][0])
    assert org.get("lunch-rounds/lrd_" + "0" * 26).status_code == 404
    assert org.get("lunch-rounds/nope").status_code == 404
    assert other_org.get(f"{org.base}/lunch-rounds/{detail['round_id']}").status_code == 404
    assert org.get("lunch-rounds?limit=0").status_code == 400


def test_forgetting_a_member_scrubs_their_words_from_pairs(client: Any, org: Any) -> None:
    from chalicelib.services import pairing

    ids = opt_in_nine(client, org)
    org.call("PUT", "lunch-program", PROGRAM)
    detail = run_round(org)
    pair = next(p for p in detail["pairs"] if ids[0] in p["member_ids"])
    url = links.pairing_url(org.group_id, pair["pair_id"], ids[0])
    post_form(client, path_of(url), {"action": "feedback", "met": "yes", "note": "Person0's secret"})
    stored = deps.store().lunch.get_pair(org.group_id, pair["pair_id"])
    assert stored is not None and any(ids[0] in r.who for r in stored.reasons)
    pairing.forget_member(org.group_id, ids[0])
    assert org.delete(f"members/{ids[0]}").status_code == 204
    stored = deps.store().lunch.get_pair(org.group_id, pair["pair_id"])
    assert stored is not None
    assert not any(ids[0] in r.who for r in stored.reasons) and ids[0] not in stored.feedback
    assert deps.store().lunch.get_record(org.group_id, ids[0]).met == []
    after = org.get(f"lunch-rounds/{detail['round_id']}").data
    names = next(p["names"] for p in after["pairs"] if p["pair_id"] == pair["pair_id"])
    assert None in names and "Person0 Test" not in names


def test_a_round_that_pairs_nobody_says_why_in_the_round_view(client: Any, org: Any) -> None:
    ids = [m["member_id"] for m in add_members(org, 2)]
    for mid in ids:
        r = org.patch(f"members/{mid}", {"lunch": {"opted_in": True, "city": "Lisbon",
                                                   "availability": ["tue-lunch"]}})
        assert r.status_code == 200, r.data
    org.call("PUT", "lunch-program", PROGRAM | {"repeat_window": 4})
    first = run_round(org)
    assert first["pair_count"] == 1 and first["outcome"] is None
    second = run_round(org)  # the two met last round, and the window forbids it again
    assert second["pair_count"] == 0 and second["pairs"] == []
    assert second["outcome"] == "everyone has met everyone they can meet"
    listed = org.get("lunch-rounds").data["items"]
    assert {r["round_id"]: r["outcome"] for r in listed}[second["round_id"]] == second["outcome"]


def test_four_members_meet_everyone_then_repeat_the_longest_ago_and_new_pairs_left_says_so(
        client: Any, org: Any, clock: Any, outbox_dir: Path) -> None:
    ids = [m["member_id"] for m in add_members(org, 4)]
    for mid in ids:
        r = org.patch(f"members/{mid}", {"lunch": {"opted_in": True, "city": "Lisbon",
                                                   "availability": ["tue-lunch"]}})
        assert r.status_code == 200, r.data
    org.call("PUT", "lunch-program", PROGRAM | {"odd_rule": "sit_out"})  # no repeat window
    rounds = []
    for _ in range(4):  # 2 Nov, 7 Dec, 11 Jan, 15 Feb: round 4 is in the next year
        rounds.append(run_round(org))
        clock.advance(weeks=5)
    pairs = [{frozenset(p["member_ids"]) for p in r["pairs"]} for r in rounds]
    assert all(len(p) == 2 for p in pairs)
    assert len(pairs[0] | pairs[1] | pairs[2]) == 6  # rounds 1-3: every pair once, nobody repeats
    assert pairs[3] == pairs[0]  # round 4: the pairs that met longest ago
    for pair in rounds[3]["pairs"]:  # the organizer reads it in the third person
        first, second = (name.split()[0] for name in pair["names"])
        assert pair["reasons"][0] == f"{first} and {second} met in November 2026; it's been a while, so catch up."
    # Each member's intro says it to them: "You met Person1 in November 2026; ..."
    intros = [m for m in of_kind(outbox_dir, "Meet ") if "met in" in text_of(m) or "You met" in text_of(m)]
    assert len(intros) == 4
    for intro in intros:
        (partner,) = re.findall(r"You met (Person\d) in November 2026; it's been a while, so catch up\.",
                                text_of(intro))
        assert partner not in str(intro["To"])
    assert [r["new_pairs_left"] for r in rounds] == [4, 4, 0, 0]
    assert org.get("stats").data["new_pairs_left"] == 0
