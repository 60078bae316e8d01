"""Expired links recover (issue 12, part 3): the 410 page's "email me a fresh link" mails the
member the expired link names a new one, to nobody else; the signature is still checked."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib import deps, links
from chalicelib.store import keys
from tests.api.test_lunch_api import add_members, mails, path_of, post_form, text_of
from tests.api.test_rsvp_api import new_meetup

FRESH = re.compile(r"https://lunch\.example\.test/(?:rsvp|lunch|pairing|settings)/[A-Za-z0-9_.\-]+")
RENEW_FORM = re.compile(r'<form method="post" action="https://lunch\.example\.test(/renew/[a-z]+/[^"]+)">')


def fresh_mails(outbox: Path) -> list[Any]:
    return [m for m in mails(outbox) if str(m["Subject"]).startswith("Your fresh link")]


def renew_path(client: Any, page_path: str) -> str:
    """The 410 page of an expired link, and where its button posts."""
    page = client.http.get(page_path)
    html = page.body.decode()
    assert page.status_code == 410 and "This link has expired" in html, html
    found = RENEW_FORM.search(html)
    assert found, html
    assert "Email me a fresh link" in html
    return found.group(1)


def expired_token(purpose: Any, group_id: str, member_id: str, resource_id: str) -> str:
    """A genuine token (our secret) that expired a day ago, for pages whose lifetime we can't
    reach by moving the clock without ending what they are for."""
    return links.signer().make(purpose, group_id=group_id, member_id=member_id, resource_id=resource_id,
                               expires_at=deps.now() - timedelta(days=1))


def test_an_expired_lunch_link_emails_a_fresh_one_that_works(client: Any, org: Any, clock: Any,
                                                               outbox_dir: Path) -> None:
    first, second = add_members(org, 2)
    old = path_of(links.lunch_url(org.group_id, first["member_id"]))
    assert client.http.get(old).status_code == 200
    clock.advance(days=61)  # past LUNCH_LIFETIME
    button = renew_path(client, old)
    assert button == "/renew/lunch/" + old.rsplit("/", 1)[1]
    assert fresh_mails(outbox_dir) == []  # the 410 page (a GET) sent nothing
    r = post_form(client, button, {})
    assert r.status_code == 200 and "emailed you a fresh link" in r.body.decode()
    sent = fresh_mails(outbox_dir)
    assert [str(m["To"]) for m in sent] == [f"Person0 Test <{first['email']}>"]
    assert second["email"] not in " ".join(str(m["To"]) for m in mails(outbox_dir))
    link = FRESH.search(text_of(sent[0]))
    assert link is not None and "/lunch/" in link.group(0)
    page = client.http.get(path_of(link.group(0)))
    assert page.status_code == 200 and "Lunch pairing" in page.body.decode()
    assert client.http.get(old).status_code == 410  # the old one stays expired


def test_a_tampered_expired_link_gets_403_and_no_mail(client: Any, org: Any, clock: Any,
                                                      outbox_dir: Path) -> None:
    member = add_members(org, 1)[0]
    token = links.lunch_url(org.group_id, member["member_id"]).rsplit("/", 1)[1]
    clock.advance(days=61)
    payload, signature = token.rsplit(".", 1)
    at = len(payload) // 2
    swapped = payload[:at] + ("A" if payload[at] != "A" else "B") + payload[at + 1:]
    for path in (f"/renew/lunch/{swapped}.{signature}",          # the payload changed
                 f"/renew/lunch/{payload}.{signature[:-4]}AAAA",  # the signature changed
                 f"/renew/pairing/{token}",                       # made for another page
                 f"/renew/settings/{token}"):
        r = post_form(client, path, {})
        assert r.status_code == 403 and "This link doesn" in r.body.decode(), path
        assert client.http.get(path.replace("/renew", "")).status_code == 403
    assert fresh_mails(outbox_dir) == []
    unsubscribe = links.unsubscribe_url(org.group_id, member["member_id"]).rsplit("/", 1)[1]
    assert post_form(client, f"/renew/unsubscribe/{unsubscribe}", {}).status_code == 404
    assert fresh_mails(outbox_dir) == []


def test_three_fresh_links_a_day_at_most_one_per_click(client: Any, org: Any, clock: Any,
                                                       outbox_dir: Path) -> None:
    member = add_members(org, 1)[0]
    old = path_of(links.lunch_url(org.group_id, member["member_id"]))
    clock.advance(days=61)
    button = renew_path(client, old)
    for click in range(1, 4):
        r = post_form(client, button, {})
        assert r.status_code == 200 and "emailed you a fresh link" in r.body.decode()
        assert len(fresh_mails(outbox_dir)) == click
    r = post_form(client, button, {})
    assert r.status_code == 200 and "already sent you fresh links today" in r.body.decode()
    assert len(fresh_mails(outbox_dir)) == 3
    assert len({str(m["Message-ID"]) for m in fresh_mails(outbox_dir)}) == 3  # three emails, not one thrice
    day = clock.current.date()
    count = deps.store().db.get(keys.fresh_link_count(org.group_id, member["member_id"], day))
    assert count is not None and count["sent"] == 3
    assert int(count["expires_at"]) == int((clock.current + timedelta(days=2)).timestamp())  # TTL
    clock.advance(days=1)
    assert "emailed you a fresh link" in post_form(client, button, {}).body.decode()
    assert len(fresh_mails(outbox_dir)) == 4


def test_a_link_that_still_works_is_not_mailed_again(client: Any, org: Any, outbox_dir: Path) -> None:
    member = add_members(org, 1)[0]
    token = links.lunch_url(org.group_id, member["member_id"]).rsplit("/", 1)[1]
    r = post_form(client, f"/renew/lunch/{token}", {})
    assert r.status_code == 200 and "This link still works" in r.body.decode()
    assert f'href="https://lunch.example.test/lunch/{token}"' in r.body.decode()
    assert fresh_mails(outbox_dir) == []


@pytest.mark.parametrize("purpose", ["rsvp", "pairing", "settings"])
def test_rsvp_pairing_and_settings_links_renew_for_the_same_page(client: Any, org: Any, outbox_dir: Path,
                                                                 purpose: str) -> None:
    member = add_members(org, 1)[0]
    resource = {"rsvp": new_meetup(org, capacity=None)["meetup_id"],  # a meetup moved later than its link
                "pairing": "lpr_someround_abc", "settings": org.group_id}[purpose]
    token = expired_token(purpose, org.group_id, member["member_id"], resource)
    button = renew_path(client, f"/{purpose}/{token}")
    assert post_form(client, button, {}).status_code == 200
    sent = fresh_mails(outbox_dir)
    assert len(sent) == 1
    fresh = FRESH.search(text_of(sent[0]))
    assert fresh is not None and f"/{purpose}/" in fresh.group(0)
    claims = links.read(purpose, fresh.group(0).rsplit("/", 1)[1])  # type: ignore[arg-type]
    assert (claims.group_id, claims.member_id, claims.resource_id) == (org.group_id, member["member_id"],
                                                                       resource)
    assert claims.expires_at > deps.now()
    if purpose != "pairing":  # (no such pair: the fresh link opens the pairing page's 404)
        assert client.http.get(path_of(fresh.group(0))).status_code == 200


def test_an_rsvp_link_of_a_meetup_long_over_sends_nothing(client: Any, org: Any, clock: Any,
                                                          outbox_dir: Path) -> None:
    member = add_members(org, 1)[0]
    meetup = new_meetup(org)
    token = links.rsvp_url(org.group_id, meetup["meetup_id"], member["member_id"],
                           deps.store().meetups.require(org.group_id, meetup["meetup_id"]).ends_at).rsplit("/", 1)[1]
    clock.advance(days=30)
    button = renew_path(client, f"/rsvp/{token}")
    r = post_form(client, button, {})
    assert r.status_code == 200 and "That meetup is over" in r.body.decode()
    assert fresh_mails(outbox_dir) == []
