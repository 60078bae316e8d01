"""Joining from the public join page in Chromium at 390 px, as a newcomer lives it: the form, the
join_confirm email, the welcome button, the lunch preferences saved; the organizer API then
shows the member with source "join_page". Joining again with the same address changes nothing,
and sends nothing beyond the daily limit."""

from __future__ import annotations

import email
import email.policy
import json
import re
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from chalicelib.models import GroupIn
from chalicelib.services import groups


def _mails(outbox_dir: Path, kind: str, address: str) -> list[Any]:
    found = []
    for path in sorted(outbox_dir.glob(f"*-{kind}-*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if address in str(message["To"]):
            found.append(message)
    return found


def _link(message: Any, base: str, path: str) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(re.escape(base) + "/" + path + r"/[A-Za-z0-9_.\-]+", text)
    assert match, text
    return match.group(0)


def _members(base: str, group_id: str, api_key: str) -> dict[str, dict[str, Any]]:
    request = urllib.request.Request(f"{base}/groups/{group_id}/members",
                                     headers={"Authorization": f"Bearer {api_key}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return {m["email"]: m for m in json.loads(response.read())["items"]}


def _join(page: Any, base: str, group_id: str, name: str) -> None:
    page.goto(f"{base}/join/{group_id}")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email", exact=True).fill("Nia.Nova@example.com")
    page.get_by_label("What you do (optional)").fill("Designer at Loja")
    page.get_by_label("Pair me for lunches with other members").check()
    page.get_by_label("In person, in my city").check()
    page.get_by_label("City", exact=True).fill("Porto")
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")


def test_join_confirm_welcome_preferences_then_the_organizer_sees_a_join_page_member(
        phone: Any, app_url: str, outbox_dir: Path, artifacts: Path) -> None:
    group, key = groups.create_group(GroupIn(name="Porto Makers", timezone="Europe/Lisbon",
                                             sender_name="Porto Makers", reply_to="host@example.com"))
    gid, address = group.group_id, "nia.nova@example.com"
    page = phone.new_page()
    page.goto(f"{app_url}/join/{gid}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Join Porto Makers")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / "join-390.png"), full_page=True)
    _join(page, app_url, gid, "Nia Nova")
    assert address not in _members(app_url, gid, key.secret)  # not before confirming

    (confirm,) = _mails(outbox_dir, "join_confirm", address)
    page.goto(_link(confirm, app_url, "welcome"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Nia Nova")
    assert address not in _members(app_url, gid, key.secret)  # opening the link changes nothing
    page.get_by_role("button", name="Join Porto Makers").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Lunch pairing")  # their preferences
    assert "/lunch/" in page.url
    expect(page.locator(".flash")).to_contain_text("Welcome! You're a member now.")  # it worked, and links are mailed
    (welcome_mail,) = _mails(outbox_dir, "member_links", address)
    assert str(welcome_mail["Subject"]) == "Welcome to Porto Makers: your links"
    expect(page.get_by_label("City", exact=True)).to_have_value("Porto")
    page.get_by_label("Interests").fill("design, ceramics")
    page.locator('input[name="availability"][value="tue-lunch"]').check()
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page.locator(".flash")).to_contain_text("Saved")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    member = _members(app_url, gid, key.secret)[address]
    assert member["source"] == "join_page" and member["name"] == "Nia Nova"
    assert member["headline"] == "Designer at Loja"
    assert member["lunch"]["opted_in"] and member["lunch"]["city"] == "Porto"
    assert member["lunch"]["availability"] == ["tue-lunch"] and member["lunch"]["interests"] == ["ceramics", "design"]

    # The same address joins again, four times: the same page, the member as it was; they get
    # their links instead of a confirmation, three at most today (besides the welcome).
    for attempt in range(4):
        _join(page, app_url, gid, f"Someone Else {attempt}")
    assert _members(app_url, gid, key.secret)[address] == member
    assert len(_mails(outbox_dir, "join_confirm", address)) == 1
    assert len(_mails(outbox_dir, "member_links", address)) == 1 + 3
