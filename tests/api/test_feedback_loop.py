"""Feedback feeds the next rounds, good matches reconnect, stats (issue 11, parts 4, 5 and 9),
through HTTP on moto: rounds run, pages clicked, the clock moved, the hourly schedule run by hand."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib import deps, ids, links
from chalicelib import feedback as rules
from chalicelib.models import LunchPair, LunchRecord, PairFeedbackIn
from chalicelib.services import followups
from tests.api.test_lunch_api import PROGRAM, add_members, of_kind, path_of, post_form, run_round, text_of

# Wednesday: the hourly runs below fall on other days, so no scheduled round starts by itself.
WEEKLY = PROGRAM | {"weekday": "wed", "odd_rule": "sit_out"}
RECONNECT_LINK = re.compile(r"https://lunch\.example\.test/reconnect/[A-Za-z0-9_.\-]+\?answer=(?:yes|no)")


def lisbon(org: Any, n: int, program: dict[str, Any] = WEEKLY) -> list[str]:
    """n members in Lisbon with the same profile (every pair scores the same)."""
    ids = [m["member_id"] for m in add_members(org, n)]
    for mid in ids:
        r = org.patch(f"members/{mid}", {"lunch": {"opted_in": True, "city": "Lisbon",
                                                   "interests": ["climate"], "availability": ["tue-lunch"]}})
        assert r.status_code == 200, r.data
    assert org.call("PUT", "lunch-program", program).status_code in (200, 201)
    return ids


def hourly() -> dict[str, int]:
    from chalicelib.services import schedules

    return schedules.run_hourly(deps.now())


def page(org: Any, pair_id: str, member_id: str) -> str:
    return path_of(links.pairing_url(org.group_id, pair_id, member_id))


def feedback(client: Any, org: Any, pair: dict[str, Any], member_id: str, **fields: Any) -> Any:
    return post_form(client, page(org, pair["pair_id"], member_id), {"action": "feedback", **fields})


def paired(detail: dict[str, Any]) -> set[str]:
    return {m for p in detail["pairs"] for m in p["member_ids"]}


def sat_out(detail: dict[str, Any]) -> list[str]:
    return [s["member_id"] for s in detail["sat_out"]]


def to(messages: list[Any], member_number: int) -> list[Any]:
    return [m for m in messages if f"person{member_number}@example.com" in str(m["To"])]


def record(org: Any, member_id: str) -> LunchRecord:
    return deps.store().lunch.get_record(org.group_id, member_id)


# ---------------------------------------------------------------- 4. no-shows


def test_two_no_show_reports_pause_a_member_for_two_rounds_with_one_email(
        client: Any, org: Any, outbox_dir: Path, clock: Any) -> None:
    ids = lisbon(org, 4)
    x = ids[0]
    reporters = []
    for number in range(rules.NO_SHOW_REPORTS):
        detail = run_round(org)
        pair = next(p for p in detail["pairs"] if x in p["member_ids"])
        (partner,) = [m for m in pair["member_ids"] if m != x]
        reporters.append(partner)
        r = feedback(client, org, pair, partner, met="no_show")  # a pair: the one partner
        assert r.status_code == 200, r.body
        assert "Person0 didn't show. You can change it below." in r.body.decode()  # the page says who
        paused = of_kind(outbox_dir, "Your Lisbon Founders lunches are paused")
        assert len(paused) == (1 if number == rules.NO_SHOW_REPORTS - 1 else 0)
        clock.advance(days=7)
    assert len(set(reporters)) == 2  # two pairings, two partners
    (mail,) = of_kind(outbox_dir, "Your Lisbon Founders lunches are paused")
    assert str(mail["To"]) == "Person0 Test <person0@example.com>"
    text = text_of(mail)
    assert f"next {rules.NO_SHOW_PAUSE_ROUNDS} rounds" in text and "back in by yourself" in text
    # The same report again (a double click) pauses nobody twice.
    r = feedback(client, org, pair, partner, met="no_show")
    assert r.status_code == 200
    assert len(of_kind(outbox_dir, "Your Lisbon Founders lunches are paused")) == 1
    assert org.get(f"members/{x}").data["lunch"]["paused"] is False  # not the opt-back-in pause

    for _ in range(rules.NO_SHOW_PAUSE_ROUNDS):
        detail = run_round(org)
        assert x not in paired(detail) and x not in sat_out(detail)
        assert len(paired(detail)) == 2 and len(sat_out(detail)) == 1  # the other three
        clock.advance(days=7)
    detail = run_round(org)
    assert x in paired(detail)  # back by itself
    assert len(of_kind(outbox_dir, "Your Lisbon Founders lunches are paused")) == 1
    assert org.get("stats").data["no_shows"] == 2


def test_two_reports_count_only_within_six_rounds_and_after_the_last_pause() -> None:
    order = {f"lrd_{n}": n for n in range(20)}

    def rec(*rounds: int, benched_for: int | None = None) -> LunchRecord:
        return LunchRecord(member_id="m", no_shows=[f"lrd_{n}/lpr_{n}" for n in rounds],
                           benched_for=f"lrd_{benched_for}/lpr_{benched_for}" if benched_for is not None else None)

    window = rules.NO_SHOW_WINDOW
    assert rules.pause_trigger(rec(0), order) is None
    assert rules.pause_trigger(rec(0, window - 1), order) == f"lrd_{window - 1}/lpr_{window - 1}"
    assert rules.pause_trigger(rec(0, window), order) is None
    assert rules.pause_trigger(rec(0, window, window + 2), order) == f"lrd_{window + 2}/lpr_{window + 2}"
    # The reports that paused them once do not pause them again with a later one.
    assert rules.pause_trigger(rec(0, 2, 4, benched_for=2), order) is None
    assert rules.pause_trigger(rec(0, 2, 4, 5, benched_for=2), order) == "lrd_5/lpr_5"


def test_in_a_trio_a_no_show_names_who_did_not_come(client: Any, org: Any) -> None:
    ids = lisbon(org, 3, WEEKLY | {"odd_rule": "trio"})
    (trio,) = run_round(org)["pairs"]
    me, *partners = trio["member_ids"]
    r = feedback(client, org, trio, me, met="no_show")  # which one?
    assert r.status_code == 400 and "say which partner didn" in r.body.decode()
    r = feedback(client, org, trio, me, met="no_show", no_show="5")
    assert r.status_code == 400 and "say which partner didn" in r.body.decode()
    assert feedback(client, org, trio, me, met="no_show", no_show="x").status_code == 400
    assert deps.store().lunch.get_pair(org.group_id, trio["pair_id"]).feedback == {}  # type: ignore[union-attr]
    r = feedback(client, org, trio, me, met="no_show", no_show="1", rating="5")
    assert r.status_code == 200
    stored = deps.store().lunch.get_pair(org.group_id, trio["pair_id"])
    assert stored is not None
    said = stored.feedback[me]
    assert said.no_show == [partners[1]] and said.met is True and said.rating is None
    assert [e.split("/")[1] for e in record(org, partners[1]).no_shows] == [trio["pair_id"]]
    assert record(org, partners[0]).no_shows == [] and set(ids) == set(trio["member_ids"])


# ---------------------------------------------------------------- 4. sit-outs


def test_sit_outs_rotate_through_the_service(client: Any, org: Any, clock: Any) -> None:
    ids = lisbon(org, 5)
    outs = []
    for _ in range(5):
        detail = run_round(org)
        (out,) = sat_out(detail)
        outs.append(out)
        clock.advance(days=7)
    assert sorted(outs) == sorted(ids)  # five rounds, each sat out once
    assert all(len(record(org, m).sat_out_rounds) == 1 for m in ids)


def test_whoever_confirmed_and_met_is_paired_before_whoever_did_not(
        client: Any, org: Any, clock: Any) -> None:
    lisbon(org, 3)
    first = run_round(org)
    (x,) = sat_out(first)
    (pair,) = first["pairs"]
    keeper, silent = pair["member_ids"]
    assert post_form(client, page(org, pair["pair_id"], keeper), {"action": "confirm"}).status_code == 200
    clock.advance(days=7)
    hourly()  # the follow-ups note who kept the lunch
    assert record(org, silent).missed_rounds == [first["round_id"]] and record(org, keeper).missed_rounds == []
    second = run_round(org)
    assert sat_out(second) == [silent]  # x sat out last time; of the other two, the silent one
    assert x in paired(second)


# ---------------------------------------------------------------- 5. reconnects


def test_six_months_after_a_five_star_lunch_both_are_asked_once_and_two_yeses_connect_them(
        client: Any, org: Any, outbox_dir: Path, clock: Any, moto_table: str) -> None:
    ids = lisbon(org, 2)
    first = run_round(org)
    (pair,) = first["pairs"]
    ana, ben = pair["member_ids"]
    for mid in (ana, ben):
        assert post_form(client, page(org, pair["pair_id"], mid), {"action": "confirm"}).status_code == 200
    connected_before = len(of_kind(outbox_dir, "You're on"))
    clock.advance(days=7)
    hourly()  # follow-ups
    for mid in (ana, ben):
        assert feedback(client, org, pair, mid, met="yes", rating="5", note="Great").status_code == 200
    lunch_at = datetime.fromisoformat(first["created_at"])
    clock.set(rules.add_months(lunch_at, 6) - timedelta(hours=2))
    hourly()
    assert of_kind(outbox_dir, "Catch up with") == []  # not yet
    clock.advance(hours=3)
    assert hourly()["lunch_reconnects"] == 1
    asks = of_kind(outbox_dir, "Catch up with")
    assert sorted(str(m["To"]) for m in asks) == sorted(
        f"Person{ids.index(m)} Test <person{ids.index(m)}@example.com>" for m in (ana, ben))
    hourly()
    clock.advance(days=2)
    hourly()
    assert len(of_kind(outbox_dir, "Catch up with")) == 2  # a second scan sends nothing

    def yes_link(mid: str) -> str:
        (mail,) = to(asks, ids.index(mid))
        found = [u for u in RECONNECT_LINK.findall(text_of(mail)) if u.endswith("answer=yes")]
        return path_of(found[0]) + "?answer=yes"

    got = client.http.get(yes_link(ana))
    assert got.status_code == 200 and f"Catch up with Person{ids.index(ben)}" in got.body.decode()
    (suggestion,) = [deps.store().lunch.get_reconnect(org.group_id, followups.reconnect_id(pair["pair_id"], [ana, ben]))]
    assert suggestion is not None and suggestion.answers == {}  # a GET changed nothing
    r = post_form(client, path_of(yes_link(ana)), {"answer": "yes"})
    assert r.status_code == 200 and "We'll let you know if" in r.body.decode()
    assert "Thanks! We&#39;ll let you know." in r.body.decode()
    assert len(of_kind(outbox_dir, "You're on")) == connected_before
    r = post_form(client, path_of(yes_link(ben)), {"answer": "yes"})
    assert r.status_code == 200 and "You both said yes" in r.body.decode()
    assert "Thanks! You both said yes." in r.body.decode() and "let you know" not in r.body.decode()
    connected = of_kind(outbox_dir, "You're on")[connected_before:]
    assert len(connected) == 2
    for mail in connected:
        me = ana if f"person{ids.index(ana)}@" in str(mail["To"]) else ben
        other = ben if me == ana else ana
        assert f"person{ids.index(other)}@example.com" in text_of(mail)
    post_form(client, path_of(yes_link(ben)), {"answer": "yes"})  # again: nothing more
    assert len(of_kind(outbox_dir, "You're on")) == connected_before + 2
    assert post_form(client, path_of(yes_link(ben)), {"answer": "maybe"}).status_code == 400

    # The next regular round does not pair them as well (they are the only two); the one after may.
    second = run_round(org)
    assert second["pairs"] == []
    clock.advance(days=7)
    third = run_round(org)
    assert [set(p["member_ids"]) for p in third["pairs"]] == [{ana, ben}]
    stats = org.get("stats").data
    assert (stats["reconnects"], stats["good_matches"]) == (1, 1)

    # Erasing Ana leaves nothing of her, the reconnect mail Ben got about her included.
    from tests.api.test_privacy import findings, raw_scan

    a = ids.index(ana)
    secrets = {"email": f"person{a}@example.com", "name": f"Person{a} Test", "headline": f"Role {a}"}
    assert findings(raw_scan(moto_table), secrets)  # the scan looks where her data is
    assert org.delete(f"members/{ana}").status_code == 204
    assert findings(raw_scan(moto_table), secrets) == []


def test_one_reconnect_email_a_member_a_month(client: Any, org: Any, outbox_dir: Path, clock: Any) -> None:
    """A trio who all rated it 5 makes three good matches, but each member gets at most one
    suggestion a month: the others wait their turn."""
    # Not scheduled: a round on its own would pair the three again (then nothing to catch up on).
    lisbon(org, 3, WEEKLY | {"odd_rule": "trio", "reconnect_after_months": 1, "enabled": False})
    first = run_round(org)
    (trio,) = first["pairs"]
    clock.advance(days=7)
    hourly()
    for mid in trio["member_ids"]:
        assert feedback(client, org, trio, mid, met="yes", rating="5").status_code == 200
    clock.set(rules.add_months(datetime.fromisoformat(first["created_at"]), 1) + timedelta(hours=1))
    counts = []
    for _ in range(3):
        hourly()
        clock.advance(days=1)
        hourly()
        counts.append(len(of_kind(outbox_dir, "Catch up with")))
        clock.advance(days=30)
    assert counts == [2, 4, 6]  # one good match a month, two emails each
    per_member = Counter(str(m["To"]) for m in of_kind(outbox_dir, "Catch up with"))
    assert sorted(per_member.values()) == [2, 2, 2]
    hourly()
    assert len(of_kind(outbox_dir, "Catch up with")) == 6


def test_no_reconnect_for_two_who_met_again_since(client: Any, org: Any, outbox_dir: Path, clock: Any) -> None:
    lisbon(org, 2)
    first = run_round(org)
    (pair,) = first["pairs"]
    clock.advance(days=7)
    hourly()
    for mid in pair["member_ids"]:
        assert feedback(client, org, pair, mid, met="yes", rating="5").status_code == 200
    assert [set(p["member_ids"]) for p in run_round(org)["pairs"]] == [set(pair["member_ids"])]  # together again
    clock.set(rules.add_months(datetime.fromisoformat(first["created_at"]), 6) + timedelta(days=1))
    hourly()
    assert of_kind(outbox_dir, "Catch up with") == []


def test_a_changed_setting_counts_for_lunches_already_followed_up(
        client: Any, org: Any, outbox_dir: Path, clock: Any) -> None:
    lisbon(org, 2)  # reconnect_after_months: 6 (the default) when the follow-ups go out
    first = run_round(org)
    (pair,) = first["pairs"]
    clock.advance(days=7)
    hourly()
    for mid in pair["member_ids"]:
        assert feedback(client, org, pair, mid, met="yes", rating="4").status_code == 200
    changed = WEEKLY | {"reconnect_after_months": 2, "enabled": False}  # no scheduled round meanwhile
    assert org.call("PUT", "lunch-program", changed).status_code == 200
    lunch_at = datetime.fromisoformat(first["created_at"])
    for day in range(0, 70, 3):  # the hourly run, every few days for two months and more
        clock.set(lunch_at + timedelta(days=day, hours=1))
        hourly()
        if of_kind(outbox_dir, "Catch up with"):
            break
    assert len(of_kind(outbox_dir, "Catch up with")) == 2
    assert clock() >= rules.add_months(lunch_at, 2)
    assert clock() < rules.add_months(lunch_at, 2) + timedelta(days=3)


def test_reconnects_off_sends_none(client: Any, org: Any, outbox_dir: Path, clock: Any) -> None:
    lisbon(org, 2, WEEKLY | {"reconnect_after_months": 0})
    first = run_round(org)
    (pair,) = first["pairs"]
    clock.advance(days=7)
    hourly()
    for mid in pair["member_ids"]:
        feedback(client, org, pair, mid, met="yes", rating="5")
    clock.advance(days=400)
    hourly()
    assert of_kind(outbox_dir, "Catch up with") == []


def test_programme_reconnect_setting(org: Any) -> None:
    assert org.call("PUT", "lunch-program", PROGRAM).status_code == 201
    assert org.get("lunch-program").data["reconnect_after_months"] == 6
    for bad in (-1, 25, "six", True):
        r = org.call("PUT", "lunch-program", PROGRAM | {"reconnect_after_months": bad})
        assert r.status_code == 400 and r.data["error"]["field"] == "reconnect_after_months", (bad, r.data)
    assert org.call("PUT", "lunch-program", PROGRAM | {"reconnect_after_months": 0}).status_code == 200
    assert org.get("lunch-program").data["reconnect_after_months"] == 0


# ---------------------------------------------------------------- the follow-up says what feedback does


@pytest.mark.parametrize("months", [3, 0])
def test_the_followup_email_says_what_feedback_does(client: Any, org: Any, outbox_dir: Path, clock: Any,
                                                    months: int) -> None:
    lisbon(org, 2, WEEKLY | {"reconnect_after_months": months})
    run_round(org)
    clock.advance(days=7)
    hourly()
    mails = of_kind(outbox_dir, "How was lunch")
    assert len(mails) == 2
    text = " ".join(text_of(mails[0]).split())
    assert "you met (and how it was, 1 to 5), you didn't, or they didn't show" in text
    assert (f"someone reported that way in {rules.NO_SHOW_REPORTS} lunches within "
            f"{rules.NO_SHOW_WINDOW} rounds is paused for the next {rules.NO_SHOW_PAUSE_ROUNDS} rounds") in text
    assert f"whoever sat out least over the last {rules.SIT_OUT_WINDOW} rounds" in text
    assert "people who confirmed and met their recent lunches get paired first" in text
    catch_up = (f"If you both rate it {rules.GOOD_RATING} or 5, we remember you as a good match: "
                f"in {months} months, unless you've been paired again by then, we'll suggest you catch up")
    if months:
        assert catch_up in text
    else:
        assert "catch up" not in text


# ---------------------------------------------------------------- 9. stats


def test_stats_count_every_outcome_exactly(client: Any, org: Any, clock: Any) -> None:
    a, b, c, d, e, f, g, h = (m["member_id"] for m in add_members(org, 8))
    store, now = deps.store().lunch, clock()
    round_id = "lrd_" + "0" * 10 + "1" * 16

    def make(members: list[str], origin: str = "round") -> LunchPair:
        return LunchPair(pair_id=ids.pair_id(round_id, members), round_id=round_id, group_id=org.group_id,
                         member_ids=members, origin=origin, created_at=now)  # type: ignore[arg-type]

    p1, p2, p3, p4 = make([a, b]), make([c, d]), make([d, e], "rematch"), make([f, g, h])
    store.put_pairs([p1, p2, p3, p4])
    gid = org.group_id
    for mid in (a, b):  # p1: both confirmed, both met and rated 5 and 4: a good match
        store.respond(gid, p1.pair_id, mid, "confirmed")
    store.give_feedback(gid, p1.pair_id, a, PairFeedbackIn(met=True, rating=5), now)
    store.give_feedback(gid, p1.pair_id, b, PairFeedbackIn(met=True, rating=4), now)
    store.respond(gid, p2.pair_id, c, "declined")  # p2: a decline, never met
    store.respond(gid, p2.pair_id, d, "confirmed")
    for mid in (d, e):  # p3: a re-match, both confirmed, then e says d didn't show
        store.respond(gid, p3.pair_id, mid, "confirmed")
    store.give_feedback(gid, p3.pair_id, e, PairFeedbackIn(met=False, no_show=[d]), now)
    store.respond(gid, p4.pair_id, f, "confirmed")  # p4: a trio, h silent; f says they met (3)
    store.respond(gid, p4.pair_id, g, "confirmed")
    store.give_feedback(gid, p4.pair_id, f, PairFeedbackIn(met=True, rating=3), now)
    store.put_reconnect_pair("lrc_x", LunchPair(
        pair_id="lpc_x", round_id=round_id, group_id=gid, member_ids=[a, b], origin="reconnect",
        responses={a: "confirmed", b: "confirmed"}, created_at=now), now)

    stats = org.get("stats").data
    assert {k: stats[k] for k in (
        "members", "pairs", "intros", "confirmed_rate", "connected_rate", "declined_rate", "met_rate",
        "rematched", "no_shows", "average_rating", "ratings", "good_matches", "reconnects")} == {
        "members": 8,
        "pairs": 4,  # p1-p4; the reconnect pair is counted in `reconnects` only
        "intros": 9,  # 2 + 2 + 2 + 3
        "confirmed_rate": round(7 / 9, 4),  # a, b, d (p2), d, e, f, g
        "connected_rate": 0.5,  # p1, p3
        "declined_rate": 0.25,  # p2
        "met_rate": 0.5,  # p1 (said so), p4 (f said so); p3: e said they didn't, nobody that they did
        "rematched": 2,  # d and e
        "no_shows": 1,  # d in p3
        "average_rating": 4.0,  # 5, 4, 3
        "ratings": 3,
        "good_matches": 1,  # a and b
        "reconnects": 1,
    }


def test_no_followup_about_a_lunch_a_decline_called_off(client: Any, org: Any, outbox_dir: Path,
                                                         clock: Any) -> None:
    ids = lisbon(org, 4)
    first = run_round(org)
    off, on = first["pairs"]
    decliner, left = off["member_ids"]
    r = post_form(client, page(org, off["pair_id"], decliner), {"action": "decline"})
    assert r.status_code == 200
    clock.advance(days=7)
    hourly()
    asked = sorted(str(m["To"]) for m in of_kind(outbox_dir, "How was lunch"))
    assert asked == sorted(f"Person{ids.index(m)} Test <person{ids.index(m)}@example.com>" for m in on["member_ids"])
    assert record(org, decliner).missed_rounds == [first["round_id"]]
    assert record(org, left).missed_rounds == [first["round_id"]]  # silent, and nobody to meet
    assert [record(org, m).missed_rounds for m in on["member_ids"]] == [[first["round_id"]]] * 2  # silent
