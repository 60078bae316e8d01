"""The organizer console's whole flow in Chromium, as issue 13 asks, from sign-in to sign-out:
ask for a link and open it from the .eml; create a meetup through the form, invite everyone and
watch the job finish; check someone in; cancel with a reason (the email carries it); review a
lunch round: swap two members, approve, and the intros go to the swapped pairs; once the pairs
confirm, the network page's SVG has one node per member who met someone. Each page at 1280 px,
and again at 390 px (fitting the phone); screenshots in test-artifacts/.

The pages are helpers B (meetups), C (rounds, review) and D (insights)'s; this test only drives
them through their own labels."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from chalicelib import deps
from chalicelib.models import GroupIn, LunchPrefsPatch, LunchProgramIn, MemberIn, RsvpAnswer
from chalicelib.services import console, groups, lunch, members, rsvp
from chalicelib.tokens import Claims
from tests.browser.conftest import PHONE
from tests.browser.test_console_flow import HOST, sign_in

PEOPLE = [("Ana Silva", "ana@example.com"), ("Ben Okafor", "ben@example.com"),
          ("Carla Mendes", "carla@example.com"), ("Diego Rocha", "diego@example.com")]


def mails(outbox_dir: Path, kind: str) -> list[Any]:
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in sorted(outbox_dir.glob(f"*-{kind}-*.eml"))]


def text_of(message: Any) -> str:
    return str(message.get_body(preferencelist=("plain",)).get_content())


def make_group() -> str:
    group, _ = groups.create_group(GroupIn(name="Braga Builders", timezone="Europe/Lisbon",
                                           sender_name="Braga Builders", reply_to=HOST))
    gid = group.group_id
    console.add_organizer(gid, HOST)
    members.add_members(gid, [MemberIn(email=address, name=name, headline="Builder", lunch=LunchPrefsPatch(
        opted_in=True, city="Braga", interests=["climate"], availability=["tue-lunch", "thu-lunch"]))
        for name, address in PEOPLE])
    lunch.put_program(gid, LunchProgramIn(odd_rule="sit_out", review=True))
    return gid


def pairs_in(page: Any) -> list[list[str]]:
    """The planned pairs on the review page, as the names it shows."""
    return [sorted(strong.split(" · ")) for strong in page.locator(".card > p > strong").all_inner_texts()]


def test_the_whole_console_flow_from_sign_in_to_sign_out(chromium: Any, app_url: str, outbox_dir: Path,
                                                         artifacts: Path) -> None:
    gid = make_group()
    desk = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = desk.new_page()
    phone = chromium.new_context(viewport=PHONE)
    look = phone.new_page()

    def shoot(name: str) -> None:
        page.screenshot(path=str(artifacts / f"console-flow-{name}-1280.png"), full_page=True)
        phone.add_cookies(desk.cookies())
        look.goto(page.url)
        width = look.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert width[0] <= width[1], (name, width)
        look.screenshot(path=str(artifacts / f"console-flow-{name}-390.png"), full_page=True)

    # sign in from the .eml link
    sign_in(page, app_url, outbox_dir, set())
    expect(page.get_by_role("heading", level=1)).to_have_text("Braga Builders")
    shoot("home")

    # a meetup through the form, everyone invited, the job followed to the end
    page.get_by_role("link", name="Meetups", exact=True).click()
    page.get_by_text("New meetup").click()
    page.get_by_label("Title").fill("Builders' evening")
    page.get_by_label("Starts").fill("2027-01-14T19:00")
    page.get_by_label("Ends").fill("2027-01-14T21:00")
    page.get_by_label("Venue").fill("Gnration")
    page.get_by_label("Address").fill("Praça Conde de Agrolongo 123, Braga")
    page.get_by_label("Seats").fill("10")
    page.get_by_role("button", name="Create meetup").click()
    expect(page.locator(".flash")).to_have_text("Meetup created.")
    meetup_id = page.url.split("/meetups/")[1].split("?")[0]
    shoot("meetup")
    page.get_by_role("link", name="People").click()
    page.get_by_role("button", name="Invite every member").click()
    expect(page.locator("p.status")).to_have_text("Done: every invitation was handled.")
    expect(page.locator("dl.facts")).to_contain_text(f"Sent{len(PEOPLE)}")
    assert len(mails(outbox_dir, "rsvp_invite")) == len(PEOPLE)
    shoot("job")

    # Ana says she's going (from her invitation, as a member would); the organizer checks her in
    meetup = deps.store().meetups.require(gid, meetup_id)
    ana = next(m for m in deps.store().members.all(gid) if m.email == "ana@example.com")
    rsvp.answer(Claims(purpose="rsvp", group_id=gid, member_id=ana.member_id, resource_id=meetup_id,
                       expires_at=meetup.ends_at), RsvpAnswer(status="going"))
    page.goto(f"{app_url}/console/{gid}/meetups/{meetup_id}/people?status=going")
    page.get_by_role("button", name="Check in Ana Silva").click()
    expect(page.locator(".flash")).to_have_text("Checked in.")
    shoot("people")

    # cancel with a reason: the cancellation email carries it
    page.goto(f"{app_url}/console/{gid}/meetups/{meetup_id}")
    page.get_by_label("Reason").fill("The hall flooded; we'll be back next month.")
    page.get_by_role("button", name="Cancel this meetup").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancelled: Builders' evening")
    cancelled = mails(outbox_dir, "meetup_cancelled")
    assert cancelled and all("The hall flooded" in text_of(m) for m in cancelled)

    # a round held for review: swap two members of different pairs, approve
    page.get_by_role("link", name="Rounds", exact=True).click()
    page.get_by_role("button", name="Run a round now").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Review the round of")
    assert mails(outbox_dir, "lunch_intro") == []  # nothing goes out before approval
    before = pairs_in(page)
    assert len(before) == 2, before
    a, b = before[0][0], before[1][0]
    page.get_by_label("Member", exact=True).select_option(label=a)
    page.get_by_label("Swap with").select_option(label=b)
    page.get_by_role("button", name="Swap", exact=True).click()
    expect(page.locator("table.list")).to_contain_text(f"Swapped {a} and {b}")
    after = pairs_in(page)
    expected = sorted([sorted([b, before[0][1]]), sorted([a, before[1][1]])])
    assert sorted(after) == expected, (before, after)
    shoot("review")
    page.get_by_role("button", name="Approve and send the introductions").click()
    intros = mails(outbox_dir, "lunch_intro")
    assert len(intros) == len(PEOPLE)
    address = dict(PEOPLE)
    for one, other in expected:  # each intro names the partner after the swap
        for me, partner in ((one, other), (other, one)):
            [intro] = [m for m in intros if address[me] in str(m["To"])]
            assert partner.split()[0] in text_of(intro), (me, partner)

    # everyone confirms from their intro (as members would): the lunches count as met
    for intro in intros:
        link = re.search(re.escape(app_url) + r"(/pairing/[A-Za-z0-9_.\-]+)", text_of(intro))
        assert link
        answer = page.request.post(app_url + link.group(1), form={"action": "confirm"})
        assert answer.status == 200
    page.get_by_role("link", name="Insights", exact=True).click()
    expect(page.get_by_role("heading", level=2, name="The relationship network")).to_be_visible()
    assert page.locator("svg.network circle").count() == len(PEOPLE)  # one node per member who met someone
    shoot("insights")

    page.get_by_role("button", name="Sign out").click()
    expect(page.locator(".flash")).to_have_text("You are signed out.")
    page.goto(f"{app_url}/console/{gid}/insights")
    expect(page).to_have_url(f"{app_url}/console")
    desk.close()
    phone.close()
