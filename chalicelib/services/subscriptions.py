"""Unsubscribe: a member stops all email from one group."""

from __future__ import annotations

from chalicelib import deps, links
from chalicelib.models import Group, Member


def from_link(token: str) -> tuple[Group, Member | None]:
    """The group and member an unsubscribe link names (member None once erased)."""
    claims = links.read("unsubscribe", token)
    store = deps.store()
    group = store.groups.require(claims.group_id)
    return group, store.members.get(claims.group_id, claims.member_id)


def unsubscribe(token: str) -> tuple[Group, Member | None]:
    """Stop all mail to the member from this group (idempotent)."""
    group, member = from_link(token)
    if member is None or not member.subscribed:
        return group, member
    now = deps.now()
    updated = deps.store().members.change(
        group.group_id, member.member_id,
        lambda m: m.model_copy(update={"subscribed": False, "unsubscribed_at": now, "updated_at": now}))
    return group, updated
