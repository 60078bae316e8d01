"""A member's RSVP page in Chromium: open the emailed link on a phone, answer, see the result."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

GOING = re.compile(r"^Going")  # "Going", or "Going (you'll join the waitlist)" when full


def test_a_member_answers_going_on_a_phone_and_sees_status_and_seats(
        phone: Any, scene_factory: Any, artifacts: Path) -> None:
    scene = scene_factory(capacity=3, guests_allowed=1)
    page = phone.new_page()
    page.goto(scene.link(0))
    expect(page.get_by_role("heading", level=1)).to_have_text("Makers <lunch> & talk")
    expect(page.locator("dl.facts")).to_contain_text("Mercado do Bolhão, Rua Formosa 322, Porto")
    expect(page.locator("dl.facts")).to_contain_text("(UTC+00:00)")
    expect(page.locator("dl.facts")).to_contain_text("3 left")
    expect(page.locator(".status")).to_contain_text("Hi Guest, will you join us?")

    page.get_by_role("radio", name=GOING).check()
    page.get_by_label("Guests you're bringing").select_option("1")
    page.get_by_role("button", name="Save my answer").click()

    expect(page.locator(".flash")).to_contain_text("You're going")
    expect(page.locator(".status")).to_contain_text("you're going with 1 guest")
    expect(page.locator("dl.facts")).to_contain_text("1 left")
    expect(page.get_by_role("radio", name=GOING)).to_be_checked()
    calendar = page.get_by_role("link", name="Add to calendar")
    expect(calendar).to_have_attribute("href", scene.link(0) + "/meetup.ics")
    # Laid out for a phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / "rsvp-going-390x844.png"), full_page=True)

    response = page.request.get(scene.link(0) + "/meetup.ics")
    assert response.status == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert b"METHOD:PUBLISH" in response.body()


def test_a_full_meetup_puts_the_member_on_the_waitlist(phone: Any, scene_factory: Any) -> None:
    scene = scene_factory(capacity=1, guests_allowed=0)
    first, second = phone.new_page(), phone.new_page()
    first.goto(scene.link(0))
    expect(first.get_by_label("Guests you're bringing")).to_have_count(0)
    first.get_by_role("radio", name=GOING).check()
    first.get_by_role("button", name="Save my answer").click()
    expect(first.locator(".status")).to_contain_text("you're going")

    second.goto(scene.link(1))
    expect(second.locator("dl.facts")).to_contain_text("Full, waitlist open")
    expect(second.locator("form")).to_contain_text("you'll join the waitlist")
    second.get_by_role("radio", name=GOING).check()
    second.get_by_role("button", name="Save my answer").click()
    expect(second.locator(".status")).to_contain_text("you're on the waitlist")

    first.get_by_role("radio", name="Not going").check()
    first.get_by_role("button", name="Save my answer").click()
    expect(first.locator(".status")).to_contain_text("you said you can't make it")
    second.reload()
    expect(second.locator(".status")).to_contain_text("you're going")


def test_a_tampered_link_gets_a_clear_403_page(phone: Any, scene_factory: Any) -> None:
    scene = scene_factory()
    link = scene.link(0)
    tampered = link[:-4] + ("AAAA" if not link.endswith("AAAA") else "BBBB")
    page = phone.new_page()
    response = page.goto(tampered)
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("This link doesn't work")
    expect(page.locator("form")).to_have_count(0)


def test_the_whole_flow_works_without_javascript(phone_without_js: Any, scene_factory: Any) -> None:
    scene = scene_factory(capacity=2, guests_allowed=1)
    page = phone_without_js.new_page()
    page.goto(scene.link(2) + "?answer=going")
    expect(page.get_by_role("radio", name=GOING)).to_be_checked()
    page.get_by_label("Guests you're bringing").select_option("1")
    page.get_by_role("button", name="Save my answer").click()
    expect(page.locator(".status")).to_contain_text("you're going with 1 guest")
    expect(page.locator("dl.facts")).to_contain_text("Full")
    page.get_by_role("radio", name="Not going").check()
    page.get_by_role("button", name="Save my answer").click()
    expect(page.locator(".status")).to_contain_text("you said you can't make it")
    expect(page.locator("dl.facts")).to_contain_text("2 left")
