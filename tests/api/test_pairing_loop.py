"""A pairing becomes a lunch (issue 11, parts 1-3), through HTTP on moto, as members live it:
intros in the outbox, links clicked, pages read, the hourly schedule run by hand."""

from __future__ import annotations

import email.message
from pathlib import Path
from typing import Any

import icalendar

from chalicelib import deps, links
from tests.api.test_lunch_api import (
    PAIRING_LINK,
    PROGRAM,
    add_members,
    mails,
    of_kind,
    path_of,
    post_form,
    run_round,
    text_of,
)


def ten_in_lisbon(org: Any) -> list[str]:
    """Ten members in Lisbon, everyone free on Tuesday lunch: five pairs."""
    ids = [m["member_id"] for m in add_members(org, 10)]
    for mid in ids:
        r = org.patch(f"members/{mid}", {"lunch": {"opted_in": True, "city": "Lisbon",
                                                   "interests": ["climate"], "availability": ["tue-lunch"]}})
        assert r.status_code == 200, r.data
    org.call("PUT", "lunch-program", PROGRAM | {"odd_rule": "sit_out"})
    return ids


def page_path(org: Any, pair_id: str, member_id: str) -> str:
    return path_of(links.pairing_url(org.group_id, pair_id, member_id))


def to(messages: list[email.message.EmailMessage], member: int) -> list[email.message.EmailMessage]:
    return [m for m in messages if f"person{member}@example.com" in str(m["To"])]


def number(member_id: str, ids: list[str]) -> int:
    return ids.index(member_id)


def connected_mail(outbox: Path) -> list[email.message.EmailMessage]:
    return of_kind(outbox, "You're on: lunch with")


def hourly() -> dict[str, int]:
    from chalicelib.services import schedules

    return schedules.run_hourly(deps.now())


# ---------------------------------------------------------------- 1. connect on double opt-in


def test_both_confirm_then_each_gets_the_other_once_with_reply_to_and_a_calendar(
        client: Any, org: Any, outbox_dir: Path) -> None:
    ids = ten_in_lisbon(org)
    detail = run_round(org)
    assert len(detail["pairs"]) == 5
    pair = detail["pairs"][0]
    ana, ben = pair["member_ids"]
    a, b = number(ana, ids), number(ben, ids)
    # The intro is private: no address of the partner in it.
    (intro,) = to(of_kind(outbox_dir, "Meet "), a)
    assert f"person{b}@example.com" not in text_of(intro)

    r = post_form(client, page_path(org, pair["pair_id"], ana), {"action": "confirm"})
    assert r.status_code == 200
    body = r.body.decode()
    assert f"waiting for Person{b}" in body and f"person{b}@example.com" not in body
    assert connected_mail(outbox_dir) == []

    r = post_form(client, page_path(org, pair["pair_id"], ben), {"action": "confirm"})
    assert r.status_code == 200 and f"person{a}@example.com" in r.body.decode()
    sent = connected_mail(outbox_dir)
    assert len(sent) == 2
    for me, partner in ((a, b), (b, a)):
        (mail,) = to(sent, me)
        assert f"person{partner}@example.com" in text_of(mail)
        assert f"person{partner}@example.com" in str(mail["Reply-To"])
        assert "org" not in str(mail["Reply-To"])  # not the organizer
        assert "Tuesday" in text_of(mail) and "12:30" in text_of(mail)  # lunch, next Tuesday
        (part,) = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
        calendar = icalendar.Calendar.from_ical(part.get_payload(decode=True))
        (event,) = calendar.walk("VEVENT")
        attendees = sorted(str(x).removeprefix("mailto:") for x in event.get("attendee"))
        assert attendees == sorted([f"person{a}@example.com", f"person{b}@example.com"])
        assert str(event["uid"]) == f"{pair['pair_id']}@powerlunch"
        assert event.decoded("dtstart").strftime("%a %H:%M") == "Tue 12:30"
    # Ana's page now shows Ben's address too.
    page = client.http.get(page_path(org, pair["pair_id"], ana)).body.decode()
    assert f"person{b}@example.com" in page and "You're on" in page
    # A repeated confirm (a retry, a second click) sends nothing more.
    before = len(mails(outbox_dir))
    for mid in (ana, ben):
        assert post_form(client, page_path(org, pair["pair_id"], mid), {"action": "confirm"}).status_code == 200
    assert len(mails(outbox_dir)) == before
    assert org.get(f"lunch-rounds/{detail['round_id']}").data["pairs"][0]["responses"] == {
        ana: "confirmed", ben: "confirmed"}


def test_a_silent_partner_gets_one_nudge_three_days_after_the_other_confirmed(
        client: Any, org: Any, outbox_dir: Path, clock: Any) -> None:
    ids = ten_in_lisbon(org)
    pair = run_round(org)["pairs"][0]
    ana, ben = pair["member_ids"]
    post_form(client, page_path(org, pair["pair_id"], ana), {"action": "confirm"})
    hourly()
    assert of_kind(outbox_dir, "Person") == []  # nothing yet: only a day-3 nudge
    clock.advance(days=3, minutes=1)
    hourly()
    hourly()
    nudges = [m for m in mails(outbox_dir) if "waiting to hear from you" in str(m["Subject"])]
    assert [str(m["To"]) for m in nudges] == [f"Person{number(ben, ids)} Test <person{number(ben, ids)}@example.com>"]
    assert "?do=confirm" in text_of(nudges[0])
    clock.advance(days=3)
    hourly()
    assert len([m for m in mails(outbox_dir) if "waiting to hear" in str(m["Subject"])]) == 1


# ---------------------------------------------------------------- 2. declines don't strand anyone


def test_a_decline_tells_the_partner_and_the_next_run_rematches_the_stranded_once(
        client: Any, org: Any, outbox_dir: Path) -> None:
    ids = ten_in_lisbon(org)
    detail = run_round(org)
    first, second, third = detail["pairs"][:3]
    # Two pairs lose one member each: their partners are stranded.
    for pair in (first, second):
        r = post_form(client, page_path(org, pair["pair_id"], pair["member_ids"][0]), {"action": "decline"})
        assert r.status_code == 200 and "can't make it" in r.body.decode()
    stranded = sorted([first["member_ids"][1], second["member_ids"][1]])
    told = of_kind(outbox_dir, "Person")
    declined = [m for m in told if "can't make lunch this time" in str(m["Subject"])]
    assert sorted(str(m["To"]) for m in declined) == sorted(
        f"Person{number(m, ids)} Test <person{number(m, ids)}@example.com>" for m in stranded)
    words = [text_of(m).split("\n--\n")[0] for m in declined]  # above the footer
    assert all("within the hour" in w and "because" not in w and "why" not in w.lower() for w in words)

    intros_before = len(of_kind(outbox_dir, "Meet "))
    assert hourly()["lunch_timers"] == 1
    after = org.get(f"lunch-rounds/{detail['round_id']}").data
    rematched = [p for p in after["pairs"] if p["origin"] == "rematch"]
    assert [sorted(p["member_ids"]) for p in rematched] == [stranded]
    intros = of_kind(outbox_dir, "Meet ")
    fresh = [m for m in intros if "someone new" in text_of(m)]
    assert len(intros) == intros_before + 2
    assert sorted(str(m["To"]) for m in fresh) == sorted(
        f"Person{number(m, ids)} Test <person{number(m, ids)}@example.com>" for m in stranded)
    # The declined pairs don't count as met: the repeat rule may pair them again later.
    record = deps.store().lunch.get_record(org.group_id, first["member_ids"][1])
    assert not any(entry.endswith(first["member_ids"][0]) for entry in record.met)

    # A decline in the re-match: told, not re-matched again this round, first in line next time.
    (re_pair,) = rematched
    post_form(client, page_path(org, re_pair["pair_id"], re_pair["member_ids"][0]), {"action": "decline"})
    hourly()
    after = org.get(f"lunch-rounds/{detail['round_id']}").data
    assert len([p for p in after["pairs"] if p["origin"] == "rematch"]) == 1
    last = re_pair["member_ids"][1]
    told = [text_of(m) for m in to(mails(outbox_dir), number(last, ids)) if "can't make lunch" in str(m["Subject"])]
    # Two notes to them this round (the clock stands still, so file order says nothing):
    # the first promised a re-match, the second says there is none.
    assert len(told) == 2
    assert sum("within the hour" in t for t in told) == 1
    assert sum("first in line next round" in t for t in told) == 1
    assert deps.store().lunch.get_record(org.group_id, last).sat_out_round == detail["round_id"]
    # The third pair was never touched.
    assert all(p["responses"] == {} for p in after["pairs"] if p["pair_id"] == third["pair_id"])


def test_nobody_left_to_rematch_with_is_told_so(client: Any, org: Any, outbox_dir: Path) -> None:
    ids = ten_in_lisbon(org)
    detail = run_round(org)
    pair = detail["pairs"][0]
    post_form(client, page_path(org, pair["pair_id"], pair["member_ids"][0]), {"action": "decline"})
    hourly()  # one stranded member: nobody to pair them with
    alone = number(pair["member_ids"][1], ids)
    told = [m for m in to(mails(outbox_dir), alone) if "No new lunch partner" in str(m["Subject"])]
    assert len(told) == 1 and "first in line next round" in text_of(told[0])
    hourly()
    assert len([m for m in to(mails(outbox_dir), alone) if "No new lunch partner" in str(m["Subject"])]) == 1


def test_in_a_trio_one_decline_leaves_a_pair_that_is_told_not_rematched(
        client: Any, org: Any, outbox_dir: Path) -> None:
    ids = [m["member_id"] for m in add_members(org, 3)]
    for mid in ids:
        org.patch(f"members/{mid}", {"lunch": {"opted_in": True, "city": "Lisbon", "availability": ["tue-lunch"]}})
    org.call("PUT", "lunch-program", PROGRAM)  # odd_rule trio
    (trio,) = run_round(org)["pairs"]
    assert len(trio["member_ids"]) == 3
    quitter, *rest = trio["member_ids"]
    post_form(client, page_path(org, trio["pair_id"], quitter), {"action": "decline"})
    declined = [m for m in mails(outbox_dir) if "can't make lunch" in str(m["Subject"])]
    assert len(declined) == 2 and all("is still on" in text_of(m) for m in declined)
    assert hourly()["lunch_timers"] == 0  # nothing to re-match
    # The two left confirm: they are connected with each other, not with who declined.
    for mid in rest:
        post_form(client, page_path(org, trio["pair_id"], mid), {"action": "confirm"})
    sent = connected_mail(outbox_dir)
    assert len(sent) == 2
    assert all(f"person{number(quitter, ids)}@example.com" not in text_of(m) for m in sent)


# ---------------------------------------------------------------- 3. the page honours ?do=


def test_email_buttons_open_the_page_on_their_question_and_a_get_changes_nothing(
        client: Any, org: Any, outbox_dir: Path) -> None:
    ids = ten_in_lisbon(org)
    detail = run_round(org)
    (intro,) = to(of_kind(outbox_dir, "Meet "), 0)
    link = PAIRING_LINK.search(text_of(intro))
    assert link is not None
    path = path_of(link.group(0))
    pair = next(p for p in detail["pairs"] if ids[0] in p["member_ids"])
    partner = f"Person{number(next(m for m in pair['member_ids'] if m != ids[0]), ids)}"
    for ask, question in (("confirm", f"Confirm you'll meet {partner}?"),
                          ("decline", f"Can't make it with {partner} this time?"),
                          ("block", f"Never be paired with {partner} again?")):
        r = client.http.get(f"{path}?do={ask}")
        assert r.status_code == 200
        body = r.body.decode()
        assert body.index(question) < body.index("Why we think you should meet"), ask
        assert body.count('name="action"') == 1  # the one question and its button
        assert "Are you in?" not in body  # asked once, above, not again with no button below
    plain = client.http.get(path).body.decode()
    assert "Are you in?" in plain and "Confirm you'll meet" not in plain
    after = org.get(f"lunch-rounds/{detail['round_id']}").data
    assert all(p["responses"] == {} for p in after["pairs"])  # GETs changed nothing
    assert deps.store().lunch.get_record(org.group_id, ids[0]).blocked == []
    # Confirmed already: ?do=confirm shows the page as it is, no question.
    post_form(client, path, {"action": "confirm"})
    again = client.http.get(f"{path}?do=confirm").body.decode()
    assert "Confirm you'll meet" not in again and "You confirmed" in again


def test_confirm_after_a_decline_is_refused_plainly(client: Any, org: Any) -> None:
    ten_in_lisbon(org)
    pair = run_round(org)["pairs"][0]
    path = page_path(org, pair["pair_id"], pair["member_ids"][0])
    post_form(client, path, {"action": "decline"})
    r = post_form(client, path, {"action": "confirm"})
    assert r.status_code == 409 and "we told your partner" in r.body.decode()
