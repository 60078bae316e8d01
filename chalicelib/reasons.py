"""How members appear in words: first names, the reasons a pair should meet, partners.

Reasons are stored with `{member_id}` placeholders and get names only when shown, so no
name is stored on a pair and an erased member leaves none behind.
"""

from __future__ import annotations

from typing import Any

from chalicelib.models import LunchPair, Member


def placeholder(member_id: str) -> str:
    return "{" + member_id + "}"


# ---------------------------------------------------------------- what members see


def first_name(member: Member | None) -> str:
    if member is None:
        return "a former member"
    parts = member.name.split()
    return parts[0] if parts else member.name


def in_words(pair: LunchPair, members: dict[str, Member]) -> list[str]:
    out = []
    for reason in pair.reasons:
        for mid in pair.member_ids:
            reason = reason.replace(placeholder(mid), first_name(members.get(mid)))
        out.append(reason)
    return out


def partners(pair: LunchPair, member_id: str, members: dict[str, Member]) -> list[dict[str, Any]]:
    return [{"name": members[o].name if o in members else "A former member",
             "headline": members[o].headline if o in members else None}
            for o in pair.member_ids if o != member_id]


