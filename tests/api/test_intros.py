"""Introductions that give (issue 14, parts 1-2), through HTTP on moto as members live them:
people met at a meetup and at lunch, the introduce page, both offers in the outbox, yes/no on
the offer pages, the connector copied, the limits, expiry by the hourly schedule, credit."""

from __future__ import annotations

import email.message
import re
from pathlib import Path
from typing import Any

import pytest

from chalicelib import deps, links
from tests.api.test_lunch_api import mails, of_kind, path_of, post_form, run_round, text_of
from tests.api.test_pairing_loop import page_path, ten_in_lisbon
from tests.api.test_rsvp_api import Member, new_meetup, new_members

WHY = "You both build climate software and keep asking me the same questions."


# ---------------------------------------------------------------- helpers


def met_at_a_meetup(org: Any, client: Any, outbox_dir: Path, n: int) -> list[Member]:
    """`n` members who all went to one meetup and were checked in: each has met every other."""
    people = new_members(org, client, outbox_dir, n)
    meetup = new_meetup(org, capacity=50, guests_allowed=0)
    assert org.post(f"meetups/{meetup['meetup_id']}/invitations", {}).status_code in (200, 202)
    for person in people:
        assert person.answer("going").status_code == 200
        r = org.post(f"meetups/{meetup['meetup_id']}/rsvps/{person.member_id}/check-in")
        assert r.status_code == 200, r.data
    return people


def introduce_path(org: Any, member_id: str) -> str:
    return path_of(links.introduce_url(org.group_id, member_id))


def offers(outbox_dir: Path) -> list[email.message.EmailMessage]:
    # "Grace thinks you should meet Ben", "The <group> organizers think you should meet Ben"
    return [m for m in mails(outbox_dir) if re.search(r" thinks? you should meet ", str(m["Subject"]))]


def to(messages: list[email.message.EmailMessage], person: Member) -> list[email.message.EmailMessage]:
    return [m for m in messages if person.email in str(m["To"])]


def offer_path(message: email.message.EmailMessage) -> str:
    """The offer page from an intro_offer email's yes link (without its ?answer=)."""
    import re

    found = re.search(r"https://lunch\.example\.test(/offer/[A-Za-z0-9_.\-]+)", text_of(message))
    assert found, text_of(message)
    return found.group(1)


def answer(client: Any, message: email.message.EmailMessage, choice: str) -> Any:
    return post_form(client, offer_path(message), {"answer": choice})


def introduce(client: Any, org: Any, connector: Member, a: Member, b: Member, note: str = WHY) -> Any:
    return post_form(client, introduce_path(org, connector.member_id),
                     {"member_ids": [a.member_id, b.member_id], "note": note})


def hourly() -> dict[str, int]:
    from chalicelib.services import schedules

    return schedules.run_hourly(deps.now())


def all_text(outbox_dir: Path) -> str:
    return "\n".join(text_of(m) + str(m["Reply-To"]) + str(m["Cc"]) for m in mails(outbox_dir))


# ---------------------------------------------------------------- the happy path


def test_a_member_who_met_two_introduces_them_both_say_yes_and_the_connector_is_copied(
        client: Any, org: Any, outbox_dir: Path) -> None:
    grace, ben, ana = met_at_a_meetup(org, client, outbox_dir, 3)
    page = client.http.get(introduce_path(org, grace.member_id))
    assert page.status_code == 200
    assert ben.name in page.body.decode() and ana.name in page.body.decode()
    assert "@example.com" not in page.body.decode()  # no address on the page

    r = introduce(client, org, grace, ana, ben)
    assert r.status_code == 200, r.body
    sent = offers(outbox_dir)
    assert len(sent) == 2
    (to_ana,) = to(sent, ana)
    assert str(to_ana["Subject"]) == f"{grace.name.split()[0]} thinks you should meet {ben.name}"
    assert WHY in text_of(to_ana)
    for message in sent:  # no address before both said yes
        assert ben.email not in text_of(message) and ana.email not in text_of(message)
        assert grace.email not in text_of(message)

    # GET shows the question and changes nothing
    (to_ben,) = to(sent, ben)
    before = len(mails(outbox_dir))
    for _ in range(2):
        shown = client.http.get(offer_path(to_ben) + "?answer=yes")
        assert shown.status_code == 200 and "Yes, introduce us" in shown.body.decode()
        assert ana.email not in shown.body.decode()
    assert len(mails(outbox_dir)) == before

    first_yes = answer(client, to_ana, "yes")
    assert first_yes.status_code == 200 and "We&#39;ll let you know." in first_yes.body.decode()
    assert of_kind(outbox_dir, "You're introduced") == []
    r = answer(client, to_ben, "yes")
    assert r.status_code == 200 and ana.email in r.body.decode()  # the page shows it now
    assert "Thanks! You both said yes." in r.body.decode() and "let you know" not in r.body.decode()
    connected = of_kind(outbox_dir, "You're introduced")
    assert len(connected) == 2
    for me, other in ((ana, ben), (ben, ana)):
        (message,) = to(connected, me)
        assert other.email in text_of(message)
        assert other.email in str(message["Reply-To"])
        assert grace.email in str(message["Cc"])
        assert WHY in text_of(message) and "Thank you" in text_of(message)

    # A second yes, a double click: nothing more is sent
    before = len(mails(outbox_dir))
    for message in (to_ana, to_ben):
        assert answer(client, message, "yes").status_code == 200
    assert introduce(client, org, grace, ana, ben).status_code == 409  # the form again: they're introduced
    assert len(mails(outbox_dir)) == before

    # Credit: offered and accepted, then met once one of them says so
    stats = org.get("stats").data
    assert stats["top_connectors"] == [{"member_id": grace.member_id, "name": grace.name,
                                        "offered": 1, "accepted": 1, "met": 0}]
    assert answer(client, to_ana, "met").status_code == 200
    r = answer(client, to_ben, "met")
    assert r.status_code == 200 and "Thanks for telling us you met" in r.body.decode()
    assert org.get("stats").data["top_connectors"][0]["met"] == 1  # one intro, met once


def test_a_no_tells_the_other_and_the_connector_only_that_it_did_not_work_out(
        client: Any, org: Any, outbox_dir: Path) -> None:
    grace, ben, ana = met_at_a_meetup(org, client, outbox_dir, 3)
    assert introduce(client, org, grace, ana, ben).status_code == 200
    assert introduce(client, org, grace, ana, ben).status_code == 200  # a double click: the same offer
    assert len(offers(outbox_dir)) == 2
    to_ana, to_ben = to(offers(outbox_dir), ana)[0], to(offers(outbox_dir), ben)[0]
    assert answer(client, to_ana, "yes").status_code == 200
    assert answer(client, to_ben, "no").status_code == 200

    closed = of_kind(outbox_dir, "It didn't work out this time")
    assert sorted(str(m["To"]) for m in closed) == sorted(
        [f"{ana.name} <{ana.email}>", f"{grace.name} <{grace.email}>"])
    for message in closed:  # who said no is never told
        text = text_of(message).lower()
        assert "declined" not in text and "said no" not in text and "ben" not in str(message["To"]).lower()
    assert to(closed, ben) == []
    assert of_kind(outbox_dir, "You're introduced") == []
    # Ana's page says only that it didn't work out
    page = client.http.get(offer_path(to_ana)).body.decode()
    assert "didn't work out this time" in page and ben.email not in page
    # A second offer between them within 6 months: 409, plainly
    r = introduce(client, org, grace, ana, ben, note=WHY + " Really.")
    assert r.status_code == 409 and "6 months" in r.body.decode()
    # A later yes from Ben changes nothing
    assert answer(client, to_ben, "yes").status_code == 409
    assert of_kind(outbox_dir, "You're introduced") == []
    assert org.get("stats").data["top_connectors"][0] | {} == {
        "member_id": grace.member_id, "name": grace.name, "offered": 1, "accepted": 0, "met": 0}


# ---------------------------------------------------------------- limits


def test_the_limits_refuse_with_a_plain_message(client: Any, org: Any, outbox_dir: Path) -> None:
    people = new_members(org, client, outbox_dir, 14)
    ids = [p.member_id for p in people]

    def broker(a: int, b: int, note: str = WHY) -> Any:
        return org.post("intros", {"member_ids": [ids[a], ids[b]], "note": note})

    # nobody receives more than 2 offers a week
    assert broker(0, 1).status_code == 201
    assert broker(0, 2).status_code == 201
    r = broker(0, 3)
    assert r.status_code == 409 and "2 introductions this week" in r.data["error"]["message"], r.data
    # at most 5 open offers per connector
    for a, b in ((4, 5), (6, 7), (8, 9)):
        assert broker(a, b).status_code == 201
    r = broker(10, 11)
    assert r.status_code == 409 and "5 introductions waiting" in r.data["error"]["message"], r.data
    assert len(offers(outbox_dir)) == 10  # five offers, two emails each: nothing for the refused
    organizer_mail = [m for m in offers(outbox_dir) if "organizers think you should meet" in str(m["Subject"])]
    assert len(organizer_mail) == 10
    # a member of an open offer is erased: that offer goes, and frees a place
    assert org.delete(f"members/{ids[4]}").status_code in (200, 204)
    assert broker(10, 11).status_code == 201


def test_never_between_members_who_blocked_each_other(client: Any, org: Any, outbox_dir: Path) -> None:
    ids = ten_in_lisbon(org)
    pair = run_round(org)["pairs"][0]
    a, b = pair["member_ids"]
    assert post_form(client, page_path(org, pair["pair_id"], a), {"action": "block"}).status_code == 200
    r = org.post("intros", {"member_ids": [b, a], "note": WHY})
    assert r.status_code == 409 and "asked not to be paired" in r.data["error"]["message"]
    others = [m for m in ids if m not in pair["member_ids"]]
    assert org.post("intros", {"member_ids": [a, others[0]], "note": WHY}).status_code in (201, 409)


def test_a_member_introduces_only_people_they_met(client: Any, org: Any, outbox_dir: Path) -> None:
    """Lunch partners count once the lunch happened (both confirmed); a stranger does not."""
    ids = ten_in_lisbon(org)
    pair = run_round(org)["pairs"][0]
    me, partner = pair["member_ids"]
    stranger = next(m for m in ids if m not in pair["member_ids"])
    partner_name = f"Person{ids.index(partner)} Test"
    page = client.http.get(introduce_path(org, me)).body.decode()
    assert "Once you've had lunch" in page and partner_name not in page  # not met yet
    for mid in (me, partner):
        assert post_form(client, page_path(org, pair["pair_id"], mid), {"action": "confirm"}).status_code == 200
    page = client.http.get(introduce_path(org, me)).body.decode()
    assert f"So far: {partner_name}." in page
    r = post_form(client, introduce_path(org, me), {"member_ids": [partner, stranger], "note": WHY})
    assert r.status_code == 400 and "member_ids" in r.body.decode()


# ---------------------------------------------------------------- expiry


def test_an_offer_expires_after_14_days_and_the_connector_hears_once(
        client: Any, org: Any, outbox_dir: Path, clock: Any) -> None:
    grace, ben, ana = met_at_a_meetup(org, client, outbox_dir, 3)
    assert introduce(client, org, grace, ana, ben).status_code == 200
    to_ana = to(offers(outbox_dir), ana)[0]
    assert answer(client, to_ana, "yes").status_code == 200
    clock.advance(days=13, hours=23)
    assert hourly()["intros_expired"] == 0
    clock.advance(hours=2)
    assert hourly()["intros_expired"] == 1
    closed = of_kind(outbox_dir, "It didn't work out this time")
    assert sorted(str(m["To"]) for m in closed) == sorted(
        [f"{ana.name} <{ana.email}>", f"{ben.name} <{ben.email}>", f"{grace.name} <{grace.email}>"])
    assert hourly()["intros_expired"] == 0  # the index no longer holds it
    assert len(of_kind(outbox_dir, "It didn't work out this time")) == 3
    # Ben's late yes is refused plainly; the connector's open count is free again
    to_ben = to(offers(outbox_dir), ben)[0]
    assert answer(client, to_ben, "yes").status_code == 409
    assert of_kind(outbox_dir, "You're introduced") == []


# ---------------------------------------------------------------- the monthly thanks


def test_a_connector_gets_one_thank_you_a_month_naming_who_they_connected(
        client: Any, org: Any, outbox_dir: Path, clock: Any) -> None:
    grace, ben, ana = met_at_a_meetup(org, client, outbox_dir, 3)
    assert introduce(client, org, grace, ana, ben).status_code == 200
    for person in (ana, ben):
        assert answer(client, to(offers(outbox_dir), person)[0], "yes").status_code == 200
    assert hourly()["intros_thanks"] == 0  # next month
    clock.set(clock.current.replace(month=12, day=1, hour=10))
    assert hourly()["intros_thanks"] == 1
    assert hourly()["intros_thanks"] == 0
    (thanks,) = of_kind(outbox_dir, "Thank you for your introductions")
    assert grace.email in str(thanks["To"])
    assert f"{ana.name} and {ben.name}" in text_of(thanks) or f"{ben.name} and {ana.name}" in text_of(thanks)


def test_the_thank_you_is_off_when_the_member_turned_it_off(
        client: Any, org: Any, outbox_dir: Path, clock: Any) -> None:
    grace, ben, ana = met_at_a_meetup(org, client, outbox_dir, 3)
    settings = path_of(links.settings_url(org.group_id, grace.member_id))
    assert 'name="intro_thanks" value="on" checked' in client.http.get(settings).body.decode()
    r = post_form(client, settings, {"email": "on", "meetups": "on", "lunch": "off", "intro_thanks": "bogus"})
    assert r.status_code == 400 and "Thanks for introductions: choose one of" in r.body.decode()
    r = post_form(client, settings, {"email": "on", "meetups": "on", "lunch": "off", "intro_thanks": "off"})
    assert r.status_code == 200 and 'name="intro_thanks" value="off" checked' in r.body.decode()
    assert introduce(client, org, grace, ana, ben).status_code == 200
    for person in (ana, ben):
        assert answer(client, to(offers(outbox_dir), person)[0], "yes").status_code == 200
    clock.set(clock.current.replace(month=12, day=1, hour=10))
    hourly()
    assert of_kind(outbox_dir, "Thank you for your introductions") == []


# ---------------------------------------------------------------- the repeat rule, erasure, hostile input


def test_a_connected_intro_counts_as_met_for_the_next_lunch_round(client: Any, org: Any, outbox_dir: Path) -> None:
    """Ana and Ben share every interest, so a round pairs them (checked first, on a copy of the
    group's members); once introduced, the round pairs each with someone new instead."""
    from tests.api.test_lunch_api import add_members

    def setup() -> list[str]:
        ids = [m["member_id"] for m in add_members(org, 4)]
        for i, mid in enumerate(ids):
            interests = ["climate", "python", "hiring"] if i < 2 else []
            r = org.patch(f"members/{mid}", {"lunch": {"opted_in": True, "city": "Lisbon",
                                                       "interests": interests, "availability": ["tue-lunch"]}})
            assert r.status_code == 200, r.data
        org.call("PUT", "lunch-program", {"enabled": True, "cadence": "weekly", "weekday": "tue",
                                          "local_hour": 10, "odd_rule": "sit_out"})
        return ids

    ids = setup()
    ana, ben = ids[:2]
    r = org.post("intros", {"member_ids": [ana, ben], "note": WHY})
    assert r.status_code == 201
    store = deps.store()
    intro = store.intros.get(org.group_id, r.data["intro_id"])
    assert intro is not None
    for mid in (ana, ben):
        path = path_of(links.offer_url(org.group_id, intro.intro_id, mid, intro.expires_at))
        assert post_form(client, path, {"answer": "yes"}).status_code == 200
    assert store.intros.get(org.group_id, intro.intro_id).status == "connected"  # type: ignore[union-attr]
    connected = of_kind(outbox_dir, "You're introduced")
    assert len(connected) == 2 and all("organizer@example.com" in str(m["Cc"]) for m in connected)
    tables = [sorted(p["member_ids"]) for p in run_round(org)["pairs"]]
    assert len(tables) == 2 and sorted([ana, ben]) not in tables


def test_without_an_intro_the_same_group_pairs_ana_and_ben(client: Any, org: Any) -> None:
    """The control for the test above: the same four, no introduction, Ana and Ben paired."""
    from tests.api.test_lunch_api import add_members

    ids = [m["member_id"] for m in add_members(org, 4)]
    for i, mid in enumerate(ids):
        interests = ["climate", "python", "hiring"] if i < 2 else []
        org.patch(f"members/{mid}", {"lunch": {"opted_in": True, "city": "Lisbon",
                                               "interests": interests, "availability": ["tue-lunch"]}})
    org.call("PUT", "lunch-program", {"enabled": True, "cadence": "weekly", "weekday": "tue",
                                      "local_hour": 10, "odd_rule": "sit_out"})
    tables = [sorted(p["member_ids"]) for p in run_round(org)["pairs"]]
    assert sorted(ids[:2]) in tables


def test_erasing_a_member_removes_their_offers_and_notes(client: Any, org: Any, outbox_dir: Path) -> None:
    grace, ben, ana = met_at_a_meetup(org, client, outbox_dir, 3)
    assert introduce(client, org, grace, ana, ben).status_code == 200
    assert org.delete(f"members/{grace.member_id}").status_code in (200, 204)
    assert list(deps.store().intros.of_group(org.group_id)) == []
    assert org.get("stats").data["top_connectors"] == []


@pytest.mark.parametrize("fields, field", [
    ({"note": WHY}, "member_ids"),
    ({"member_ids": ["x"], "note": WHY}, "member_ids"),
    ({"member_ids": ["a", "b"], "note": "too short"}, "note"),
    ({"member_ids": ["a", "b"], "note": "x" * 501}, "note"),
    ({"member_ids": ["a", "b"], "note": WHY, "extra": 1}, "extra"),
    ({"member_ids": ["a/../b", "b"], "note": WHY}, "member_ids"),
])
def test_hostile_organizer_input_is_a_400_naming_the_field(org: Any, fields: dict[str, Any], field: str) -> None:
    r = org.post("intros", fields)
    assert r.status_code == 400, r.data
    assert r.data["error"]["field"].startswith(field), r.data


def test_hostile_page_input_is_a_400_naming_the_field(client: Any, org: Any, outbox_dir: Path) -> None:
    grace, ben, ana = met_at_a_meetup(org, client, outbox_dir, 3)
    for fields, field in (({"member_ids": [ana.member_id], "note": WHY}, "member_ids"),
                          ({"member_ids": [ana.member_id, ben.member_id], "note": "short"}, "note"),
                          ({"member_ids": [ana.member_id, ben.member_id], "note": "\x00" * 30}, "note"),
                          ({"member_ids": [ana.member_id, "mem_nobody"], "note": WHY}, "member_ids")):
        r = post_form(client, introduce_path(org, grace.member_id), fields)
        assert r.status_code == 400 and f"{field}:" in r.body.decode(), (fields, r.body)
    assert offers(outbox_dir) == []
    r = post_form(client, introduce_path(org, grace.member_id).replace("/introduce/", "/offer/"), {"answer": "yes"})
    assert r.status_code == 403  # an introduce link is no offer link


def test_the_introduce_page_takes_at_most_three_dynamodb_calls(client: Any, org: Any, outbox_dir: Path) -> None:
    """Whoever they met (here 2 at a meetup, then 300 more): one BatchGetItem of the member and
    their records, then at most two of pairs and people; past that, the most recent are shown."""
    from bench.roundtrips import RoundTrips

    grace, ben, _ana = met_at_a_meetup(org, client, outbox_dir, 3)
    with RoundTrips(deps.dynamodb_client()) as trips:
        page = client.http.get(introduce_path(org, grace.member_id)).body.decode()
    assert trips.total == 2 and set(trips.calls) == {"BatchGetItem"}, trips.calls
    assert ben.name in page and "most recently" not in page

    # 300 more they met, since erased (ids only stay behind): past the page's 200 items
    deps.store().intros.add_met(org.group_id, [(grace.member_id, f"mem_gone{i:03d}") for i in range(300)])
    with RoundTrips(deps.dynamodb_client()) as trips:
        page = client.http.get(introduce_path(org, grace.member_id)).body.decode()
    assert trips.total == 3 and set(trips.calls) == {"BatchGetItem"}, trips.calls
    assert "most recently" in page and page.count('name="member_ids"') == 2
