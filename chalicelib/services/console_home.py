"""The console's home page: what is coming up and what needs the organizer's attention."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib import deps
from chalicelib.models import Group, Meetup

NEXT_MEETUPS = 5


@dataclass(frozen=True)
class Home:
    group: Group
    meetups: list[Meetup]

    def context(self) -> dict[str, Any]:
        return {"meetups": self.meetups, "timezone": self.group.timezone}


def home(group: Group) -> Home:
    """The next meetups (one Query of the group's meetups by end time)."""
    meetups, _ = deps.store().meetups.page(group.group_id, upcoming=True, now=deps.now(), limit=NEXT_MEETUPS,
                                           cursor=None)
    return Home(group=group, meetups=meetups)
