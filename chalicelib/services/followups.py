"""After the lunch: follow-ups a week after a round, acting on feedback (no-show pauses, who
kept their lunch), reconnect suggestions to good matches, stats. The rules themselves are in
chalicelib/feedback.py (pure); the follow-up email says what they do.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import ValidationError

from chalicelib import deps, errors, ids, links, reasons, timeutil
from chalicelib.feedback import (
    GOOD_RATING,
    NO_SHOW_PAUSE_ROUNDS,
    NO_SHOW_REPORTS,
    NO_SHOW_WINDOW,
    SIT_OUT_WINDOW,
    add_months,
    everyone_confirmed,
    good_matches,
    kept,
    no_shows,
    pair_met,
    pause_trigger,
)
from chalicelib.models import (
    Group,
    LunchPair,
    LunchReconnect,
    LunchRecord,
    LunchRound,
    Member,
    PairFeedbackIn,
)
from chalicelib.services import intros as introductions
from chalicelib.services import outbox, pairs

log = logging.getLogger(__name__)

IGNORED_ROUNDS_TO_PAUSE = 3
RECONNECT_EVERY = timedelta(days=30)  # at most one reconnect suggestion a member in this time
RECONNECT_RETRY = timedelta(days=1)  # a suggestion held back by that limit is tried again after
RECONNECT_LOOK_MONTHS = 1  # a round not due yet is looked at again this often (the setting may change)
RECONNECT_MAX_MONTHS = 24  # the longest setting (models.LunchProgramIn): older lunches get none


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
    round_pairs = store.lunch.pairs_of_round(group_id, round_id)
    everyone = sorted({mid for p in round_pairs for mid in p.member_ids})
    members = {m.member_id: m for m in store.members.get_many(group_id, everyone)}
    program = store.lunch.get_program(group_id)
    months = program.reconnect_after_months if program is not None else 0
    batch = []
    for pair in round_pairs:
        staying = pairs.still_in(pair)
        if len(staying) < 2:
            continue  # a decline left nobody to meet: nothing to ask
        for mid in staying:  # whoever declined said so already
            member = members.get(mid)
            if member is None:
                continue
            batch.append((member, outbox.email(
                "lunch_followup", f"lunch_followup:{round_id}:{mid}", group, member,
                partners=reasons.partners(pair, mid, members),
                pairing_url=links.pairing_url(group_id, pair.pair_id, mid), **feedback_rules(months))))
    sent = outbox.queue_many(group, batch)
    # Who kept this round's lunch (a member re-matched after a decline: in either pairing).
    kept_by = {mid: False for mid in everyone}
    for pair in round_pairs:
        for mid in pair.member_ids:
            kept_by[mid] = kept_by[mid] or kept(pair, mid)
    store.lunch.record_kept(group_id, round_id, sorted(kept_by.items()))
    _pause_ignorers(group, round_id, [members[m] for m in everyone if m in members], now)
    # The round's good matches are known by then: look for them `months` after the lunch.
    lunch_round = store.lunch.get_round(group_id, round_id)
    if lunch_round is not None:
        store.lunch.reconnects_after(group_id, round_id, lunch_round.created_at,
                                     _next_look(lunch_round.created_at, months, now))
    store.lunch.mark_followed_up(group_id, round_id)
    return sent


def feedback_rules(reconnect_after_months: int) -> dict[str, Any]:
    """What the follow-up email says feedback does: the figures the code acts on."""
    return {"no_show_reports": NO_SHOW_REPORTS, "no_show_window": NO_SHOW_WINDOW,
            "no_show_pause_rounds": NO_SHOW_PAUSE_ROUNDS, "sit_out_window": SIT_OUT_WINDOW,
            "good_rating": GOOD_RATING, "reconnect_after_months": reconnect_after_months}


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
        mine = sorted((p for p in record.pairs if order.get(ids.round_of_pair(p), -1) > since),
                      key=lambda p: order[ids.round_of_pair(p)])
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


# ---------------------------------------------------------------- feedback


@dataclass(frozen=True)
class FeedbackAnswer:
    """The feedback form: met "yes" (rating, note), "no", or "no_show" with `absent` the
    positions (0-based, as the page lists them) of the partners who didn't come."""

    met: Literal["yes", "no", "no_show"]
    rating: int | None = None
    note: str = ""
    absent: tuple[int, ...] = ()


def give_feedback(token: str, answer: FeedbackAnswer) -> pairs.PairingView:
    """POST feedback on the pairing page: record it, note who kept the lunch, and act on a
    no-show report (the rules: chalicelib/feedback.py). The same answer twice does nothing more."""
    view = pairs.show_pairing(token)
    me = view.member.member_id
    partners = [m for m in view.pair.member_ids if m != me]
    if answer.met == "no_show":
        if not answer.absent and len(partners) == 1:
            answer = FeedbackAnswer("no_show", None, answer.note, (0,))
        if not answer.absent or any(not 0 <= i < len(partners) for i in answer.absent):
            raise errors.InvalidInput("say which partner didn't come", field="no_show")
    absent = sorted({partners[i] for i in answer.absent}) if answer.met == "no_show" else []
    # In a trio the lunch may have happened with the partner who came.
    met = answer.met == "yes" or (answer.met == "no_show" and len(absent) < len(partners))
    try:
        feedback = PairFeedbackIn(met=met, rating=answer.rating if met else None, note=answer.note,
                                  no_show=absent)
    except ValidationError as exc:
        raise errors.InvalidInput(exc.errors()[0]["msg"], field=str(exc.errors()[0]["loc"][0])) from None
    view = pairs.answer_pairing(token, "feedback", feedback)
    if view.pair.origin != "reconnect":
        # Who kept this lunch may change with what was said: the next rounds read it.
        deps.store().lunch.record_kept(view.group.group_id, view.pair.round_id,
                                       [(m, kept(view.pair, m)) for m in pairs.still_in(view.pair)])
        if absent:
            report_no_shows(view.group, view.pair, absent, deps.now())
    return view


def report_no_shows(group: Group, pair: LunchPair, absent: Sequence[str], now: datetime) -> list[str]:
    """Note each absent member's no-show on their record; pause whoever now has NO_SHOW_REPORTS
    reported pairings within NO_SHOW_WINDOW rounds (counting only reports after the one that
    paused them last), with one email. Answers who was paused now."""
    store = deps.store()
    done = [r.round_id for r in store.lunch.all_rounds(group.group_id) if r.status == "done"]
    position = {rid: i for i, rid in enumerate(done)}
    paused = []
    for member_id in absent:
        record = store.lunch.record_no_show(group.group_id, member_id, pair.round_id, pair.pair_id)
        trigger = pause_trigger(record, position)
        if trigger is None or not done:
            continue
        if not store.lunch.bench(group.group_id, member_id, after_round=done[-1], for_pair=trigger):
            continue
        paused.append(member_id)
        member = store.members.get(group.group_id, member_id)
        if member is not None and member.lunch.opted_in:
            outbox.queue(group, member, outbox.email(
                "lunch_no_show_paused", f"lunch_no_show_paused:{member_id}:{trigger}", group, member,
                rounds=NO_SHOW_PAUSE_ROUNDS, reports=NO_SHOW_REPORTS, window=NO_SHOW_WINDOW,
                preferences_url=links.lunch_url(group.group_id, member_id)))
    return paused


# ---------------------------------------------------------------- reconnects


def reconnects_due(now: datetime) -> list[dict[str, str]]:
    """Hourly: the groups with a round whose good matches are due a reconnect, as ids."""
    return [{"group_id": g} for g in deps.store().lunch.groups_with_reconnects_due(now)]


def reconnect_work(body: dict[str, Any]) -> int:
    """The pairing worker: one programme's due reconnect suggestions."""
    group_id = body.get("group_id")
    if not isinstance(group_id, str):
        log.error("reconnect message without a group id dropped")
        return 0
    return scan_reconnects(group_id, deps.now())


def scan_reconnects(group_id: str, now: datetime) -> int:
    """Suggest a catch-up to the good matches of each round `reconnect_after_months` old
    (reads that programme's woken rounds and their pairs only). A round is looked at when due,
    and at least monthly before, so a changed setting counts. Idempotent: a suggestion is
    recorded once, its emails by dedupe key, and the round is then done. Answers emails sent."""
    store = deps.store()
    group = store.groups.get(group_id)
    program = store.lunch.get_program(group_id)
    months = program.reconnect_after_months if program is not None else 0
    sent = 0
    for round_id, lunch_at, due_at in store.lunch.reconnect_rounds(group_id):
        if due_at > now:
            continue  # not woken yet
        if group is None or (not months and now >= add_months(lunch_at, RECONNECT_MAX_MONTHS)):
            store.lunch.reconnects_done(group_id, round_id)  # past any setting: these lunches get none
            continue
        if not months or add_months(lunch_at, months) > now:
            store.lunch.reconnects_after(group_id, round_id, lunch_at, _next_look(lunch_at, months, now))
            continue
        new, held = _suggest(group, round_id, now)
        sent += new
        if held:
            store.lunch.reconnects_after(group_id, round_id, lunch_at, now + RECONNECT_RETRY)
        else:
            store.lunch.reconnects_done(group_id, round_id)
    return sent


def _next_look(lunch_at: datetime, months: int, now: datetime) -> datetime:
    """When to look at a round's good matches next: when due, but no later than a month on
    (the setting may change, or be turned on)."""
    soon = add_months(now, RECONNECT_LOOK_MONTHS)
    return min(add_months(lunch_at, months), soon) if months else soon


def reconnect_id(pair_id: str, member_ids: Sequence[str]) -> str:
    digest = hashlib.sha256(f"{pair_id}:{','.join(sorted(member_ids))}".encode()).digest()
    return "lrc_" + ids.b32(int.from_bytes(digest[:16], "big") >> 48, 16)


def _suggest(group: Group, round_id: str, now: datetime) -> tuple[int, bool]:
    """Emails recorded now, and whether some were held back (a member had one this month)."""
    store = deps.store()
    matches = [(pair, two) for pair in store.lunch.pairs_of_round(group.group_id, round_id)
               for two in good_matches(pair)]
    wanted = sorted({m for _, two in matches for m in two})
    members = {m.member_id: m for m in store.members.get_many(group.group_id, wanted)}
    batch: list[tuple[Member, outbox.Email]] = []
    held = False
    for pair, two in matches:
        people = [members.get(m) for m in two]
        if any(p is None or not p.mailable or not p.lunch.opted_in for p in people):
            continue  # left, unsubscribed or no longer lunching: no suggestion
        first, second = (store.lunch.get_record(group.group_id, m) for m in two)
        if two[1] in first.blocked or two[0] in second.blocked:
            continue  # one asked never to meet the other again
        if any(rid > pair.round_id and partner == two[1] for rid, partner in first.meetings()):
            continue  # they met again in a later round: nothing to catch up on
        suggestion = LunchReconnect(reconnect_id=reconnect_id(pair.pair_id, two), group_id=group.group_id,
                                    member_ids=list(two), pair_id=pair.pair_id, round_id=pair.round_id,
                                    created_at=now)
        outcome = store.lunch.suggest_reconnect(suggestion, month_ago=now - RECONNECT_EVERY)
        if outcome == "too_soon":
            held = True
            continue
        for me, other in ((people[0], people[1]), (people[1], people[0])):
            assert me is not None and other is not None
            batch.append((me, _reconnect_email(group, suggestion, me, other, pair)))
    return outbox.queue_many(group, batch), held


def _reconnect_email(group: Group, suggestion: LunchReconnect, member: Member, other: Member,
                     pair: LunchPair) -> outbox.Email:
    rid, mid = suggestion.reconnect_id, member.member_id
    return outbox.email(
        "lunch_reconnect", f"lunch_reconnect:{rid}:{mid}", group, member,
        partner={"name": other.name, "headline": other.headline},
        lunch_month=timeutil.in_zone(pair.created_at, group.timezone).strftime("%B %Y"),
        yes_url=links.reconnect_url(group.group_id, rid, mid, "yes"),
        no_url=links.reconnect_url(group.group_id, rid, mid, "no"))


@dataclass(frozen=True)
class ReconnectView:
    group: Group
    member: Member
    suggestion: LunchReconnect
    partner: Member | None
    ask: str | None = None

    def context(self) -> dict[str, Any]:
        answers = self.suggestion.answers
        me = self.member.member_id
        partner_id = next(m for m in self.suggestion.member_ids if m != me)
        return {"group_name": self.group.sender_name, "member_name": self.member.name,
                "partner": {"name": self.partner.name if self.partner else "A former member",
                            "headline": self.partner.headline if self.partner else ""},
                "answer": answers.get(me), "connected": self.suggestion.connected_pair_id is not None,
                "waiting": answers.get(me) == "yes" and answers.get(partner_id) != "yes",
                "ask": self.ask if self.ask in ("yes", "no") and answers.get(me) is None else None}


def _reconnect_view(token: str, ask: str | None = None) -> ReconnectView:
    claims = links.read("reconnect", token)
    store = deps.store()
    group = store.groups.get(claims.group_id)
    suggestion = store.lunch.get_reconnect(claims.group_id, claims.resource_id) if group else None
    if group is None or suggestion is None or claims.member_id not in suggestion.member_ids:
        raise errors.NotFound("no such suggestion")
    members = {m.member_id: m for m in store.members.get_many(group.group_id, suggestion.member_ids)}
    if claims.member_id not in members:
        raise errors.NotFound("no such member")
    partner = next(m for m in suggestion.member_ids if m != claims.member_id)
    return ReconnectView(group, members[claims.member_id], suggestion, members.get(partner), ask)


def show_reconnect(token: str, ask: str | None = None) -> ReconnectView:
    """GET: the suggestion, leading with the answer the email button asked; changes nothing."""
    return _reconnect_view(token, ask)


def answer_reconnect(token: str, answer: str) -> ReconnectView:
    """POST yes or no. With two yeses the two are connected (`pairs.connect`: each gets the
    other's address once) as a pair of origin "reconnect". Answers are final once connected."""
    view = _reconnect_view(token)  # a bad link says so before a bad answer does
    if answer not in ("yes", "no"):
        raise errors.InvalidInput("must be yes or no", field="answer")
    store, now = deps.store(), deps.now()
    suggestion = view.suggestion
    if suggestion.connected_pair_id is None and suggestion.answers.get(view.member.member_id) != answer:
        suggestion = store.lunch.answer_reconnect(view.group.group_id, suggestion.reconnect_id,
                                                  view.member.member_id, answer)
    if all(suggestion.answers.get(m) == "yes" for m in suggestion.member_ids):
        suggestion = _connect(view.group, suggestion, now)
    return ReconnectView(view.group, view.member, suggestion, view.partner)


def _connect(group: Group, suggestion: LunchReconnect, now: datetime) -> LunchReconnect:
    """Both said yes: the reconnect pair (once), then `pairs.connect` (once per member)."""
    store = deps.store()
    pair_id = "lpc_" + suggestion.reconnect_id.removeprefix("lrc_")
    pair = store.lunch.get_pair(group.group_id, pair_id)
    if pair is None or suggestion.connected_pair_id is None:
        source = store.lunch.get_pair(group.group_id, suggestion.pair_id)
        made = pair.created_at if pair is not None else now  # a retry finishes the first attempt
        store.lunch.put_reconnect_pair(suggestion.reconnect_id, LunchPair(
            pair_id=pair_id, round_id=suggestion.round_id, group_id=group.group_id,
            member_ids=list(suggestion.member_ids), slot=source.slot if source else None,
            slot_zone=source.slot_zone if source else None, origin="reconnect",
            responses=dict.fromkeys(suggestion.member_ids, "confirmed"), created_at=made), made)
        pair = store.lunch.get_pair(group.group_id, pair_id)
        suggestion = suggestion.model_copy(update={"connected_pair_id": pair_id})
    assert pair is not None
    if pair.connected_at is None:
        members = {m.member_id: m for m in store.members.get_many(group.group_id, pair.member_ids)}
        pairs.connect(group, pair, members, now)
    return suggestion


def forget_member(group_id: str, member_id: str) -> None:
    """Erasure (before the record goes): the words of the reconnect mail their partners got
    about them, and the reconnect pairs' answers; suggestions and pairs keep bare ids only."""
    store = deps.store()
    record = store.lunch.get_record(group_id, member_id)
    for pair in store.lunch.get_pairs(group_id, record.pairs):
        for partner in pair.member_ids:
            if partner == member_id:
                continue
            suggestion = store.lunch.get_reconnect(group_id, reconnect_id(pair.pair_id, [member_id, partner]))
            if suggestion is None:
                continue
            mail = [f"lunch_reconnect:{suggestion.reconnect_id}:{partner}"]
            if suggestion.connected_pair_id:
                store.lunch.scrub_pair(group_id, suggestion.connected_pair_id, member_id, [])
                mail.append(f"lunch_connected:{suggestion.connected_pair_id}:{partner}")
            outbox.scrub(group_id, partner, mail)


# ---------------------------------------------------------------- stats


def repeat_pairs(rounds: Sequence[LunchRound], records: Iterable[LunchRecord]) -> int:
    """Pairs met again within the repeat window each round had (None = never again)."""
    position = {r.round_id: i for i, r in enumerate(rounds)}
    window = {r.round_id: r.repeat_window for r in rounds}
    seen: dict[frozenset[str], list[str]] = {}
    for record in records:
        for rid, partner in record.meetings():
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
    """Members, opt-ins, rounds; over the rounds' pairings (origin round or rematch): pairs,
    intros, confirmed, connected, declined and met rates, re-matched members, no-shows,
    ratings, good matches; reconnects made; repeat pairs. Each figure is defined in README."""
    store = deps.store()
    store.groups.require(group_id)
    all_members = list(store.members.all(group_id))
    all_rounds = store.lunch.all_rounds(group_id)
    rounds = [r for r in all_rounds if r.happened]
    held = {r.round_id for r in all_rounds if r.status == "review"}  # planned, never introduced
    every = [p for p in store.lunch.all_pairs(group_id) if p.round_id not in held]
    pairs_ = [p for p in every if p.origin != "reconnect"]
    intros = sum(len(p.member_ids) for p in pairs_)
    confirmed = sum(1 for p in pairs_ for v in p.responses.values() if v == "confirmed")
    ratings = [f.rating for p in pairs_ for f in p.feedback.values() if f.rating is not None]

    def rate(count: int) -> float | None:
        return round(count / len(pairs_), 4) if pairs_ else None

    return {
        "members": len(all_members),
        "opted_in": sum(1 for m in all_members if m.lunch.opted_in),
        "active_participants": sum(1 for m in all_members if m.mailable
                                   and m.lunch.opted_in and not m.lunch.paused),
        "paused": sum(1 for m in all_members if m.lunch.paused),
        "rounds": len(rounds),
        "pairs": len(pairs_),
        "intros": intros,
        "confirmed_rate": round(confirmed / intros, 4) if intros else None,
        "connected_rate": rate(sum(1 for p in pairs_ if everyone_confirmed(p))),
        "declined_rate": rate(sum(1 for p in pairs_ if "declined" in p.responses.values())),
        "met_rate": rate(sum(1 for p in pairs_ if pair_met(p))),
        "rematched": sum(len(p.member_ids) for p in pairs_ if p.origin == "rematch"),
        "no_shows": sum(len(no_shows(p)) for p in pairs_),
        "average_rating": round(sum(ratings) / len(ratings), 2) if ratings else None,
        "ratings": len(ratings),
        "good_matches": sum(len(good_matches(p)) for p in pairs_),
        "reconnects": sum(1 for p in every if p.origin == "reconnect"),
        "repeat_pairs": repeat_pairs(rounds, store.lunch.all_records(group_id).values()),
        # As of the last round: members who still have someone new to meet.
        "new_pairs_left": rounds[-1].new_pairs_left if rounds else None,
        # Introductions per connector: offered, accepted (both said yes), met (services/intros.py).
        "top_connectors": introductions.top_connectors(group_id, all_members),
    }
