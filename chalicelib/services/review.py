"""Review before sending: a round of a programme with `review` on waits for an organizer.

planned -> review (held by the pairing worker, services/pairing.py `_hold`: the organizer is
emailed `round_review`) -> approved: planned again,
and the pairing worker finishes it as any round (records, intros through the outbox, done);
or, 48 hours on, expired: its planned pairs are deleted, nothing is sent, the organizer is
told (`round_expired`). While in review the organizer may swap two members between pairs (or
a paired member with one sitting out) or take a pair out (its members sit out, first in line
next round); each edit is one transaction guarded by the round's status, time and version,
and is logged on the round with the score of the pairs before and after.

Every step can be rerun: holding, approving and expiring are conditional updates on the
round's status; mail has a dedupe key per round; the expiry's index entry is removed last.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from chalicelib import deps, errors, workers
from chalicelib.models import LunchPair, LunchRound, LunchRoundEditIn, RoundEdit
from chalicelib.services import pairing

log = logging.getLogger(__name__)


def rounds_url(group_id: str) -> str:
    return f"{deps.settings().base_url}/console/{group_id}/rounds"


def _date(lunch_round: LunchRound) -> str:
    day = datetime.fromisoformat(lunch_round.local_date)
    return f"{day:%A} {day.day} {day:%B %Y}"


# ---------------------------------------------------------------- edits


def _editable(lunch_round: LunchRound, version: int | None, now: datetime) -> None:
    if lunch_round.status != "review":
        raise errors.Conflict(f"this round is {_status_words(lunch_round)}: only a round in review can be "
                              "changed", field="round_id")
    if lunch_round.review_until is not None and now >= lunch_round.review_until:
        raise errors.Conflict("the review time of this round is over: it expires, and nothing is sent",
                              field="round_id")
    if version is not None and version != lunch_round.version:
        raise errors.StaleWrite(f"the round was changed since you saw it (version {version}, now "
                                f"{lunch_round.version}): load it again", field="version")


def _status_words(lunch_round: LunchRound) -> str:
    if lunch_round.status == "expired":
        return "expired (not approved in time, nothing was sent)"
    if lunch_round.status == "done":
        return "sent already"
    if lunch_round.status == "planned" and lunch_round.approved_at is not None:
        return "approved and being sent"
    return "not held for review" if not lunch_round.review else "still being planned"


def edit(group_id: str, round_id: str, change: LunchRoundEditIn) -> dict[str, Any]:
    """Apply one edit to a round in review; answers the round (as round_detail) with `edit`:
    what changed and the score of the touched pairs before and after."""
    store = deps.store()
    now = deps.now()
    lunch_round = store.lunch.require_round(group_id, round_id)
    _editable(lunch_round, change.version, now)
    pairs = store.lunch.pairs_of_round(group_id, round_id)
    if change.remove_pair is not None:
        drop = [p for p in pairs if p.pair_id == change.remove_pair]
        if not drop:
            raise errors.InvalidInput("is not a pair of this round", field="remove_pair")
        add: list[LunchPair] = []
        sat_out = [*lunch_round.sat_out, *(m for m in drop[0].member_ids if m not in lunch_round.sat_out)]
        record = RoundEdit(kind="remove_pair", member_ids=drop[0].member_ids, score_before=drop[0].score,
                           score_after=0.0, at=now)
    else:
        assert change.swap is not None
        drop, add, sat_out = _swap(lunch_round, pairs, change.swap[0], change.swap[1])
        record = RoundEdit(kind="swap", member_ids=list(change.swap), score_before=_score(drop),
                           score_after=_score(add), at=now)
    store.lunch.edit_round(lunch_round, drop=drop, add=add, sat_out=sat_out, edit=record, now=now)
    out = pairing.round_detail(group_id, round_id)
    out["edit"] = edit_out(record, out)
    return out


def _score(pairs: Sequence[LunchPair]) -> float:
    return round(sum(p.score for p in pairs), 4)


def _swap(lunch_round: LunchRound, pairs: Sequence[LunchPair], a: str,
          b: str) -> tuple[list[LunchPair], list[LunchPair], list[str]]:
    """The pairs a swap replaces, the ones it makes, and the round's sit-outs after it."""
    seat = {m: p for p in pairs for m in p.member_ids}
    for member_id in (a, b):
        if member_id not in seat and member_id not in lunch_round.sat_out:
            raise errors.InvalidInput(f"{member_id} is not in this round", field="swap")
    if a not in seat and b not in seat:
        raise errors.InvalidInput("both sit out: name at least one paired member", field="swap")
    if a not in seat:
        a, b = b, a
    if b in seat and seat[a].pair_id == seat[b].pair_id:
        raise errors.InvalidInput("both are in the same pair", field="swap")
    drop = [seat[a]] + ([seat[b]] if b in seat else [])
    tables = [[b if m == a else m for m in seat[a].member_ids]]
    if b in seat:
        tables.append([a if m == b else m for m in seat[b].member_ids])
    sat_out = list(lunch_round.sat_out) if b in seat else [a if m == b else m for m in lunch_round.sat_out]
    wanted = sorted({m for table in tables for m in table})
    members = {m.member_id: m for m in deps.store().members.get_many(lunch_round.group_id, wanted)}
    gone = [m for m in wanted if m not in members]
    if gone:
        raise errors.Conflict(f"{gone[0]} is no longer a member of the group", field="swap")
    return drop, pairing.replan(lunch_round, tables, members), sat_out


def edit_out(record: RoundEdit, detail: dict[str, Any]) -> dict[str, Any]:
    """An edit as shown: who, and the score of the touched pairs before and after."""
    names = {m: n for p in detail["pairs"] for m, n in zip(p["member_ids"], p["names"], strict=True)}
    names.update({s["member_id"]: s["name"] for s in detail["sat_out"]})
    return {"kind": record.kind, "member_ids": record.member_ids,
            "names": [names.get(m) for m in record.member_ids],
            "score_before": record.score_before, "score_after": record.score_after,
            "score_change": round(record.score_after - record.score_before, 4)}


# ---------------------------------------------------------------- approving


def approve(group_id: str, round_id: str) -> dict[str, Any]:
    """Approve a round in review: the pairing worker sends its intros. Approving it again (a
    double click, a retry) sends nothing more; a round whose approval did not get as far as
    `done` is handed to the worker again (its steps are rerunnable)."""
    store = deps.store()
    now = deps.now()
    lunch_round = store.lunch.require_round(group_id, round_id)
    if lunch_round.status == "review":
        _drop_erased(lunch_round, now)
        approved = store.lunch.approve_round(group_id, round_id, now)
        if approved is None:
            lunch_round = store.lunch.require_round(group_id, round_id)
            if lunch_round.status == "review":
                raise errors.Conflict("the review time of this round is over: it expires, and nothing is sent",
                                      field="round_id")
        else:
            lunch_round = approved
    if lunch_round.approved_at is None:
        raise errors.Conflict(f"this round is {_status_words(lunch_round)}: only a round in review can be "
                              "approved", field="round_id")
    if lunch_round.status == "planned":
        workers.send("lunch.round", group_id=group_id, round_id=round_id)
    return pairing.round_detail(group_id, round_id)


def _drop_erased(lunch_round: LunchRound, now: datetime) -> None:
    """A member erased while the round waited: their pairs come out before anything is sent (no
    intro names them, no record is made for them); their partners sit out, first in line."""
    store = deps.store()
    pairs = store.lunch.pairs_of_round(lunch_round.group_id, lunch_round.round_id)
    everyone = sorted({m for p in pairs for m in p.member_ids})
    present = {m.member_id for m in store.members.get_many(lunch_round.group_id, everyone)}
    for pair in pairs:
        if all(m in present for m in pair.member_ids):
            continue
        left = [m for m in pair.member_ids if m in present and m not in lunch_round.sat_out]
        record = RoundEdit(kind="remove_pair", member_ids=[m for m in pair.member_ids if m in present],
                           score_before=pair.score, score_after=0.0, at=now)
        lunch_round = store.lunch.edit_round(lunch_round, drop=[pair], add=[], sat_out=[*lunch_round.sat_out, *left],
                                             edit=record, now=now)


# ---------------------------------------------------------------- expiring


def reviews_due(now: datetime) -> list[dict[str, str]]:
    """Hourly: rounds held for review past their time whose expiry is not handled yet."""
    return [{"group_id": g, "round_id": r} for g, r in deps.store().lunch.reviews_due(now)]


def expire_work(body: dict[str, Any]) -> None:
    """The pairing worker's entry: a message carries ids only."""
    group_id, round_id = body.get("group_id"), body.get("round_id")
    if not isinstance(group_id, str) or not isinstance(round_id, str):
        log.error("review expiry message without ids: %r", body)
        return
    expire(group_id, round_id, deps.now())


def expire(group_id: str, round_id: str, now: datetime) -> bool:
    """A round in review past its time: expired, its unsent pairs deleted (they quote members'
    words, and no intro ever named them), the organizer told once. False when it was approved
    in time. Rerunnable: the index entry that finds it again goes last."""
    store = deps.store()
    store.lunch.expire_round(group_id, round_id, now)
    lunch_round = store.lunch.get_round(group_id, round_id)
    group = store.groups.get(group_id)
    if lunch_round is None or group is None or lunch_round.status != "expired":
        return False
    store.lunch.delete_pairs(group_id, [p.pair_id for p in store.lunch.pairs_of_round(group_id, round_id)])
    pairing.mail_organizers("round_expired", f"round_expired:{round_id}", group, round_date=_date(lunch_round),
                            pair_count=lunch_round.pair_count, rounds_url=rounds_url(group_id))
    store.lunch.expiry_handled(group_id, round_id)
    return True
