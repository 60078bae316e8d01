"""Every member page fits a phone: nothing scrolls sideways at 390 px, every control has a label."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chalicelib import links
from chalicelib.models import LunchPrefsPatch, MeetupPatch, MemberPatch
from chalicelib.services import meetups, members


def _pages(scene: Any) -> dict[str, str]:
    group_id, member = scene.group.group_id, scene.members[0]
    members.update_member(group_id, member.member_id, MemberPatch(lunch=LunchPrefsPatch(
        opted_in=True, city="Porto", interests=["climate", "design"], availability=["tue-lunch", "thu-coffee"])))
    # The app_url fixture points BASE_URL at the test server, so links lead there.
    return {
        "rsvp": scene.link(0),
        "lunch": links.lunch_url(group_id, member.member_id),
        "unsubscribe": links.unsubscribe_url(group_id, member.member_id),
        "forbidden": scene.link(1)[:-2] + "xx",
        # the public pages (issue 12): join, my links, the meetup's page once made public
        "join": f"{scene.base}/join/{group_id}",
        "links": f"{scene.base}/links/{group_id}",
        "event": f"{scene.base}/events/{group_id}/"
                 + meetups.update_meetup(group_id, scene.meetup.meetup_id, MeetupPatch(visibility="public")).meetup_id,
    }


def test_member_pages_fit_a_phone_and_label_every_control(phone: Any, scene_factory: Any, artifacts: Path) -> None:
    scene = scene_factory(capacity=5, people=2)
    page = phone.new_page()
    for name, url in _pages(scene).items():
        page.goto(url)
        width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert width[0] <= width[1], (name, width)
        unlabeled = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map(el => el.name)""")
        assert unlabeled == [], (name, unlabeled)
        page.screenshot(path=str(artifacts / f"{name}-390.png"), full_page=True)
