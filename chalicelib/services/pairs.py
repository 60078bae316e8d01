"""One pairing after its intro: the pairing page, what members answer on it.

GET shows and never changes anything (mail scanners open links); POST acts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib import deps, errors, links, reasons
from chalicelib.models import Group, LunchPair, Member, PairFeedbackIn
from chalicelib.tokens import Claims

FEEDBACK_OPENS_AFTER = timedelta(days=2)


@dataclass(frozen=True)
class PairingView:
    group: Group
    member: Member
    pair: LunchPair
    members: dict[str, Member]

    def context(self, now: datetime) -> dict[str, Any]:
        me = self.member.member_id
        response = self.pair.responses.get(me, "pending")
        feedback = self.pair.feedback.get(me)
        return {
            "group_name": self.group.sender_name, "member_name": self.member.name,
            "partners": reasons.partners(self.pair, me, self.members),
            "reasons": reasons.in_words(self.pair, self.members),
            "suggested_slot": self.pair.slot, "response": response,
            "blocked": me in self.pair.blocked_by,
            "feedback_open": response == "confirmed" or feedback is not None
            or now >= self.pair.created_at + FEEDBACK_OPENS_AFTER,
            "feedback": ({"met": feedback.met, "rating": feedback.rating, "note": feedback.note}
                         if feedback else None),
        }


def _view(claims: Claims, pair: LunchPair | None = None) -> PairingView:
    store = deps.store()
    group = store.groups.get(claims.group_id)
    pair = pair or store.lunch.get_pair(claims.group_id, claims.resource_id)
    if group is None or pair is None or claims.member_id not in pair.member_ids:
        raise errors.NotFound("no such pairing")
    members = {m.member_id: m for m in store.members.get_many(group.group_id, pair.member_ids)}
    if claims.member_id not in members:
        raise errors.NotFound("no such member")
    return PairingView(group, members[claims.member_id], pair, members)


def show_pairing(token: str) -> PairingView:
    """GET: what the pairing page shows; changes nothing."""
    return _view(links.read("pairing", token))


def answer_pairing(token: str, action: str, feedback: PairFeedbackIn | None = None) -> PairingView:
    """POST: confirm, decline, block or give feedback; the same answer twice changes nothing."""
    claims = links.read("pairing", token)
    view = _view(claims)
    store, me = deps.store().lunch, claims.member_id
    if action in ("confirm", "decline"):
        wanted = "confirmed" if action == "confirm" else "declined"
        if view.pair.responses.get(me) == wanted or me in view.pair.blocked_by:
            return view
        pair = store.respond(claims.group_id, view.pair.pair_id, me, wanted)
    elif action == "block":
        others = [m for m in view.pair.member_ids if m != me]
        pair = store.block(claims.group_id, view.pair.pair_id, me, others)
    elif action == "feedback":
        if feedback is None:
            raise errors.InvalidInput("say whether you met", field="met")
        pair = store.give_feedback(claims.group_id, view.pair.pair_id, me, feedback, deps.now())
    else:
        raise errors.InvalidInput("must be confirm, decline, block or feedback", field="action")
    return _view(claims, pair)


