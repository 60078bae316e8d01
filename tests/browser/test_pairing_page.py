"""The pairing page in Chromium, as two members live it: the intro's "I'll meet" button opens
the page on that one question; confirming shows who we wait for; once the partner confirms too,
the page shows their address. At 390 px and at 1280 px."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from chalicelib.models import GroupIn, LunchPrefsPatch, LunchProgramIn, MemberIn, MemberPatch
from chalicelib.services import groups, lunch, members, pairing


def _intro_link(outbox_dir: Path, base: str, address: str) -> str:
    for path in sorted(outbox_dir.glob("*-lunch_intro-*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if address in str(message["To"]):
            text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
            match = re.search(re.escape(base) + r"/pairing/[A-Za-z0-9_.\-]+\?do=confirm", text)
            assert match, text
            return match.group(0)
    raise AssertionError(f"no intro for {address}")


def test_confirm_from_the_intro_then_wait_then_see_the_partners_address(
        chromium: Any, phone: Any, app_url: str, outbox_dir: Path, artifacts: Path) -> None:
    group, _ = groups.create_group(GroupIn(name="Porto Makers", timezone="Europe/Lisbon",
                                           sender_name="Porto Makers", reply_to="host@example.com"))
    gid = group.group_id
    created, _ = members.add_members(gid, [
        MemberIn(email="ana@example.com", name="Ana Silva", headline="Designer at Loja"),
        MemberIn(email="ben@example.com", name="Ben Okafor", headline="Backend engineer")])
    for member in created:
        members.update_member(gid, member.member_id, MemberPatch(lunch=LunchPrefsPatch(
            opted_in=True, city="Porto", interests=["design"], availability=["tue-lunch"])))
    lunch.put_program(gid, LunchProgramIn(odd_rule="sit_out"))
    pairing.start_round_now(gid)

    ana = phone.new_page()
    ana.goto(_intro_link(outbox_dir, app_url, "ana@example.com"))
    heading = ana.get_by_role("heading", level=1)
    expect(heading).to_have_text("Confirm you'll meet Ben?")
    # The question comes first, before the partner and the reasons.
    assert ana.evaluate("document.querySelector('h1').getBoundingClientRect().top") < ana.evaluate(
        "document.querySelector('h2').getBoundingClientRect().top")
    expect(ana.locator("body")).not_to_contain_text("ben@example.com")
    ana.get_by_role("button", name="Yes, I'll meet Ben").click()
    expect(ana.locator(".status")).to_contain_text("We're waiting for Ben")
    expect(ana.locator("body")).not_to_contain_text("ben@example.com")
    assert ana.evaluate("document.documentElement.scrollWidth") <= 390
    ana.screenshot(path=str(artifacts / "pairing-waiting-390.png"), full_page=True)

    desk = chromium.new_context(viewport={"width": 1280, "height": 800})
    ben = desk.new_page()
    ben.goto(_intro_link(outbox_dir, app_url, "ben@example.com"))
    expect(ben.get_by_role("heading", level=1)).to_have_text("Confirm you'll meet Ana?")
    ben.get_by_role("button", name="Yes, I'll meet Ana").click()
    expect(ben.locator(".status")).to_contain_text("You're on")
    expect(ben.get_by_role("link", name="ana@example.com")).to_be_visible()
    ben.screenshot(path=str(artifacts / "pairing-connected-1280.png"), full_page=True)
    desk.close()

    ana.reload()  # the page from the email link again: no question now, Ben's address
    expect(ana.get_by_role("heading", level=1)).to_have_text("You're meeting Ben Okafor")
    expect(ana.get_by_role("link", name="ben@example.com")).to_be_visible()
    expect(ana.locator(".status")).to_contain_text("You're on. We suggest Tuesday")
    assert ana.evaluate("document.documentElement.scrollWidth") <= 390
    ana.screenshot(path=str(artifacts / "pairing-connected-390.png"), full_page=True)
