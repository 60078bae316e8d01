"""Review before sending (issue 13, part 4) through the JSON API on moto: a round of a
programme with `review` on is planned and held; the organizer swaps members or takes a pair
out (score change shown, hard rules kept), approves once, or lets it expire after 48 hours."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib import deps, links
from chalicelib.services import pairing, schedules
from tests.api.test_lunch_api import PROGRAM, mails, of_kind, opt_in_nine, path_of, post_form, text_of

REVIEWED = {**PROGRAM, "odd_rule": "sit_out", "review": True}
REVIEW_LINK = re.compile(r"https://lunch\.example\.test/console/(grp_\w+)/rounds/(lrd_\w+)/review")


def intros(outbox: Path) -> list[Any]:
    return of_kind(outbox, "Meet ")


def to_organizer(outbox: Path, subject_start: str) -> list[Any]:
    return [m for m in of_kind(outbox, subject_start) if "organizer@example.com" in str(m["To"])]


def detail(org: Any, round_id: str) -> dict[str, Any]:
    r = org.get(f"lunch-rounds/{round_id}")
    assert r.status_code == 200, r.data
    return dict(r.data)


def pairs_of(d: dict[str, Any]) -> set[frozenset[str]]:
    return {frozenset(p["member_ids"]) for p in d["pairs"]}


@pytest.fixture
def held(client: Any, org: Any) -> tuple[Any, dict[str, Any], list[str]]:
    """Nine members, review on, a manual round: held with four pairs and one sitting out."""
    ids = opt_in_nine(client, org)
    assert org.call("PUT", "lunch-program", REVIEWED).status_code == 201
    r = org.post("lunch-rounds", {})
    assert r.status_code == 202, r.data
    return org, detail(org, r.data["round_id"]), ids


# ---------------------------------------------------------------- held, not sent


def test_a_round_with_review_is_planned_nothing_is_sent_and_the_organizer_is_asked(
        held: Any, outbox_dir: Path) -> None:
    org, d, _ = held
    assert d["status"] == "review" and d["review"] is True and d["version"] == 0
    assert len(d["pairs"]) == 4 and len(d["sat_out"]) == 1
    assert all(p["reasons"] and p["score"] >= 0 for p in d["pairs"])
    assert intros(outbox_dir) == []
    assert [str(m["To"]) for m in mails(outbox_dir)] == ['Lisbon Founders organizers <organizer@example.com>']
    (review_mail,) = to_organizer(outbox_dir, "Review the Lisbon Founders lunch round of Monday 2 November 2026")
    body = text_of(review_mail)
    assert "4 pairs, and 1 member sits out" in body
    assert "Wednesday 4 November at 09:00 (Europe/Lisbon)" in body  # 48 hours after planning
    assert REVIEW_LINK.search(body).groups() == (org.group_id, d["round_id"])  # type: ignore[union-attr]
    planned = datetime.fromisoformat(d["planned_at"])
    assert datetime.fromisoformat(d["review_until"]) - planned == timedelta(hours=48)
    stats = org.get("stats").data  # nobody was introduced yet: nothing counts
    assert (stats["rounds"], stats["pairs"], stats["intros"]) == (0, 0, 0)
    # The worker running again (an SQS redelivery) neither sends nor asks again.
    assert pairing.run_round(org.group_id, d["round_id"]).status == "review"  # type: ignore[union-attr]
    assert len(mails(outbox_dir)) == 1


def test_a_scheduled_round_is_held_once_and_not_handed_on_again(
        client: Any, org: Any, clock: Any, outbox_dir: Path) -> None:
    opt_in_nine(client, org)
    assert org.call("PUT", "lunch-program", REVIEWED).status_code == 201
    clock.set(datetime(2026, 11, 3, 10, 5, tzinfo=UTC))  # Tuesday 10:05 in Lisbon: due
    assert pairing.start_due_rounds(clock()) == 1
    (scheduled,) = org.get("lunch-rounds").data["items"]
    assert scheduled["trigger"] == "schedule" and scheduled["status"] == "review"
    clock.advance(hours=1)
    assert pairing.start_due_rounds(clock()) == 0  # the organizer's to approve, not the worker's
    assert intros(outbox_dir) == [] and len(to_organizer(outbox_dir, "Review the")) == 1


def test_a_manual_start_while_a_round_waits_for_review_is_409_unless_again(held: Any) -> None:
    org, _, _ = held
    r = org.post("lunch-rounds", {})
    assert r.status_code == 409
    assert r.data["error"]["message"] == ('The round of Monday 2 November is waiting for your review: approve it, '
                                          'or send {"again": true} to start another anyway.')
    assert org.post("lunch-rounds", {"again": True}).status_code == 202


def test_a_round_without_review_is_sent_at_once_and_cannot_be_edited_or_approved(
        client: Any, org: Any, outbox_dir: Path) -> None:
    ids = opt_in_nine(client, org)
    org.call("PUT", "lunch-program", {**REVIEWED, "review": False})
    r = org.post("lunch-rounds", {})
    d = detail(org, r.data["round_id"])
    assert d["status"] == "done" and len(intros(outbox_dir)) == 8
    a, b = d["pairs"][0]["member_ids"][0], d["pairs"][1]["member_ids"][0]
    edit = org.patch(f"lunch-rounds/{d['round_id']}", {"swap": [a, b]})
    assert edit.status_code == 409 and "sent already" in edit.data["error"]["message"]
    approve = org.post(f"lunch-rounds/{d['round_id']}/approve")
    assert approve.status_code == 409 and "only a round in review can be approved" in approve.data["error"]["message"]
    assert pairs_of(detail(org, d["round_id"])) == pairs_of(d) and len(intros(outbox_dir)) == 8
    assert len(ids) == 9


# ---------------------------------------------------------------- edits


def test_a_swap_changes_the_pairs_reports_the_score_and_approve_sends_the_swapped_pairs_once(
        held: Any, outbox_dir: Path) -> None:
    org, d, _ = held
    p, q = d["pairs"][0], d["pairs"][1]
    a, x = p["member_ids"]
    b, y = q["member_ids"]
    r = org.patch(f"lunch-rounds/{d['round_id']}", {"swap": [a, b], "version": 0})
    assert r.status_code == 200, r.data
    after = r.data
    assert pairs_of(after) == (pairs_of(d) - {frozenset((a, x)), frozenset((b, y))}) | {
        frozenset((b, x)), frozenset((a, y))}
    new = {frozenset(p["member_ids"]): p for p in after["pairs"]}
    before_score, after_score = p["score"] + q["score"], new[frozenset((b, x))]["score"] + new[frozenset((a, y))]["score"]
    names = {m: n for pair in d["pairs"] for m, n in zip(pair["member_ids"], pair["names"], strict=True)}
    assert after["edit"] == {"kind": "swap", "member_ids": [a, b], "names": [names[a], names[b]],
                             "score_before": pytest.approx(before_score), "score_after": pytest.approx(after_score),
                             "score_change": pytest.approx(after_score - before_score)}
    assert after["total_score"] == pytest.approx(d["total_score"] - before_score + after_score)
    assert after["version"] == 1 and [e["kind"] for e in after["edits"]] == ["swap"]
    assert all(pair["reasons"] for pair in after["pairs"])
    assert intros(outbox_dir) == []

    approved = org.post(f"lunch-rounds/{d['round_id']}/approve")
    assert approved.status_code == 200, approved.data
    assert approved.data["status"] == "done" and approved.data["approved_at"]
    sent = intros(outbox_dir)
    assert len(sent) == 8
    by_reader = {str(m["To"]): str(m["Subject"]) for m in sent}
    assert len(by_reader) == 8  # one intro each
    subject_of = {mid: next(s for to, s in by_reader.items() if f"<person{names[mid][6:-5]}@" in to) for mid in (a, b)}
    assert subject_of[a].startswith(f"Meet {names[y]}:") and subject_of[b].startswith(f"Meet {names[x]}:")

    stats = org.get("stats").data
    assert (stats["rounds"], stats["pairs"], stats["intros"]) == (1, 4, 8)
    again = org.post(f"lunch-rounds/{d['round_id']}/approve")
    assert again.status_code == 200 and again.data["status"] == "done"
    assert len(intros(outbox_dir)) == 8  # approving twice sends nothing more
    assert org.patch(f"lunch-rounds/{d['round_id']}", {"swap": [a, b]}).status_code == 409


def test_a_swap_that_pairs_a_blocked_member_is_409_and_changes_nothing(
        client: Any, org: Any, outbox_dir: Path) -> None:
    opt_in_nine(client, org)
    org.call("PUT", "lunch-program", {**REVIEWED, "review": False})
    first = detail(org, org.post("lunch-rounds", {}).data["round_id"])
    blocker, blocked = first["pairs"][0]["member_ids"]
    url = links.pairing_url(org.group_id, first["pairs"][0]["pair_id"], blocker)
    assert post_form(client, path_of(url), {"action": "block"}).status_code == 200
    org.call("PUT", "lunch-program", REVIEWED)
    d = detail(org, org.post("lunch-rounds", {"again": True}).data["round_id"])
    assert d["status"] == "review"
    seat = {m: p for p in d["pairs"] for m in p["member_ids"]}
    assert seat.get(blocker) is None or blocked not in seat[blocker]["member_ids"]
    # Seat one of them where the other's partner sits (one of the two may be sitting out).
    x, y = (blocker, blocked) if blocker in seat else (blocked, blocker)
    partner = next(m for m in seat[x]["member_ids"] if m != x)
    swap = [y, partner]
    r = org.patch(f"lunch-rounds/{d['round_id']}", {"swap": swap})
    assert r.status_code == 409, r.data
    assert r.data["error"]["message"].endswith("can't be paired: one of them asked not to be paired with the other.")
    after = detail(org, d["round_id"])
    assert pairs_of(after) == pairs_of(d) and after["version"] == 0 and after["edits"] == []


def test_a_swap_across_cities_is_409_saying_why(held: Any) -> None:
    org, d, _ = held
    p, q = d["pairs"][0], d["pairs"][1]
    moved = q["member_ids"][0]
    assert org.patch(f"members/{moved}", {"lunch": {"city": "Porto"}}).status_code == 200
    r = org.patch(f"lunch-rounds/{d['round_id']}", {"swap": [p["member_ids"][0], moved]})
    assert r.status_code == 409 and "they are not in the same city" in r.data["error"]["message"]
    assert pairs_of(detail(org, d["round_id"])) == pairs_of(d)


def test_removing_a_pair_sits_them_out_with_priority_next_round(held: Any, outbox_dir: Path) -> None:
    org, d, _ = held
    gone = d["pairs"][0]
    r = org.patch(f"lunch-rounds/{d['round_id']}", {"remove_pair": gone["pair_id"]})
    assert r.status_code == 200, r.data
    assert r.data["edit"]["kind"] == "remove_pair" and r.data["edit"]["score_after"] == 0
    assert r.data["edit"]["score_change"] == pytest.approx(-gone["score"])
    assert frozenset(gone["member_ids"]) not in pairs_of(r.data) and len(r.data["pairs"]) == 3
    sitting = {s["member_id"] for s in r.data["sat_out"]}
    assert set(gone["member_ids"]) <= sitting and len(sitting) == 3
    assert org.post(f"lunch-rounds/{d['round_id']}/approve").status_code == 200
    readers = Counter(str(m["To"]) for m in intros(outbox_dir))
    assert len(readers) == 6
    for mid in gone["member_ids"]:
        assert deps.store().lunch.get_record(org.group_id, mid).sat_out_round == d["round_id"]
    # The next round (no review) pairs the three who sat out; someone else sits out now.
    org.call("PUT", "lunch-program", {**REVIEWED, "review": False})
    nxt = detail(org, org.post("lunch-rounds", {"again": True}).data["round_id"])
    assert nxt["status"] == "done" and len(nxt["sat_out"]) == 1
    assert nxt["sat_out"][0]["member_id"] not in sitting


EDIT_REFUSED = [  # body -> the field the 400 names
    ({}, "swap"), ({"swap": ["m"]}, "swap"), ({"swap": ["a", "b", "c"]}, "swap"), ({"swap": "ab"}, "swap"),
    ({"swap": ["a", "a"]}, "swap"), ({"remove_pair": 5}, "remove_pair"), ({"colour": 1}, "colour"),
    ({"version": "1", "remove_pair": "lpr_x"}, "version"), ({"swap": ["a", "b"], "remove_pair": "lpr_x"}, "swap"),
]


@pytest.mark.parametrize(("body", "field"), EDIT_REFUSED, ids=lambda v: str(v))
def test_a_bad_edit_is_400_naming_the_field(held: Any, body: Any, field: str) -> None:
    org, d, _ = held
    r = org.patch(f"lunch-rounds/{d['round_id']}", body)
    assert r.status_code == 400, r.data
    assert r.data["error"]["field"] == field
    assert detail(org, d["round_id"])["version"] == 0


def test_edits_naming_what_is_not_in_the_round_are_400(held: Any, other_org: Any) -> None:
    org, d, _ = held
    p, q = d["pairs"][0], d["pairs"][1]
    cases = [({"swap": [p["member_ids"][0], "mem_notinthisround"]}, "swap", "is not in this round"),
             ({"swap": p["member_ids"]}, "swap", "both are in the same pair"),
             ({"remove_pair": "lpr_nosuchpair"}, "remove_pair", "is not a pair of this round")]
    for body, field, words in cases:
        r = org.patch(f"lunch-rounds/{d['round_id']}", body)
        assert r.status_code == 400 and r.data["error"]["field"] == field and words in r.data["error"]["message"]
    stale = org.patch(f"lunch-rounds/{d['round_id']}", {"swap": [p["member_ids"][0], q["member_ids"][0]],
                                                       "version": 3})
    assert stale.status_code == 409 and stale.data["error"]["field"] == "version"
    assert other_org.patch(f"lunch-rounds/{d['round_id']}", {"remove_pair": p["pair_id"]}).status_code == 404
    assert other_org.post(f"lunch-rounds/{d['round_id']}/approve").status_code == 404
    assert detail(org, d["round_id"])["version"] == 0


def test_a_double_submitted_swap_with_its_version_swaps_once(held: Any) -> None:
    org, d, _ = held
    a, b = d["pairs"][0]["member_ids"][0], d["pairs"][1]["member_ids"][0]
    assert org.patch(f"lunch-rounds/{d['round_id']}", {"swap": [a, b], "version": 0}).status_code == 200
    second = org.patch(f"lunch-rounds/{d['round_id']}", {"swap": [a, b], "version": 0})
    assert second.status_code == 409
    assert detail(org, d["round_id"])["version"] == 1


# ---------------------------------------------------------------- 48 hours


def test_a_round_not_approved_in_48_hours_expires_unsent_and_the_organizer_is_told_once(
        held: Any, clock: Any, outbox_dir: Path) -> None:
    org, d, _ = held
    clock.advance(hours=47, minutes=59)
    schedules.run_hourly(clock())
    assert detail(org, d["round_id"])["status"] == "review"
    clock.advance(minutes=2)  # past 48 hours: approving is refused even before the hourly run
    late = org.post(f"lunch-rounds/{d['round_id']}/approve")
    assert late.status_code == 409 and "review time of this round is over" in late.data["error"]["message"]
    done = schedules.run_hourly(clock())
    assert done["lunch_reviews_expired"] == 1
    after = detail(org, d["round_id"])
    assert after["status"] == "expired" and after["pairs"] == [] and after["expired_at"]
    assert intros(outbox_dir) == []
    (told,) = to_organizer(outbox_dir, "Lisbon Founders: the lunch round of Monday 2 November 2026 expired")
    assert "Its 4 planned pairs were not introduced" in text_of(told)
    clock.advance(hours=1)
    assert schedules.run_hourly(clock())["lunch_reviews_expired"] == 0  # handled: off the index
    assert len(to_organizer(outbox_dir, "Lisbon Founders: the lunch round")) == 1
    assert org.post(f"lunch-rounds/{d['round_id']}/approve").status_code == 409
    assert org.post("lunch-rounds", {}).status_code == 202  # an expired round no longer blocks a start


def test_approved_in_time_never_expires(held: Any, clock: Any, outbox_dir: Path) -> None:
    org, d, _ = held
    clock.advance(hours=47)
    assert org.post(f"lunch-rounds/{d['round_id']}/approve").status_code == 200
    clock.advance(hours=3)
    assert schedules.run_hourly(clock())["lunch_reviews_expired"] == 0
    assert detail(org, d["round_id"])["status"] == "done"
    assert len(intros(outbox_dir)) == 8 and to_organizer(outbox_dir, "Lisbon Founders: the lunch round") == []


def test_a_member_erased_while_the_round_waits_is_never_introduced(held: Any, outbox_dir: Path) -> None:
    org, d, _ = held
    pair = d["pairs"][0]
    gone, partner = pair["member_ids"]
    assert org.delete(f"members/{gone}").status_code in (200, 204)
    approved = org.post(f"lunch-rounds/{d['round_id']}/approve")
    assert approved.status_code == 200, approved.data
    assert all(gone not in p["member_ids"] for p in approved.data["pairs"]) and len(approved.data["pairs"]) == 3
    assert partner in {s["member_id"] for s in approved.data["sat_out"]}
    assert len(intros(outbox_dir)) == 6
    assert pair["names"][0] not in "".join(text_of(m) for m in intros(outbox_dir))
    record = deps.store().lunch.get_record(org.group_id, gone)
    assert record.met == [] and record.pairs == []  # nothing recorded for someone erased
    assert deps.store().lunch.get_record(org.group_id, partner).sat_out_round == d["round_id"]
