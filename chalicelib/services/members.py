"""Members of a group: add (one or up to 500), list, read, change (erasure: `erasure.py`)."""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib import deps, errors, ids
from chalicelib.models import LunchPrefs, Member, MemberIn, MemberPatch, MemberSource


def add_members(group_id: str, incoming: list[MemberIn], *,
                source: MemberSource = "api") -> tuple[list[Member], list[Member]]:
    """Create the members whose email is new to the group; answer (created, existed). `source`
    says how they came (the organizer's API, or the public join page)."""
    now = deps.now()
    members = [
        Member(member_id=ids.new_id("mem"), group_id=group_id, email=m.email, name=m.name,
               headline=m.headline, timezone=m.timezone, source=source,
               lunch=LunchPrefs().merged(m.lunch) if m.lunch else LunchPrefs(),
               created_at=now, updated_at=now)
        for m in incoming
    ]
    return deps.store().members.create_many(group_id, members)


def recipients(group_id: str, member_ids: Sequence[str]) -> list[Member]:
    """The members an invitation names, each once, in the order given; an id not in the group
    is a 400 naming `member_ids`. ("Everyone" is a job's pages: services/jobs.py.)"""
    store = deps.store()
    found = {m.member_id: m for m in store.members.get_many(group_id, list(member_ids))}
    missing = [mid for mid in dict.fromkeys(member_ids) if mid not in found]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise errors.InvalidInput(f"not members of this group: {shown}", field="member_ids")
    return [found[mid] for mid in dict.fromkeys(member_ids)]


def list_members(group_id: str, limit: int, cursor: str | None) -> tuple[list[Member], str | None]:
    return deps.store().members.page(group_id, limit=limit, cursor=cursor)


def search_members(group_id: str, text: str, *, limit: int = 50) -> list[Member]:
    """Members whose name, a later word of it, or email starts with `text` (Queries on the
    members' search terms, never a Scan)."""
    return deps.store().members.search(group_id, text[:200], limit=limit)


def index_search(group_ids: Sequence[str]) -> int:
    """Give the members of these groups their search terms (members stored before search
    existed); answers how many members were indexed. Idempotent: run it again at will."""
    store = deps.store()
    indexed = 0
    for group_id in group_ids:
        for member in store.members.all(group_id):
            current: Member | None = member
            for _ in range(3):  # a member changing meanwhile is read again
                if current is None or store.members.index_search(current):
                    break
                current = store.members.get(group_id, member.member_id)
            else:
                raise errors.Unavailable(f"member {member.member_id} kept changing; run it again")
            indexed += current is not None
    return indexed


def find_by_email(group_id: str, email: str) -> Member | None:
    """The member with this address (already lower-cased), or None: two GetItems."""
    return deps.store().members.by_email(group_id, email)


def get_member(group_id: str, member_id: str) -> Member:
    return deps.store().members.require(group_id, member_id)


def update_member(group_id: str, member_id: str, patch: MemberPatch) -> Member:
    changes = patch.model_dump(exclude_unset=True, exclude={"lunch"})
    for required in ("name", "headline", "subscribed"):
        if required in changes and changes[required] is None:
            raise errors.InvalidInput("cannot be null", field=required)
    now = deps.now()

    def edit(member: Member) -> Member:
        if changes.get("subscribed") is True:
            _refuse_resubscribe(member)
        updated = member.model_copy(update=changes)
        if patch.lunch is not None:
            updated = updated.model_copy(update={"lunch": member.lunch.merged(patch.lunch)})
        if member.subscribed and not updated.subscribed:
            updated = updated.model_copy(update={"unsubscribed_at": now})
        if updated != member:
            updated = updated.model_copy(update={"updated_at": now})
        return updated

    return deps.store().members.change(group_id, member_id, edit)


def _refuse_resubscribe(member: Member) -> None:
    """Consent is the member's own: the organizer cannot subscribe again someone who marked our
    mail as spam or unsubscribed (they can, from their email settings or the join page)."""
    if member.complained:
        raise errors.Conflict("This member marked our email as spam, so they get no more email from "
                              "us; the organizer cannot subscribe them again.", field="subscribed")
    if not member.subscribed:
        raise errors.Conflict("This member unsubscribed. Only they can subscribe again, from the email "
                              "settings link in any of our emails or the group's join page.", field="subscribed")
