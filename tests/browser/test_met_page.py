""""Did you meet them?" after a meetup (/met/{token}) in Chromium, at 390 px and at 1280 px:
the email's button leads with that one person, nothing scrolls sideways, and the page's button
records the yes and offers the introduce page, which lists them on a phone one name a line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from chalicelib import deps, links
from chalicelib.models import MemberPatch
from chalicelib.services import members


def _fits(page: Any) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], width


def test_the_met_page_asks_about_one_person_and_records_the_yes(
        phone: Any, chromium: Any, scene_factory: Any, artifacts: Path) -> None:
    scene = scene_factory(capacity=None, people=3)
    gid, meetup = scene.group.group_id, scene.meetup
    me, ana, ben = scene.members
    deps.store().meetup_people.record(gid, meetup.meetup_id, {me.member_id: [ana.member_id, ben.member_id]},
                                      {me.member_id: "test"}, meetup.ends_at + timedelta(days=1))
    url = links.met_url(gid, meetup.meetup_id, me.member_id, who=ana.member_id)

    desk = chromium.new_context(viewport={"width": 1280, "height": 800})
    try:
        wide = desk.new_page()
        wide.goto(url)
        _fits(wide)
        wide.screenshot(path=str(artifacts / "met-1280.png"), full_page=True)
    finally:
        desk.close()

    page = phone.new_page()
    page.goto(url)
    _fits(page)
    assert page.locator("h1").inner_text() == f"Did you meet {ana.name} at {meetup.title}?"
    assert page.locator("button").all_inner_texts() == [f"Yes, I met {ana.name}", f"Yes, I met {ben.name}"]
    assert "Introduce them" not in page.content()  # nobody met yet: nobody to introduce
    page.screenshot(path=str(artifacts / "met-390.png"), full_page=True)

    page.get_by_role("button", name=f"Yes, I met {ana.name}").click()
    _fits(page)
    body = page.locator("body").inner_text()
    assert f"You met {ana.name}." in body and f"You met {ben.name}." not in body
    assert page.locator("button").all_inner_texts() == [f"Yes, I met {ben.name}"]
    introduce = str(page.get_by_role("link", name="Introduce them").get_attribute("href"))
    assert introduce.startswith(f"{scene.base}/introduce/")
    assert links.read("introduce", introduce.rsplit("/", 1)[1]).member_id == me.member_id
    page.screenshot(path=str(artifacts / "met-390-answered.png"), full_page=True)

    # Both met: the introduce page lists them, each name whole on its line and a long headline after it
    page.get_by_role("button", name=f"Yes, I met {ben.name}").click()
    members.update_member(gid, ana.member_id, MemberPatch(headline="Founder at a fintech, seed stage, raising a first round"))
    page.goto(introduce)
    _fits(page)
    lines = page.evaluate("""() => [...document.querySelectorAll('label.choice')].map(label => {
        const walk = document.createTreeWalker(label, NodeFilter.SHOW_TEXT);
        let name = walk.nextNode();
        while (name && !name.textContent.trim()) name = walk.nextNode();  // the first words: the name
        const range = document.createRange();
        range.selectNodeContents(name);
        return [label.innerText.trim(), range.getClientRects().length];
    })""")
    assert [(text.split(" · ")[0], rects) for text, rects in lines] == [(ana.name, 1), (ben.name, 1)]
    page.screenshot(path=str(artifacts / "introduce-390.png"), full_page=True)
