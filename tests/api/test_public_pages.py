"""The public pages (issue 12, parts 1, 2 and 5): join and welcome, my links, the shareable
meetup page. Members and strangers get the same page; only mail to the address differs, within
daily limits; a signup is a member only once its emailed link is confirmed by a POST; hostile
input gets a clear 4xx and stores nothing."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from chalicelib import deps
from chalicelib.store import keys

BASE = "https://lunch.example.test"  # BASE_URL in tests/conftest.py
FORM = {"Content-Type": "application/x-www-form-urlencoded", "Origin": BASE}


def post(client: Any, path: str, form: dict[str, str], **headers: str) -> Any:
    return client.http.post(path, headers={**FORM, **headers}, body=urlencode(form).encode())


def body(response: Any) -> str:
    return response.body.decode() if isinstance(response.body, bytes) else str(response.body)


def mails_to(outbox: Path, address: str, kind: str | None = None) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted(outbox.glob("*.eml")) if outbox.exists() else []:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if address in str(message["To"]) and (kind is None or f"-{kind}-" in path.name):
            found.append(message)
    return found  # type: ignore[return-value]


def text_of(message: Any) -> str:
    return str(message.get_body(preferencelist=("plain",)).get_content())


def link_in(message: Any, path: str) -> str:
    match = re.search(re.escape(BASE) + "(/" + path + r"/[A-Za-z0-9_.\-]+)", text_of(message))
    assert match, text_of(message)
    return match.group(1)


def member_emails(org: Any) -> dict[str, dict[str, Any]]:
    return {m["email"]: m for m in org.get("members?limit=200").data["items"]}


def public_items(group_id: str) -> list[dict[str, Any]]:
    """Every signup and daily-limit item of the group (what a rejected request must not write)."""
    db = deps.store().db
    found = list(db.query_all(partition=keys.group_pk(group_id), prefix="SIGNUP#"))
    found += list(db.query_all(partition=f"LIMIT#{group_id}#GROUP"))
    return found


@pytest.fixture
def member(org: Any) -> dict[str, Any]:
    r = org.post("members", {"email": "mia@example.com", "name": "Mia Member"})
    assert r.status_code == 201, r.data
    return dict(r.data["created"][0])


@pytest.fixture
def meetup(org: Any, clock: Any) -> dict[str, Any]:
    start = clock() + timedelta(days=5)
    r = org.post("meetups", {"title": "Founders' breakfast", "starts_at": start.isoformat(),
                             "ends_at": (start + timedelta(hours=2)).isoformat(), "timezone": "Europe/Lisbon",
                             "venue": {"name": "Café A Brasileira", "address": "Rua Garrett 120, Lisboa"},
                             "capacity": 10})
    assert r.status_code == 201, r.data
    assert r.data["visibility"] == "members"
    return dict(r.data)


# ---------------------------------------------------------------- join and welcome


def test_joining_takes_a_confirmed_email_and_makes_a_member_from_the_join_page(
        client: Any, org: Any, outbox_dir: Path) -> None:
    page = client.http.get(f"/join/{org.group_id}")
    assert page.status_code == 200 and "Join Lisbon Founders" in body(page)
    r = post(client, f"/join/{org.group_id}", {"name": "Nia New", "email": "Nia@Example.com",
                                               "headline": "Designer", "lunch": "1", "mode": "in_person",
                                               "city": "Lisbon"})
    assert r.status_code == 200 and "Check your email" in body(r)
    assert "nia@example.com" not in member_emails(org)  # not a member until confirmed
    (confirm,) = mails_to(outbox_dir, "nia@example.com", "join_confirm")
    assert str(confirm["Subject"]) == "Confirm you want to join Lisbon Founders"
    assert "List-Unsubscribe" not in confirm
    welcome = link_in(confirm, "welcome")

    shown = client.http.get(welcome)  # a mail scanner opening the link changes nothing
    assert shown.status_code == 200 and "Welcome, Nia New" in body(shown) and "<form method=\"post\">" in body(shown)
    assert "nia@example.com" not in member_emails(org)

    done = post(client, welcome, {})
    assert done.status_code == 303
    landing = urlsplit(done.headers["Location"])
    assert landing.path.startswith("/lunch/") and landing.query == "joined=1"
    joined = member_emails(org)["nia@example.com"]
    assert joined["source"] == "join_page" and joined["name"] == "Nia New" and joined["headline"] == "Designer"
    assert joined["lunch"]["opted_in"] and joined["lunch"]["city"] == "Lisbon"
    preferences = client.http.get(f"{landing.path}?{landing.query}")
    assert preferences.status_code == 200 and "Hi Nia." in body(preferences)  # greeted by their first name
    assert "Welcome! You&#39;re a member now." in body(preferences)  # they know it worked, and where their links went
    assert "Welcome!" not in body(client.http.get(landing.path))
    # ... and the links arrive once: their way back to these pages
    (links_mail,) = mails_to(outbox_dir, "nia@example.com", "member_links")
    assert str(links_mail["Subject"]) == "Welcome to Lisbon Founders: your links"
    assert "You're a member of Lisbon Founders now" in text_of(links_mail)
    assert "they act as you.\r\n\r\n" in text_of(links_mail)  # a paragraph of its own, as in the links asked for
    assert "Didn't ask for this" not in text_of(links_mail)
    assert urlsplit(link_in(links_mail, "lunch")).path == landing.path

    again = post(client, welcome, {})  # a second click: the same member, nothing new
    assert again.status_code == 303
    assert list(member_emails(org)).count("nia@example.com") == 1
    assert member_emails(org)["nia@example.com"]["member_id"] == joined["member_id"]
    assert len(mails_to(outbox_dir, "nia@example.com", "member_links")) == 1


def test_members_added_by_the_organizer_show_source_api(org: Any, member: dict[str, Any]) -> None:
    assert member["source"] == "api"


def test_a_member_and_a_stranger_see_the_same_page_and_only_limits_bound_the_mail(
        client: Any, org: Any, member: dict[str, Any], clock: Any, outbox_dir: Path) -> None:
    def join(address: str) -> Any:
        return post(client, f"/join/{org.group_id}", {"name": "Someone", "email": address})

    answers = [join("mia@example.com"), join("stranger@example.com")]
    assert {a.status_code for a in answers} == {200}
    assert body(answers[0]) == body(answers[1])
    # The member is sent their links (nothing about them changes); the stranger a confirmation.
    assert len(mails_to(outbox_dir, "mia@example.com", "member_links")) == 1
    assert mails_to(outbox_dir, "mia@example.com", "join_confirm") == []
    assert len(mails_to(outbox_dir, "stranger@example.com", "join_confirm")) == 1
    assert member_emails(org)["mia@example.com"] == member

    for _ in range(4):  # 6 asks each in a day: 3 emails each, then the same page and nothing
        for address in ("mia@example.com", "stranger@example.com"):
            assert body(join(address)) == body(answers[0])
    assert len(mails_to(outbox_dir, "mia@example.com")) == 3
    assert len(mails_to(outbox_dir, "stranger@example.com")) == 3
    assert member_emails(org)["mia@example.com"] == member

    clock.advance(days=1)  # a new day: the counters start again
    join("stranger@example.com")
    assert len(mails_to(outbox_dir, "stranger@example.com")) == 4


def test_the_group_daily_cap_stops_confirmations_with_the_same_answer(
        client: Any, org: Any, outbox_dir: Path) -> None:
    assert org.patch(org.base, {"join_daily_cap": 2}).data["join_daily_cap"] == 2
    pages = {body(post(client, f"/join/{org.group_id}", {"name": "P", "email": f"p{i}@example.com"}))
             for i in range(4)}
    assert len(pages) == 1
    assert sum(len(mails_to(outbox_dir, f"p{i}@example.com")) for i in range(4)) == 2


def test_an_unconfirmed_signup_expires_after_7_days(client: Any, org: Any, clock: Any, outbox_dir: Path) -> None:
    post(client, f"/join/{org.group_id}", {"name": "Late", "email": "late@example.com"})
    welcome = link_in(mails_to(outbox_dir, "late@example.com")[0], "welcome")
    clock.advance(days=7, seconds=1)
    assert client.http.get(welcome).status_code == 410
    assert post(client, welcome, {}).status_code == 410
    assert "late@example.com" not in member_emails(org)


def test_a_closed_join_page_says_so_and_sends_nothing(client: Any, org: Any, outbox_dir: Path) -> None:
    post(client, f"/join/{org.group_id}", {"name": "Early", "email": "early@example.com"})
    assert org.patch(org.base, {"join_open": False}).data["join_open"] is False
    page = client.http.get(f"/join/{org.group_id}")
    assert page.status_code == 200 and "isn't taking new members right now" in body(page) and "<form" not in body(page)
    before = public_items(org.group_id)
    r = post(client, f"/join/{org.group_id}", {"name": "Late", "email": "late@example.com"})
    assert r.status_code == 200 and "isn't taking new members right now" in body(r)
    assert mails_to(outbox_dir, "late@example.com") == [] and public_items(org.group_id) == before
    # a confirmation sent before the page closed no longer joins
    welcome = link_in(mails_to(outbox_dir, "early@example.com")[0], "welcome")
    assert "isn't taking new members" in body(client.http.get(welcome))
    assert post(client, welcome, {}).status_code == 409
    assert "early@example.com" not in member_emails(org)
    assert org.patch(org.base, {"join_open": None}).status_code == 400


# ---------------------------------------------------------------- my links


def test_the_links_page_answers_alike_and_mails_only_the_member_fresh_links(
        client: Any, org: Any, member: dict[str, Any], meetup: dict[str, Any], outbox_dir: Path) -> None:
    page = client.http.get(f"/links/{org.group_id}")
    assert page.status_code == 200 and "Email me my links" in body(page)
    mine = post(client, f"/links/{org.group_id}", {"email": "MIA@example.com"})
    theirs = post(client, f"/links/{org.group_id}", {"email": "nobody@example.com"})
    assert mine.status_code == theirs.status_code == 200 and body(mine) == body(theirs)
    assert "Check your email" in body(mine)
    assert mails_to(outbox_dir, "nobody@example.com") == []
    (links_mail,) = mails_to(outbox_dir, "mia@example.com", "member_links")
    text = text_of(links_mail)
    assert "Founders' breakfast" in text
    rsvp = link_in(links_mail, "rsvp")
    assert client.http.get(rsvp).status_code == 200
    assert client.http.get(link_in(links_mail, "lunch")).status_code == 200
    for _ in range(5):
        post(client, f"/links/{org.group_id}", {"email": "mia@example.com"})
    assert len(mails_to(outbox_dir, "mia@example.com", "member_links")) == 3


def test_the_links_email_leads_to_the_current_pairing(client: Any, org: Any, outbox_dir: Path) -> None:
    from tests.api.test_lunch_api import PROGRAM, add_members, run_round

    people = add_members(org, 2)
    for person in people:
        r = org.patch(f"members/{person['member_id']}", {"lunch": {"opted_in": True, "city": "Lisbon",
                                                                   "availability": ["tue-lunch"]}})
        assert r.status_code == 200, r.data
    org.call("PUT", "lunch-program", PROGRAM)
    (pair,) = run_round(org)["pairs"]
    post(client, f"/links/{org.group_id}", {"email": people[0]["email"]})
    (sent,) = mails_to(outbox_dir, people[0]["email"], "member_links")
    page = client.http.get(link_in(sent, "pairing"))
    assert page.status_code == 200 and "Person1 Test" in body(page)
    assert set(pair["member_ids"]) == {p["member_id"] for p in people}


def test_an_unsubscribed_member_may_ask_for_links_and_joins_again_only_by_confirming(
        client: Any, org: Any, member: dict[str, Any], outbox_dir: Path) -> None:
    assert org.patch(f"members/{member['member_id']}", {"subscribed": False}).status_code == 200
    r = post(client, f"/links/{org.group_id}", {"email": "mia@example.com"})
    assert r.status_code == 200 and "Check your email" in body(r)
    (asked,) = mails_to(outbox_dir, "mia@example.com", "member_links")  # asked for: their way back
    assert "/settings/" in text_of(asked)
    # Joining again sends the confirmation (not links); only confirming subscribes them again.
    post(client, f"/join/{org.group_id}", {"name": "Mia Other", "email": "mia@example.com"})
    (confirm,) = mails_to(outbox_dir, "mia@example.com", "join_confirm")
    assert member_emails(org)["mia@example.com"]["subscribed"] is False
    assert post(client, link_in(confirm, "welcome"), {}).status_code == 303
    back = member_emails(org)["mia@example.com"]
    assert back["subscribed"] is True and back["name"] == "Mia Member" and back["source"] == "api"
    assert back["member_id"] == member["member_id"]


def test_a_bounced_address_gets_nothing_from_any_public_page(
        client: Any, org: Any, member: dict[str, Any], meetup: dict[str, Any], outbox_dir: Path) -> None:
    deps.store().members.change(org.group_id, member["member_id"],
                                lambda m: m.model_copy(update={"bounced": True}))
    org.patch(f"meetups/{meetup['meetup_id']}", {"visibility": "public"})
    for path in (f"/join/{org.group_id}", f"/links/{org.group_id}", f"/events/{org.group_id}/{meetup['meetup_id']}"):
        assert post(client, path, {"email": "mia@example.com", "name": "Mia"}).status_code == 200
    assert mails_to(outbox_dir, "mia@example.com") == []


# ---------------------------------------------------------------- public meetup pages


def test_a_members_only_meetup_page_offers_the_join_link_and_nothing_else(
        client: Any, org: Any, member: dict[str, Any], meetup: dict[str, Any], outbox_dir: Path) -> None:
    path = f"/events/{org.group_id}/{meetup['meetup_id']}"
    page = client.http.get(path)
    assert page.status_code == 200
    assert "This meetup is for members" in body(page) and f"/join/{org.group_id}" in body(page)
    assert "Founders&#39; breakfast" not in body(page) and "Café" not in body(page)
    r = post(client, path, {"email": "mia@example.com", "name": "Mia"})
    assert r.status_code == 200 and body(r) == body(page)
    assert mails_to(outbox_dir, "mia@example.com") == []


def test_a_public_meetup_page_shows_no_names_and_mails_members_and_strangers_their_way(
        client: Any, org: Any, member: dict[str, Any], meetup: dict[str, Any], outbox_dir: Path) -> None:
    r = org.patch(f"meetups/{meetup['meetup_id']}", {"visibility": "public"})
    assert r.status_code == 200 and r.data["visibility"] == "public"
    path = f"/events/{org.group_id}/{meetup['meetup_id']}"
    first = post(client, path, {"email": "mia@example.com", "name": "Mia"})
    stranger = post(client, path, {"email": "sam@example.com", "name": "Sam Stranger"})
    assert stranger.status_code == first.status_code == 200 and body(stranger) == body(first)
    assert "Check your email" in body(first)
    # Mia is going (with her own link); the page counts her but never names her.
    (invite,) = mails_to(outbox_dir, "mia@example.com", "rsvp_invite")
    assert post(client, link_in(invite, "rsvp"), {"answer": "going"}).status_code == 200
    page = client.http.get(path)
    html = body(page)
    assert page.status_code == 200 and "Founders&#39; breakfast" in html
    assert "Café A Brasileira, Rua Garrett 120, Lisboa" in html
    assert re.search(r"\d{2}:\d{2}.\d{2}:\d{2} WET \(UTC\+00:00\)", html), html
    assert "9 left" in html and "<dt>Going</dt>\n  <dd>1</dd>" in html
    assert "Mia" not in html and "mia@example.com" not in html

    (confirm,) = mails_to(outbox_dir, "sam@example.com", "join_confirm")
    assert "Founders' breakfast" in text_of(confirm)
    done = post(client, link_in(confirm, "welcome"), {})
    assert done.status_code == 303 and urlsplit(done.headers["Location"]).path.startswith("/rsvp/")
    assert member_emails(org)["sam@example.com"]["source"] == "join_page"
    landing = urlsplit(done.headers["Location"])
    rsvp_page = client.http.get(f"{landing.path}?{landing.query}")
    assert rsvp_page.status_code == 200 and "Hi Sam, will you join us?" in body(rsvp_page)
    assert "Welcome! You&#39;re a member now." in body(rsvp_page)
    (links_mail,) = mails_to(outbox_dir, "sam@example.com", "member_links")  # the welcome, with the meetup's link
    assert urlsplit(link_in(links_mail, "rsvp")).path == landing.path


def test_a_public_page_of_a_closed_group_sends_strangers_nothing(
        client: Any, org: Any, meetup: dict[str, Any], outbox_dir: Path) -> None:
    org.patch(f"meetups/{meetup['meetup_id']}", {"visibility": "public"})
    org.patch(org.base, {"join_open": False})
    r = post(client, f"/events/{org.group_id}/{meetup['meetup_id']}", {"email": "sam@example.com", "name": "Sam"})
    assert r.status_code == 200 and "Check your email" in body(r)
    assert mails_to(outbox_dir, "sam@example.com") == []


def test_visibility_and_join_settings_are_validated(org: Any, meetup: dict[str, Any]) -> None:
    r = org.patch(f"meetups/{meetup['meetup_id']}", {"visibility": "everyone"})
    assert r.status_code == 400 and r.data["error"]["field"] == "visibility"
    r = org.patch(org.base, {"join_daily_cap": -1})
    assert r.status_code == 400 and r.data["error"]["field"] == "join_daily_cap"


# ---------------------------------------------------------------- hostile input


@pytest.mark.parametrize(("form", "says"), [
    ({"name": "x" * 201, "email": "ok@example.com"}, "Name: "),
    ({"name": "Ok", "email": "not-an-address"}, "Email: is not a valid email address"),
    ({"name": "Ok", "email": "a@b.c" + "x" * 400}, "Email: "),
    ({"name": "Ok", "email": "ok@example.com", "headline": "h" * 201}, "Headline: "),
    ({"name": "Ok", "email": "ok@example.com", "lunch": "1", "mode": "in_person"}, "City: say which city"),
    ({"name": "Ok", "email": "ok@example.com", "mode": "teleport"}, "Mode: "),
    ({"name": "Bad\x00name", "email": "ok@example.com"}, "Name: must not contain control characters"),
    ({"name": "", "email": "ok@example.com"}, "Name: is required"),
    ({"name": "Ok"}, "Email: is required"),
])
def test_bad_join_forms_get_a_400_naming_the_field_and_store_nothing(
        client: Any, org: Any, outbox_dir: Path, form: dict[str, str], says: str) -> None:
    r = post(client, f"/join/{org.group_id}", form)
    assert r.status_code == 400 and says in body(r), body(r)[-1500:]
    assert "Nothing was sent or saved" in body(r)
    assert public_items(org.group_id) == [] and mails_to(outbox_dir, "@") == []


def test_every_public_form_refuses_bad_input_and_cross_site_posts(
        client: Any, org: Any, member: dict[str, Any], meetup: dict[str, Any], outbox_dir: Path) -> None:
    org.patch(f"meetups/{meetup['meetup_id']}", {"visibility": "public"})
    forms = {f"/join/{org.group_id}": {"name": "Mia", "email": "mia@example.com"},
             f"/links/{org.group_id}": {"email": "mia@example.com"},
             f"/events/{org.group_id}/{meetup['meetup_id']}": {"email": "mia@example.com", "name": "Mia"}}
    for path, good in forms.items():
        for origin in ("https://evil.example", "http://lunch.example.test", "null"):
            r = post(client, path, good, Origin=origin)
            assert r.status_code == 403, (path, origin)
        r = post(client, path, good, Origin="", Referer="https://evil.example/page")
        assert r.status_code == 403, path
        assert post(client, path, {**good, "email": "nope"}).status_code == 400
        assert "Email: is not a valid email address" in body(post(client, path, {**good, "email": "@@"}))
        assert post(client, path, {**good, "email": "x" * 5000 + "@example.com"}).status_code == 400
        if "name" in good:
            assert "Name: " in body(post(client, path, {**good, "name": "n" * 300}))
    assert public_items(org.group_id) == [] and mails_to(outbox_dir, "@") == []
    # and a welcome POST from another site cannot join anyone
    post(client, f"/join/{org.group_id}", {"name": "Sam", "email": "sam@example.com"})
    welcome = link_in(mails_to(outbox_dir, "sam@example.com")[0], "welcome")
    assert post(client, welcome, {}, Origin="https://evil.example").status_code == 403
    assert "sam@example.com" not in member_emails(org)


@pytest.mark.parametrize("path", ["/join/grp_nope", "/links/" + "grp_" + "0" * 26, "/events/grp_x/mtp_y",
                                  "/welcome/not-a-token"])
def test_unknown_groups_meetups_and_tokens_get_an_error_page(client: Any, path: str) -> None:
    assert client.http.get(path).status_code in (403, 404)
    assert post(client, path, {"email": "a@example.com", "name": "A"}).status_code in (403, 404)


def test_erasing_a_member_who_joined_leaves_no_trace_of_their_address(
        client: Any, org: Any, outbox_dir: Path) -> None:
    post(client, f"/join/{org.group_id}", {"name": "Gone Soon", "email": "gone@example.com"})
    post(client, f"/join/{org.group_id}", {"name": "Gone Soon", "email": "gone@example.com"})
    welcome = link_in(mails_to(outbox_dir, "gone@example.com")[0], "welcome")
    assert post(client, welcome, {}).status_code == 303
    member = member_emails(org)["gone@example.com"]
    assert org.delete(f"members/{member['member_id']}").status_code == 204
    db = deps.store().db
    assert list(db.query_all(partition=keys.mailbox(org.group_id, keys.address_id("gone@example.com")))) == []
    assert list(db.query_all(partition=keys.group_pk(org.group_id), prefix="SIGNUP#")) == []
    assert client.http.get(welcome).status_code == 410
