"""Erasing a member (GDPR): the one use case that reaches into members, pairing and the outbox.

It lives above them so services depend one way: members no longer imports pairing, which
imports lunch, which (through invitations) needed members.
"""

from __future__ import annotations

from chalicelib import deps, errors
from chalicelib.services import followups, intros, meetup_people, members, outbox, pairing


def erase_member(group_id: str, member_id: str) -> None:
    """Erase the person's personal data everywhere: their lunch answers and the pairing
    reasons quoting them, the mail recorded for them, then the member item and email guard.
    RSVPs and pairs keep only the bare member id: an anonymous stub once the member is gone."""
    member = members.get_member(group_id, member_id)  # 404 before touching anything
    followups.forget_member(group_id, member_id)  # reads the lunch record pairing then deletes
    pairing.forget_member(group_id, member_id)
    intros.forget_member(group_id, member_id)  # their introductions, made or received
    meetup_people.forget_member(group_id, member_id)  # who was suggested to them at meetups, whom they met
    outbox.erase_member(group_id, member_id)
    outbox.erase_address(group_id, member.email)  # mail to their address before they joined
    deps.store().public.erase_signups(group_id, member.email)
    if deps.store().members.delete(group_id, member_id) is None:
        raise errors.NotFound("no such member in this group", field="member_id")
