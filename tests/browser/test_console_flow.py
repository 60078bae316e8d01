"""The organizer console in Chromium: ask for a sign-in link, open it from the .eml, reach the
home page, sign out, and find the old session closed. At 1280 px, and at 390 px without
JavaScript. Screenshots go to test-artifacts/."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from chalicelib import deps
from chalicelib.models import GroupIn, MeetupIn, MemberIn
from chalicelib.services import console, groups, meetups, members

HOST = "host@example.com"


def signin_link(outbox_dir: Path, base: str, address: str, seen: set[str]) -> str:
    """The newest sign-in link mailed to `address` that is not in `seen`."""
    for path in sorted(outbox_dir.glob("*-console_signin-*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if address in str(message["To"]):
            text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
            match = re.search(re.escape(base) + r"/console/signin/[A-Za-z0-9_\-]+", text)
            assert match, text
            if match.group(0) not in seen:
                seen.add(match.group(0))
                return match.group(0)
    raise AssertionError(f"no new sign-in link for {address}")


def make_group() -> str:
    group, _ = groups.create_group(GroupIn(name="Porto Makers", timezone="Europe/Lisbon",
                                           sender_name="Porto Makers", reply_to=HOST))
    console.add_organizer(group.group_id, HOST)
    members.add_members(group.group_id, [MemberIn(email=f"m{i}@example.com", name=f"Member {i}") for i in range(3)])
    start = (deps.now() + timedelta(days=4)).replace(hour=12, minute=30, second=0, microsecond=0)
    meetups.create_meetup(group.group_id, MeetupIn(
        title="Makers <lunch> & talk", starts_at=start, ends_at=start + timedelta(hours=2),
        timezone="Europe/Lisbon", venue={"name": "Mercado do Bolhão", "address": "Rua Formosa 322, Porto"},
        capacity=12))
    return group.group_id


def sign_in(page: Any, app_url: str, outbox_dir: Path, seen: set[str]) -> None:
    page.goto(f"{app_url}/console")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the organizer console")
    page.get_by_label("Email").fill(HOST)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    page.goto(signin_link(outbox_dir, app_url, HOST, seen))
    page.get_by_role("button", name="Sign in").click()


def test_sign_in_from_the_eml_link_see_home_and_sign_out(chromium: Any, phone_without_js: Any, app_url: str,
                                                         outbox_dir: Path, artifacts: Path) -> None:
    gid = make_group()
    seen: set[str] = set()

    desk = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = desk.new_page()
    sign_in(page, app_url, outbox_dir, seen)
    expect(page).to_have_url(f"{app_url}/console/{gid}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Porto Makers")
    expect(page.get_by_role("navigation", name="Console")).to_contain_text("Meetups")
    expect(page.locator("table.list").first).to_contain_text("Makers <lunch> & talk")
    expect(page.get_by_role("link", name="Home")).to_have_attribute("aria-current", "page")
    cookie = next(c for c in desk.cookies() if c["name"] == "pl_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.screenshot(path=str(artifacts / "console-home-1280.png"), full_page=True)

    page.get_by_role("button", name="Sign out").click()
    expect(page.locator(".flash")).to_have_text("You are signed out.")
    page.goto(f"{app_url}/console/{gid}")  # the old session is gone: back to sign-in
    expect(page).to_have_url(f"{app_url}/console")
    page.goto(next(iter(seen)))  # the link again: used
    expect(page.get_by_role("heading", level=1)).to_have_text("This link was used; ask for a new one")
    desk.close()

    phone = phone_without_js.new_page()  # 390 px, no JavaScript at all
    sign_in(phone, app_url, outbox_dir, seen)
    expect(phone.get_by_role("heading", level=1)).to_have_text("Porto Makers")
    phone.screenshot(path=str(artifacts / "console-home-390.png"), full_page=True)
    phone.get_by_role("button", name="Sign out").click()
    expect(phone.locator(".flash")).to_have_text("You are signed out.")


def test_the_console_fits_a_phone(phone: Any, app_url: str, outbox_dir: Path, artifacts: Path) -> None:
    gid = make_group()
    members.add_members(gid, [MemberIn(email="maria.fernanda.albuquerque@example.com", name="Maria Albuquerque",
                                       headline="Head of partnerships, climate fintech")])  # a row wider than a phone
    page = phone.new_page()
    sign_in(page, app_url, outbox_dir, set())
    for path in ("", "/delivery", "/organizers", "/members", "/meetups"):
        page.goto(f"{app_url}/console/{gid}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    # the lists of meetups and members stack on a phone, each value under its label: nothing scrolls sideways
    for path, label in (("", "When: "), ("/meetups", "Going: "), ("/members", "Email: ")):
        page.goto(f"{app_url}/console/{gid}{path}")
        frames = page.evaluate("""() => [...document.querySelectorAll('.table-wrap:has(table.stack)')]
            .map(frame => frame.scrollWidth - frame.clientWidth)""")
        assert frames and all(extra <= 0 for extra in frames), (path, frames)
        labels = page.evaluate("""() => [...document.querySelectorAll('table.stack td[data-label]')]
            .map(cell => getComputedStyle(cell, '::before').content)""")
        assert f'"{label}"' in labels, (path, labels[:5])
    page.screenshot(path=str(artifacts / "console-members-390.png"), full_page=True)
    # each member's name opens their page without scrolling
    page.goto(f"{app_url}/console/{gid}/members")
    page.get_by_role("link", name="Member 1", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Member 1")
    page.screenshot(path=str(artifacts / "console-organizers-390.png"), full_page=True)
