"""Expired links recover: "email me a fresh link" on the 410 page mails the member the expired
link names a new link to the same page, and nobody else.

The signature is still checked (a tampered link stays 403); only the expiry is waived. Each
click sends one email, at most MAX_PER_DAY a member a day: the day's count and the email's
outbox record are written in one transaction, so a counted link is always a recorded email.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from chalicelib import deps, errors, links
from chalicelib.models import Group
from chalicelib.services import outbox
from chalicelib.tokens import Claims, Purpose

MAX_PER_DAY = 3
COUNT_KEPT = timedelta(days=2)  # the day's count outlives its day, then DynamoDB's TTL drops it
# A lost race is someone else's link counted (or a passing write conflict): after MAX_PER_DAY
# such losses the count reads as limited, so only conflicts that never pass give up (503).
_TRIES = MAX_PER_DAY + 3

Outcome = Literal["sent", "limited", "over", "valid"]


@dataclass(frozen=True)
class FreshLink:
    """What the page after the click says: sent; the day's limit reached; nothing left to
    renew (the meetup is over); or the link still works (`link_url`)."""

    outcome: Outcome
    group_name: str
    link_url: str | None = None

    def context(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "group_name": self.group_name, "link_url": self.link_url,
                "max_per_day": MAX_PER_DAY}


def email_fresh_link(purpose: str, token: str) -> FreshLink:
    """POST from the 410 page: mail the member a fresh link for what `token` opened."""
    if purpose not in links.RENEWABLE:
        raise errors.NotFound("no such page")
    claims, expired = links.read_genuine(purpose, token)  # type: ignore[arg-type]
    store = deps.store()
    group = store.groups.get(claims.group_id)
    member = store.members.get(claims.group_id, claims.member_id) if group else None
    if group is None or member is None:
        raise errors.NotFound("no such member")
    if not expired:
        return FreshLink("valid", group.sender_name, f"{deps.settings().base_url}/{purpose}/{token}")
    made = _fresh(claims, group)
    if made is None:
        return FreshLink("over", group.sender_name)
    url, what, expires_at = made
    now = deps.now()
    day = now.astimezone(UTC).date()
    for _ in range(_TRIES):
        sent = store.members.fresh_links_sent(group.group_id, member.member_id, day)
        if sent >= MAX_PER_DAY:
            return FreshLink("limited", group.sender_name)
        email = outbox.email("fresh_link", f"fresh_link:{member.member_id}:{day.isoformat()}:{sent + 1}",
                             group, member, what=what, link_url=url, expires_at=expires_at,
                             zone=member.timezone or group.timezone)
        action, mail = outbox.record_action(group, member, email)
        if store.members.count_fresh_link(group.group_id, member.member_id, day, seen=sent,
                                          expires_at=now + COUNT_KEPT, mail_action=action):
            outbox.dispatch([mail])
            return FreshLink("sent", group.sender_name)
    raise errors.Unavailable("Too many requests for this link at once; try again in a moment.")


def _fresh(claims: Claims, group: Group) -> tuple[str, str, datetime | None] | None:
    """(url, what it opens, until when) of a new link to the page `claims` named; None when
    that page has nothing left to do (an RSVP link after its meetup and grace are over)."""
    purpose: Purpose = claims.purpose
    g, m = group.group_id, claims.member_id
    if purpose == "rsvp":
        meetup = deps.store().meetups.get(g, claims.resource_id)
        if meetup is None or meetup.ends_at + links.RSVP_GRACE <= deps.now():
            return None
        return (links.rsvp_url(g, meetup.meetup_id, m, meetup.ends_at), f"your RSVP page for {meetup.title}",
                meetup.ends_at + links.RSVP_GRACE)
    if purpose == "pairing":
        return (links.pairing_url(g, claims.resource_id, m), "your lunch pairing",
                deps.now() + links.PAIRING_LIFETIME)
    if purpose == "lunch":
        return links.lunch_url(g, m), "your lunch preferences", deps.now() + links.LUNCH_LIFETIME
    if purpose == "settings":
        return links.settings_url(g, m), "your email settings", None
    raise errors.NotFound("no such page")


