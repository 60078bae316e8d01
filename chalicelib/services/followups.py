"""After the lunch: follow-ups a week after a round, pausing members who never answer, stats."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from chalicelib import deps, links, reasons
from chalicelib.models import Group, LunchRecord, LunchRound, Member
from chalicelib.services import outbox
from chalicelib.services.pairing import pair_prefix, round_of_pair

log = logging.getLogger(__name__)

IGNORED_ROUNDS_TO_PAUSE = 3


def followups_due(now: datetime) -> list[dict[str, str]]:
    """Hourly: the rounds done a week ago whose follow-ups have not gone out, as ids."""
    return [{"group_id": group_id, "round_id": round_id}
            for group_id, round_id in deps.store().lunch.followups_due(now)]


def follow_up_work(body: dict[str, Any]) -> int:
    """The pairing worker: a follow-up to everyone paired in the round, then pause members who
    ignored their last three pairings. Idempotent (dedupe keys, then the round is marked)."""
    group_id, round_id = body.get("group_id"), body.get("round_id")
    if not isinstance(group_id, str) or not isinstance(round_id, str):
        log.error("follow-up message without ids dropped")
        return 0
    return _follow_up(group_id, round_id, deps.now())


def _follow_up(group_id: str, round_id: str, now: datetime) -> int:
    store = deps.store()
    group = store.groups.require(group_id)
    pairs = store.lunch.pairs_of_round(group_id, pair_prefix(round_id))
    everyone = sorted({mid for p in pairs for mid in p.member_ids})
    members = {m.member_id: m for m in store.members.get_many(group_id, everyone)}
    batch = []
    for pair in pairs:
        for mid in pair.member_ids:
            member = members.get(mid)
            if member is None:
                continue
            batch.append((member, outbox.email(
                "lunch_followup", f"lunch_followup:{round_id}:{mid}", group, member,
                partners=reasons.partners(pair, mid, members),
                pairing_url=links.pairing_url(group_id, pair.pair_id, mid))))
    sent = outbox.queue_many(group, batch)
    _pause_ignorers(group, round_id, [members[m] for m in everyone if m in members], now)
    store.lunch.mark_followed_up(group_id, round_id)
    return sent


def _pause_ignorers(group: Group, round_id: str, members: Sequence[Member], now: datetime) -> None:
    """Pause whoever left their last three pairings (since any earlier pause) unanswered."""
    store = deps.store()
    records = store.lunch.all_records(group.group_id)
    order = {r.round_id: i for i, r in enumerate(store.lunch.all_rounds(group.group_id))}
    recent: dict[str, list[str]] = {}
    for member in members:
        record = records.get(member.member_id)
        if record is None:
            continue
        since = order.get(record.paused_round, -1) if record.paused_round else -1
        mine = sorted((p for p in record.pairs if order.get(round_of_pair(p), -1) > since),
                      key=lambda p: order[round_of_pair(p)])
        if len(mine) >= IGNORED_ROUNDS_TO_PAUSE:
            recent[member.member_id] = mine[-IGNORED_ROUNDS_TO_PAUSE:]
    if not recent:
        return
    wanted = sorted({p for ps in recent.values() for p in ps})
    pairs = {p.pair_id: p for p in store.lunch.get_pairs(group.group_id, wanted)}
    batch = []
    for member in members:
        last = recent.get(member.member_id)
        if not last or any(pid not in pairs or pairs[pid].answered_by(member.member_id) for pid in last):
            continue
        if not member.lunch.opted_in or member.lunch.paused:
            continue
        paused = _pause(group.group_id, member.member_id, now)
        store.lunch.record_paused(group.group_id, member.member_id, round_id)
        batch.append((paused, outbox.email(
            "lunch_paused", f"lunch_paused:{round_id}:{member.member_id}", group, paused,
            preferences_url=links.lunch_url(group.group_id, member.member_id))))
    outbox.queue_many(group, batch)


def _pause(group_id: str, member_id: str, now: datetime) -> Member:
    def edit(member: Member) -> Member:
        if member.lunch.paused:
            return member
        return member.model_copy(update={"lunch": member.lunch.model_copy(update={"paused": True}),
                                         "updated_at": now})

    return deps.store().members.change(group_id, member_id, edit)



# ---------------------------------------------------------------- stats


def repeat_pairs(rounds: Sequence[LunchRound], records: Iterable[LunchRecord]) -> int:
    """Pairs met again within the repeat window each round had (None = never again)."""
    position = {r.round_id: i for i, r in enumerate(rounds)}
    window = {r.round_id: r.repeat_window for r in rounds}
    seen: dict[frozenset[str], list[str]] = {}
    for record in records:
        for entry in record.met:
            rid, _, partner = entry.partition("/")
            if rid in position:
                key = frozenset((record.member_id, partner))
                if rid not in seen.setdefault(key, []):
                    seen[key].append(rid)
    repeats = 0
    for met_in in seen.values():
        met_in.sort(key=lambda rid: position[rid])
        for before, after in itertools.pairwise(met_in):
            limit = window[after]
            if limit is None or position[after] - position[before] <= limit:
                repeats += 1
    return repeats


def stats(group_id: str) -> dict[str, Any]:
    """Members, opt-ins, rounds, pairs, confirmed and met rates, average rating, repeat pairs."""
    store = deps.store()
    store.groups.require(group_id)
    all_members = list(store.members.all(group_id))
    rounds = [r for r in store.lunch.all_rounds(group_id) if r.status != "started"]
    pairs = list(store.lunch.all_pairs(group_id))
    intros = sum(len(p.member_ids) for p in pairs)
    confirmed = sum(1 for p in pairs for v in p.responses.values() if v == "confirmed")
    met = sum(1 for p in pairs if any(f.met for f in p.feedback.values()))
    ratings = [f.rating for p in pairs for f in p.feedback.values() if f.rating is not None]
    return {
        "members": len(all_members),
        "opted_in": sum(1 for m in all_members if m.lunch.opted_in),
        "active_participants": sum(1 for m in all_members if m.mailable
                                   and m.lunch.opted_in and not m.lunch.paused),
        "paused": sum(1 for m in all_members if m.lunch.paused),
        "rounds": len(rounds),
        "pairs": len(pairs),
        "intros": intros,
        "confirmed_rate": round(confirmed / intros, 4) if intros else None,
        "met_rate": round(met / len(pairs), 4) if pairs else None,
        "average_rating": round(sum(ratings) / len(ratings), 2) if ratings else None,
        "ratings": len(ratings),
        "repeat_pairs": repeat_pairs(rounds, store.lunch.all_records(group_id).values()),
        # As of the last round: members who still have someone new to meet.
        "new_pairs_left": rounds[-1].new_pairs_left if rounds else None,
    }


