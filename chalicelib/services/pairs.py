"""One pairing after its intro: the pairing page, what members answer on it.

GET shows and never changes anything (mail scanners open links); POST acts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib import deps, errors, links, reasons, slots, timeutil
from chalicelib.mail.ics import CalendarEvent, calendar_bytes
from chalicelib.mail.render import format_datetime
from chalicelib.models import Group, LunchPair, Member, PairFeedbackIn
from chalicelib.services import outbox
from chalicelib.tokens import Claims
from chalicelib.vocabulary import DAYS, SLOTS

log = logging.getLogger(__name__)

FEEDBACK_OPENS_AFTER = timedelta(days=2)
MEETING_LENGTH = timedelta(hours=1)
NUDGE_AFTER = timedelta(days=3)
REMATCH = "rematch"  # timer kinds (store.lunch timers)
NUDGES = "nudges"


ASKS = ("confirm", "decline", "block")  # what an email button (?do=) asks the page to lead with


@dataclass(frozen=True)
class PairingView:
    group: Group
    member: Member
    pair: LunchPair
    members: dict[str, Member]
    ask: str | None = None  # the question the page leads with (from ?do=), or None

    def context(self, now: datetime) -> dict[str, Any]:
        me = self.member.member_id
        response = self.pair.responses.get(me, "pending")
        feedback = self.pair.feedback.get(me)
        blocked = me in self.pair.blocked_by
        staying = [m for m in still_in(self.pair) if m != me]
        connected = self.pair.connected_at is not None and response == "confirmed"
        names = reasons.names_at_table(self.pair.member_ids, self.members)
        partners = reasons.partners(self.pair, me, self.members)
        if connected:  # the addresses only once everyone still in has confirmed
            for partner, mid in zip(partners, [m for m in self.pair.member_ids if m != me], strict=True):
                found = self.members.get(mid)
                partner["email"] = found.email if found is not None and mid in staying else None
        done = {"confirm": response != "pending", "decline": response == "declined", "block": blocked}
        ask = self.ask if self.ask is not None and not done[self.ask] and not blocked else None
        proposed = None
        if connected and self.pair.connected_at is not None:
            proposed = format_datetime(proposed_time(self.group, self.pair, self.pair.connected_at),
                                       zone_of(self.member, self.group))
        return {
            "group_name": self.group.sender_name, "member_name": self.member.name,
            "partners": partners,
            "partner_names": [names[m] for m in self.pair.member_ids if m != me],
            "reasons": reasons.in_words(self.pair, self.members, reader=me),
            "suggested_slot": self.pair.slot, "response": response, "blocked": blocked,
            "ask": ask, "connected": connected,
            "proposed_time": proposed,
            "waiting_for": [names[m] for m in staying if self.pair.responses.get(m) != "confirmed"],
            "declined": [names[m] for m in self.pair.member_ids
                         if m != me and self.pair.responses.get(m) == "declined"],
            "feedback_open": response == "confirmed" or feedback is not None
            or now >= self.pair.created_at + FEEDBACK_OPENS_AFTER,
            "feedback": ({"met": feedback.met, "rating": feedback.rating, "note": feedback.note,
                          "no_show": [names[m] for m in feedback.no_show if m in names]}
                         if feedback else None),
        }


def _view(claims: Claims, pair: LunchPair | None = None, ask: str | None = None) -> PairingView:
    store = deps.store()
    group = store.groups.get(claims.group_id)
    pair = pair or store.lunch.get_pair(claims.group_id, claims.resource_id)
    if group is None or pair is None or claims.member_id not in pair.member_ids:
        raise errors.NotFound("no such pairing")
    members = {m.member_id: m for m in store.members.get_many(group.group_id, pair.member_ids)}
    if claims.member_id not in members:
        raise errors.NotFound("no such member")
    return PairingView(group, members[claims.member_id], pair, members, ask if ask in ASKS else None)


def show_pairing(token: str, ask: str | None = None) -> PairingView:
    """GET: what the pairing page shows, leading with the question an email button asked
    (`?do=confirm|decline|block`); changes nothing."""
    return _view(links.read("pairing", token), ask=ask)


def answer_pairing(token: str, action: str, feedback: PairFeedbackIn | None = None) -> PairingView:
    """POST: confirm, decline, block or give feedback; the same answer twice changes nothing.

    Confirming when everyone else has connects the table (`connect`); declining tells the
    others at once and leaves whoever is alone for the re-match (`decline`). A decline is
    final: the others are told, so a later confirm is refused with a plain message.
    """
    claims = links.read("pairing", token)
    view = _view(claims)
    store, me, now = deps.store().lunch, claims.member_id, deps.now()
    pair: LunchPair | None = view.pair
    if action == "confirm":
        if view.pair.responses.get(me) == "declined":
            raise errors.Conflict("You said you can't make it, and we told your partner. "
                                  "You'll be paired again next round.", field="action")
        if me not in view.pair.blocked_by:
            pair = store.respond_once(claims.group_id, view.pair.pair_id, me, "confirmed")
            if pair is not None and not connect_if_ready(view.group, pair, view.members, now):
                # Someone may stay silent: nudge them three days after the intro.
                store.arm_timer(claims.group_id, NUDGES, pair.round_id,
                                max(pair.created_at + NUDGE_AFTER, now), armed_at=now)
    elif action == "decline":
        if me not in view.pair.blocked_by:
            pair = store.respond_once(claims.group_id, view.pair.pair_id, me, "declined")
            if pair is not None:
                decline(view.group, pair, me, view.members, now)
    elif action == "block":
        others = [m for m in view.pair.member_ids if m != me]
        pair = store.block(claims.group_id, view.pair.pair_id, me, others)
        if view.pair.connected_at is None and view.pair.responses.get(me) != "declined":
            declined = store.respond_once(claims.group_id, view.pair.pair_id, me, "declined")
            if declined is not None:
                pair = declined
                decline(view.group, declined, me, view.members, now)
    elif action == "feedback":
        if feedback is None:
            raise errors.InvalidInput("say whether you met", field="met")
        pair = store.give_feedback(claims.group_id, view.pair.pair_id, me, feedback, now)
    else:
        raise errors.InvalidInput("must be confirm, decline, block or feedback", field="action")
    return _view(claims)  # read again: connecting or declining may have changed the pair since


# ---------------------------------------------------------------- connecting a table


def still_in(pair: LunchPair) -> list[str]:
    """Who is still at the table: everyone who has not declined."""
    return [m for m in pair.member_ids if pair.responses.get(m) != "declined"]


def ready_to_connect(pair: LunchPair) -> bool:
    """At least two are still in, and each of them confirmed."""
    staying = still_in(pair)
    return len(staying) >= 2 and all(pair.responses.get(m) == "confirmed" for m in staying)


def connect_if_ready(group: Group, pair: LunchPair, members: dict[str, Member], now: datetime) -> bool:
    """Connect the table once everyone still in confirmed; answers whether it is connected."""
    if not ready_to_connect(pair):
        return False
    connect(group, pair, members, now)
    return True


def zone_of(member: Member, group: Group) -> str:
    return member.timezone or group.timezone


def proposed_time(group: Group, pair: LunchPair, now: datetime) -> datetime:
    """When we propose they meet: the next occurrence of the pair's slot at the programme's
    time for that part of the day (a weekday lunch two days on when nobody gave a slot)."""
    program = deps.store().lunch.get_program(group.group_id)
    times = program.slot_times if program is not None else slots.DEFAULT_TIMES
    zone = pair.slot_zone or group.timezone
    slot = pair.slot if pair.slot in SLOTS else None
    if slot is None:
        day = timeutil.in_zone(now + timedelta(days=2), zone)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        slot = f"{DAYS[day.weekday()]}-lunch"
    return slots.proposed_time(slot, zone, now + timedelta(days=1), times)


def connect(group: Group, pair: LunchPair, members: dict[str, Member], now: datetime) -> int:
    """Everyone still at the table confirmed: each gets one `lunch_connected` email with the
    others' names, headlines and addresses (a reply reaches them), a proposed time in their
    own zone, and an .ics REQUEST naming everyone, its UID stable per pair. Once per member per
    pair whatever the retries (dedupe keys); answers emails recorded now."""
    staying = [members[m] for m in still_in(pair) if m in members]
    starts = proposed_time(group, pair, now)
    event = CalendarEvent(
        uid=f"{pair.pair_id}@powerlunch", sequence=0,
        title=f"Lunch: {' and '.join(m.name for m in staying)}",
        description=f"A {group.sender_name} lunch. Change the time if another suits you better.",
        starts_at=starts, ends_at=starts + MEETING_LENGTH, timezone=pair.slot_zone or group.timezone,
        location=None, url=None, organizer_name=group.sender_name,
        organizer_email=deps.settings().sender_email)
    calendar = calendar_bytes(event, method="REQUEST", attendees=[(m.name, m.email) for m in staying],
                              dtstamp=now)
    batch = []
    for member in staying:
        others = [m for m in staying if m.member_id != member.member_id]
        zone = zone_of(member, group)
        batch.append((member, outbox.email(
            "lunch_connected", f"lunch_connected:{pair.pair_id}:{member.member_id}", group, member,
            partners=[{"name": o.name, "headline": o.headline, "email": o.email} for o in others],
            proposed_time=format_datetime(starts, zone), slot=pair.slot,
            pairing_url=links.pairing_url(group.group_id, pair.pair_id, member.member_id),
            reply_to=[(o.name, o.email) for o in others], calendar=calendar, calendar_method="REQUEST")))
    sent = outbox.queue_many(group, batch)
    deps.store().lunch.mark_connected(group.group_id, pair.pair_id, now)
    return sent


# ---------------------------------------------------------------- declines


def decline(group: Group, pair: LunchPair, member_id: str, members: dict[str, Member], now: datetime) -> int:
    """`member_id` can't make it. The others hear it at once, kindly and without a reason; the
    pair does not count as met; whoever is now alone waits for the re-match (next hourly
    run), unless they were re-matched already this round. Two left of a trio stay a pair."""
    store = deps.store().lunch
    others = [m for m in pair.member_ids if m != member_id]
    store.forget_meeting(group.group_id, pair.round_id, member_id, others)
    staying = still_in(pair)
    alone = staying if len(staying) == 1 else []
    if alone and pair.origin == "round":
        store.arm_timer(group.group_id, REMATCH, pair.round_id, now, armed_at=now)
    decliner = members.get(member_id)
    batch = []
    for mid in staying:
        member = members.get(mid)
        if member is None:
            continue
        batch.append((member, outbox.email(
            "lunch_declined", f"lunch_declined:{pair.pair_id}:{member_id}:{mid}", group, member,
            who=reasons.first_name(decliner),
            left_with=[members[o].name for o in staying if o != mid and o in members],
            rematch=bool(alone) and pair.origin == "round",
            pairing_url=links.pairing_url(group.group_id, pair.pair_id, mid))))
    sent = outbox.queue_many(group, batch)
    if not alone:
        connect_if_ready(group, pair, members, now)
    elif pair.origin == "rematch":  # re-matched already this round: first in line next time
        for mid in alone:
            store.record_sat_out(group.group_id, mid, pair.round_id)
    return sent


# ---------------------------------------------------------------- timers: re-matches and nudges

_TIMER_WORK = {REMATCH: "lunch.rematch", NUDGES: "lunch.nudges"}


def timers_due(now: datetime) -> dict[str, list[dict[str, str]]]:
    """Hourly: the re-matches and nudges due, as worker messages by work kind."""
    due: dict[str, list[dict[str, str]]] = {}
    for timer in deps.store().lunch.timers_due(now):
        work = _TIMER_WORK.get(timer["kind"])
        if work is not None:
            due.setdefault(work, []).append({"group_id": timer["group_id"], "round_id": timer["ref"],
                                             "armed_at": timer["armed_at"]})
    return due


def timer_ids(body: dict[str, Any]) -> tuple[str, str, str] | None:
    ids = body.get("group_id"), body.get("round_id"), body.get("armed_at")
    if not all(isinstance(x, str) for x in ids):
        log.error("timer message without ids: %r", body)
        return None
    return ids  # type: ignore[return-value]


def nudge_work(body: dict[str, Any]) -> int:
    """The pairing worker: nudge a round's silent members (see `nudge`), then clear the timer,
    or set it again for pairs too young to nudge yet (re-matched ones)."""
    ids = timer_ids(body)
    if ids is None:
        return 0
    group_id, round_id, armed_at = ids
    now = deps.now()
    sent, next_due = nudge(group_id, round_id, now)
    store = deps.store().lunch
    store.clear_timer(group_id, NUDGES, round_id, armed_at)
    if next_due is not None:
        store.arm_timer(group_id, NUDGES, round_id, next_due, armed_at=now)
    return sent


def nudge(group_id: str, round_id: str, now: datetime) -> tuple[int, datetime | None]:
    """One `lunch_nudge` to each member still silent three days after their intro while
    someone at their table confirmed. Answers (emails recorded, when younger pairs are due)."""
    store = deps.store()
    group = store.groups.get(group_id)
    if group is None:
        return 0, None
    pairs = store.lunch.pairs_of_round(group_id, round_id)
    silent: dict[str, LunchPair] = {}
    later: list[datetime] = []
    for pair in pairs:
        if pair.connected_at is not None or len(still_in(pair)) < 2:
            continue
        if not any(v == "confirmed" for v in pair.responses.values()):
            continue  # nobody waits yet: the first confirm sets the timer
        if pair.created_at + NUDGE_AFTER > now:
            later.append(pair.created_at + NUDGE_AFTER)
            continue
        for mid in still_in(pair):
            if mid not in pair.responses and mid not in pair.blocked_by:
                silent[mid] = pair
    wanted = sorted({m for p in silent.values() for m in p.member_ids})
    members = {m.member_id: m for m in store.members.get_many(group_id, wanted)}
    batch = []
    for mid, pair in silent.items():
        member = members.get(mid)
        if member is None:
            continue
        confirmed = [members[o] for o in pair.member_ids if pair.responses.get(o) == "confirmed" and o in members]
        batch.append((member, outbox.email(
            "lunch_nudge", f"lunch_nudge:{pair.pair_id}:{mid}", group, member,
            confirmed=[reasons.first_name(m) for m in confirmed],
            pairing_url=links.pairing_url(group_id, pair.pair_id, mid))))
    return outbox.queue_many(group, batch), min(later) if later else None
