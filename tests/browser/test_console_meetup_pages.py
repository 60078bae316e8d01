"""The console's meetup, people and member pages in Chromium at 390 px with JavaScript off:
create a meetup through the form, invite everyone and see the job done, check someone in,
cancel with a reason (the email carries it), import a CSV file and search members. Every page
fits the phone and labels every control. Screenshots go to test-artifacts/."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from chalicelib import deps
from chalicelib.models import RsvpAnswer
from chalicelib.services import rsvp
from chalicelib.tokens import Claims
from tests.browser.test_console_flow import make_group, sign_in


def fits_and_labels(page: Any, name: str, artifacts: Path) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], (name, width)
    unlabeled = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map(el => el.name)""")
    assert unlabeled == [], (name, unlabeled)
    page.screenshot(path=str(artifacts / f"console-{name}-390.png"), full_page=True)


def test_meetup_people_and_member_pages_on_a_phone_without_javascript(
        chromium: Any, app_url: str, outbox_dir: Path, artifacts: Path) -> None:
    from tests.browser.conftest import PHONE

    gid = make_group()
    context = chromium.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    sign_in(page, app_url, outbox_dir, set())
    # JavaScript off: the page's own checks run with a second context that may evaluate.
    checker = chromium.new_context(viewport=PHONE)
    checker.add_cookies(context.cookies())
    look = checker.new_page()

    def check(name: str) -> None:
        look.goto(page.url)
        fits_and_labels(look, name, artifacts)

    page.goto(f"{app_url}/console/{gid}/meetups")
    check("meetups")
    page.get_by_text("New meetup").click()  # <details>: opens without script
    page.get_by_label("Title").fill("Builders' evening")
    page.get_by_label("Starts").fill("2027-01-14T19:00")
    page.get_by_label("Ends").fill("2027-01-14T21:00")
    page.get_by_label("Venue").fill("Maus Hábitos")
    page.get_by_label("Address").fill("Rua Passos Manuel 178, Porto")
    page.get_by_label("Seats").fill("3")
    page.get_by_role("button", name="Create meetup").click()
    expect(page.locator(".flash")).to_have_text("Meetup created.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Builders' evening")
    expect(page.locator("dl.facts")).to_contain_text("Thursday 14 January 2027, 19:00–21:00")
    check("meetup")
    meetup_id = page.url.split("/meetups/")[1].split("?")[0]

    expect(page.get_by_role("link", name="Meetups", exact=True)).to_have_attribute("aria-current", "page")
    page.get_by_role("link", name="People").click()
    page.get_by_role("button", name="Invite every member").click()
    expect(page.locator("p.status")).to_have_text("Done: every invitation was handled.")
    expect(page.locator("dl.facts")).to_contain_text("Sent3")
    check("job")

    meetup = deps.store().meetups.require(gid, meetup_id)
    member = sorted(deps.store().members.all(gid), key=lambda m: m.email)[0]
    rsvp.answer(Claims(purpose="rsvp", group_id=gid, member_id=member.member_id, resource_id=meetup_id,
                       expires_at=meetup.ends_at), RsvpAnswer(status="going"))
    page.goto(f"{app_url}/console/{gid}/meetups/{meetup_id}/people?status=going")
    page.get_by_role("button", name=f"Check in {member.name}").click()
    expect(page.locator(".flash")).to_have_text("Checked in.")
    expect(page.get_by_role("button", name=f"Check in {member.name}")).to_have_count(0)
    check("people")

    page.goto(f"{app_url}/console/{gid}/meetups/{meetup_id}")
    page.get_by_label("Reason").fill("The venue double-booked us; see you on the 21st.")
    page.get_by_role("button", name="Cancel this meetup").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancelled: Builders' evening")
    [cancelled] = sorted(outbox_dir.glob("*-meetup_cancelled-*.eml"))
    message = email.message_from_bytes(cancelled.read_bytes(), policy=email.policy.default)
    assert "see you on the 21st" in message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]

    page.goto(f"{app_url}/console/{gid}/members/import")
    check("members-import")
    page.get_by_label("CSV file").set_input_files(files=[{
        "name": "people.csv", "mimeType": "text/csv",
        "buffer": b"name,email\nAna Silva,ana@example.com\nNo Address,\nBo Li,bo@example.com\n"}])
    page.get_by_role("button", name="Import").click()
    expect(page.locator(".card[role=status]")).to_contain_text("2 new members added.")
    expect(page.locator("table.list")).to_contain_text("3email")
    page.screenshot(path=str(artifacts / "console-members-import-report-390.png"), full_page=True)

    page.goto(f"{app_url}/console/{gid}/members")
    page.get_by_label("Find a member").fill("silv")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("table.list")).to_contain_text("Ana Silva")
    expect(page.locator("table.list")).not_to_contain_text("Bo Li")
    check("members-search")
    page.get_by_role("link", name="Edit Ana Silva").click()
    expect(page.get_by_role("link", name="Members", exact=True)).to_have_attribute("aria-current", "page")
    check("member-edit")
    page.get_by_role("link", name="Erase Ana Silva…").click()
    page.get_by_label("Type their email address to confirm").fill("ana@example.com")
    page.get_by_role("button", name="Erase for good").click()
    expect(page.locator(".flash")).to_contain_text("The member is erased")
    checker.close()
    context.close()
