"""Email settings and an expired link's recovery in Chromium at 390 px (issue 12, parts 3, 4):
the settings link from an email's footer, a pause saved through the date field, and the 410
page's "email me a fresh link" button under the pages' CSP, whose email's link then works."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from chalicelib import deps, links
from chalicelib.models import LunchPrefsPatch, MemberPatch
from chalicelib.services import members


def _text(path: Path) -> str:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    return str(message.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]


def _fits(page: Any) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], width


def test_settings_from_the_footer_and_a_fresh_link_for_an_expired_one(phone: Any, scene_factory: Any,
                                                                      artifacts: Path) -> None:
    scene = scene_factory(capacity=5, people=1)
    member = scene.members[0]
    members.update_member(scene.group.group_id, member.member_id,
                          MemberPatch(lunch=LunchPrefsPatch(opted_in=True, city="Porto")))
    invitation = next(scene.outbox_dir.glob("*-rsvp_invite-*.eml"))
    footer = re.search(re.escape(scene.base) + r"/settings/[A-Za-z0-9_.\-]+", _text(invitation))
    assert footer, _text(invitation)

    page = phone.new_page()
    page.goto(footer.group(0))
    _fits(page)
    page.get_by_label("Meetup emails", exact=False)  # the fieldset's controls are labelled
    page.check("input[name=lunch][value=paused]")
    back = (deps.now() + timedelta(days=20)).date().isoformat()
    page.get_by_label("Back in the rounds from").fill(back)
    page.check("input[name=meetups][value=off]")
    page.get_by_role("button", name="Save settings").click()
    assert "Saved" in page.content()
    page.screenshot(path=str(artifacts / "settings-390.png"), full_page=True)
    saved = members.get_member(scene.group.group_id, member.member_id)
    assert saved.lunch.paused_until == back and saved.meetup_mail is False

    expired = links.signer().make("lunch", group_id=scene.group.group_id, member_id=member.member_id,
                                  resource_id=scene.group.group_id, expires_at=deps.now() - timedelta(days=1))
    page.goto(f"{scene.base}/lunch/{expired}")
    assert "This link has expired" in page.content()
    _fits(page)
    page.screenshot(path=str(artifacts / "expired-390.png"), full_page=True)
    page.get_by_role("button", name="Email me a fresh link").click()
    assert "We've emailed you a fresh link" in page.content()
    fresh = list(scene.outbox_dir.glob("*-fresh_link-*.eml"))
    assert len(fresh) == 1
    link = re.search(re.escape(scene.base) + r"/lunch/[A-Za-z0-9_.\-]+", _text(fresh[0]))
    assert link, _text(fresh[0])
    page.goto(link.group(0))
    assert "Lunch pairing" in page.content() and "This link has expired" not in page.content()
