"""Lunch rounds: when one is due, starting it once, running it, intros, follow-ups, pausing, stats.

A round goes started -> planned -> done, and every step can be rerun after a crash:
- start: a conditional put of the round under an id derived from group + local date (the
  schedule) or a fresh id (an organizer); the work goes to the pairing worker by id.
- plan (status started): pairs already written by an earlier attempt are kept, the rest of
  the participants are planned (seed from the round id) and written under deterministic
  pair ids with conditional puts; then the round becomes `planned`.
- review (the programme's `review` on, and pairs planned): the round waits in `review` for an
  organizer to edit and approve it (services/review.py), else expires after 48 hours, unsent.
- finish (status planned, approved if held for review): per-member records (set ADDs), skip_next cleared, one intro per
  member through the outbox (dedupe key per round and member); then the round is `done`.
A lease on the round keeps two workers (an SQS redelivery, two schedules) from planning at once.
Reasons are stored with `{member_id}` placeholders and get first names when shown, so no
name is stored on a pair and an erased member leaves none behind.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib import deps, errors, ids, links, observe, reasons, timeutil, workers
from chalicelib.models import (
    Group,
    LunchPair,
    LunchProgram,
    LunchRecord,
    LunchRound,
    Member,
)
from chalicelib.services import lunch, outbox
from chalicelib.vocabulary import DAYS

if TYPE_CHECKING:  # the matcher (numpy, rustworkx) loads only in the pairing worker
    from chalicelib import matching

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
FOLLOWUP_AFTER = timedelta(days=7)
_EPOCH_MONDAY = date(1970, 1, 5)


# ---------------------------------------------------------------- due-ness (pure)


@dataclass(frozen=True)
class Due:
    local_date: date
    due_at: datetime  # aware UTC


def due_round(program: LunchProgram, zone_name: str, now: datetime) -> Due | None:
    """The round due at `now` for this programme, in the group's own zone, or None.

    Due on the programme's weekday from `local_hour` (local wall time, so DST moves the UTC
    instant, not the local hour) until the local day ends, so a missed hourly run or a
    30-minute zone still starts it. Weekly: every such weekday; biweekly: weeks with an even
    count since Monday 1970-01-05 (stateless, the same parity every year); monthly: the first
    such weekday of the month. A programme saved after today's due time starts next time.
    """
    zone = timeutil.zone(zone_name)
    local = now.astimezone(zone)
    day = local.date()
    if not program.enabled or day.weekday() != DAYS.index(program.weekday):
        return None
    if program.cadence == "biweekly" and ((day - _EPOCH_MONDAY).days // 7) % 2:
        return None
    if program.cadence == "monthly" and day.day > 7:
        return None
    due_at = datetime.combine(day, time(program.local_hour), tzinfo=zone).astimezone(UTC)
    if now < due_at or program.updated_at > due_at:
        return None
    return Due(day, due_at)


def scheduled_round_id(group_id: str, due: Due) -> str:
    """The same group and local date give the same id (so the round is created once); it
    sorts by time like every other id."""
    ms = int(due.due_at.timestamp() * 1000)
    return f"lrd_{ids.b32(ms, 10)}{ids.b32(ids.hash_int(f'{group_id}:{due.local_date}', 80), 16)}"


def seed_of(round_id: str) -> int:
    return ids.hash_int(round_id, 63)


# ---------------------------------------------------------------- starting rounds


def _new_round(program: LunchProgram, round_id: str, local_date: date, trigger: str,
               now: datetime) -> LunchRound:
    seq = deps.store().lunch.next_round_seq(program.group_id)
    return LunchRound(round_id=round_id, group_id=program.group_id, local_date=local_date.isoformat(),
                      trigger=trigger, seq=seq, odd_rule=program.odd_rule,  # type: ignore[arg-type]
                      repeat_window=program.repeat_window, review=program.review, created_at=now)


def start_due_rounds(now: datetime) -> int:
    """Hourly: record each due round once and hand them to the pairing worker (SQS batches of
    10); answers rounds handed on. A round created earlier today that is not done yet (its
    worker died) is handed on again.
    """
    store = deps.store()
    due_rounds: list[dict[str, str]] = []
    for program in store.lunch.enabled_programs():
        try:
            group = store.groups.get(program.group_id)
            if group is None:
                continue
            due = due_round(program, group.timezone, now)
            if due is None:
                continue
            round_id = scheduled_round_id(group.group_id, due)
            existing = store.lunch.get_round(group.group_id, round_id)
            if existing is None:
                created = store.lunch.create_round(_new_round(program, round_id, due.local_date,
                                                              "schedule", now))
                existing = None if created else store.lunch.get_round(group.group_id, round_id)
            if existing is not None and existing.status in ("done", "review", "expired"):
                continue  # finished, or the organizer's to approve
            due_rounds.append({"group_id": group.group_id, "round_id": round_id})
        except Exception:
            log.exception("lunch round for group %s failed to start", program.group_id)
    return workers.send_many("lunch.round", due_rounds)


def start_round_now(group_id: str, *, again: bool = False) -> LunchRound:
    """An organizer's round, now, through the same worker as the schedule's.

    Unless `again`, refused (Conflict) while another round (scheduled or not) is not done, or
    when an organizer already started one on the group's local date: a double click or a
    retry must not send everyone a second intro. The day rule holds under races because the
    round is written with a guard item for that date, and only one such write can win.
    """
    store = deps.store()
    program = lunch.get_program(group_id)
    group = store.groups.require(group_id)
    now = deps.now()
    local = timeutil.in_zone(now, group.timezone)
    running = None if again else store.lunch.unfinished_round(group_id)
    if running is not None and running.status == "review":
        raise errors.Conflict(f"The round of {_day(running)} is waiting for your review: approve it, or send "
                              '{"again": true} to start another anyway.')
    if running is not None:
        at = timeutil.in_zone(running.created_at, group.timezone)
        raise errors.Conflict(f"A round started {at:%A} {at.day} {at:%B} at {at:%H:%M} is still running. "
                              'Wait until it is done, or send {"again": true} to start another anyway.')
    round_id = ids.new_id("lrd", now_ms=int(now.timestamp() * 1000))
    if not store.lunch.create_manual_round(_new_round(program, round_id, local.date(), "manual", now),
                                           again=again):
        raise errors.Conflict(f"A round already ran today ({local:%A} {local.day} {local:%B}). "
                              'Send {"again": true} to run another.')
    workers.send("lunch.round", group_id=group_id, round_id=round_id)
    return store.lunch.require_round(group_id, round_id)


# ---------------------------------------------------------------- the worker


def run_round_work(body: dict[str, Any]) -> None:
    """The pairing worker's entry: a message carries ids only."""
    group_id, round_id = body.get("group_id"), body.get("round_id")
    if not isinstance(group_id, str) or not isinstance(round_id, str):
        log.error("pairing message without ids: %r", body)
        return
    run_round(group_id, round_id)


def run_round(group_id: str, round_id: str) -> LunchRound | None:
    """Plan and finish a round; safe to rerun at any point (see the module docstring)."""
    store = deps.store()
    now = deps.now()
    lunch_round = store.lunch.get_round(group_id, round_id)
    if lunch_round is None or lunch_round.status in ("done", "review", "expired"):
        return lunch_round  # done, or the organizer's to approve (services/review.py)
    if not store.lunch.lease_round(group_id, round_id, now, now + LEASE):
        return lunch_round  # another worker has it, or it just finished
    try:
        group = store.groups.require(group_id)
        if lunch_round.status == "started":
            lunch_round = _plan(lunch_round, now)
        if lunch_round.review and lunch_round.approved_at is None and lunch_round.pair_count:
            _hold(group, lunch_round, now)  # nothing is sent until an organizer approves
            return store.lunch.get_round(group_id, round_id)
        _finish(group, lunch_round, now)
    except BaseException:
        store.lunch.release_round(group_id, round_id)
        raise
    return store.lunch.get_round(group_id, round_id)


REVIEW_FOR = timedelta(hours=48)


def review_url(group_id: str, round_id: str) -> str:
    """The console's review page of a round (the console's routes own /console)."""
    return f"{deps.settings().base_url}/console/{group_id}/rounds/{round_id}/review"


def mail_organizers(kind: str, dedupe_key: str, group: Group, **context: Any) -> int:
    """Mail asking an organizer to act in the console: to each console organizer (they can sign
    in), else to the group's Reply-To; once per address and dedupe key."""
    if not group.organizers:
        return int(outbox.to_organizer(kind, dedupe_key, group, **context))
    return sum(outbox.to_address(kind, f"{dedupe_key}:{address}", group, address, f"{group.name} organizers",
                                 **context) for address in group.organizers)


def _hold(group: Group, lunch_round: LunchRound, now: datetime) -> None:
    """Review before sending: mail the organizer (once per round), then hold the planned round
    until 48 hours after it was planned (services/review.py takes it from there)."""
    until = (lunch_round.planned_at or now) + REVIEW_FOR
    local = timeutil.in_zone(until, group.timezone)
    day = date.fromisoformat(lunch_round.local_date)
    mail_organizers("round_review", f"round_review:{lunch_round.round_id}", group,
                        round_date=f"{day:%A} {day.day} {day:%B %Y}", pair_count=lunch_round.pair_count,
                        sat_out=len(lunch_round.sat_out),
                        review_until=f"{local:%A} {local.day} {local:%B} at {local:%H:%M} ({group.timezone})",
                        review_url=review_url(group.group_id, lunch_round.round_id))
    deps.store().lunch.hold_for_review(group.group_id, lunch_round.round_id, until)


def _waitlist_met(group_id: str, records: Mapping[str, LunchRecord], rounds: Sequence[LunchRound],
                  current_round: str) -> dict[frozenset[str], int]:
    """For the lunch repeat rule: two paired from a meetup's waitlist (services/waitlist_lunch.py)
    who did not decline met as at a round's lunch, counted from the lunch's time like an intro
    (1 = the last round; a waitlist lunch since the last round counts as that round). Reads the
    waitlist pairs the records name, in BatchGetItems of 100: none for a group without them."""
    known = {r.round_id for r in rounds}
    wanted: set[str] = set()
    for record in records.values():
        elsewhere = {met.when for met in record.meetings()} - known
        wanted.update(p for p in record.pairs if ids.round_of_pair(p) in elsewhere)
    if not wanted:
        return {}
    happened = [r for r in rounds if r.round_id != current_round and r.happened]
    found: dict[frozenset[str], int] = {}
    for pair in deps.store().lunch.get_pairs(group_id, sorted(wanted)):
        if pair.origin != "waitlist":
            continue
        ago = max(1, sum(1 for r in happened if r.created_at >= pair.created_at))
        for a, b in itertools.permutations(pair.member_ids, 2):
            mine = records.get(a)
            if mine is not None and mine.met_in(pair.round_id, b):  # a decline takes it back
                key = frozenset((a, b))
                found[key] = min(ago, found.get(key, ago))
    return found


def _profiles_and_history(group_id: str, members: Sequence[Member], current_round: str,
                          records: dict[str, LunchRecord] | None = None, around: datetime | None = None,
                          ) -> tuple[list[matching.Profile], matching.History]:
    """The matcher's view of `members`, from every record of the group (a round) or from the
    `records` given (a re-match reads only its own members'); virtual members' times as of
    `around` (default now)."""
    from chalicelib import matching

    store = deps.store()
    if records is None:
        records = store.lunch.all_records(group_id)
    order = [r.round_id for r in store.lunch.all_rounds(group_id)
             if r.round_id != current_round and r.happened]
    position = {rid: i for i, rid in enumerate(order)}
    last_round = order[-1] if order else None
    recent: dict[frozenset[str], int] = {}
    blocked: set[frozenset[str]] = set()
    for member_id, record in records.items():
        for rid, partner in record.meetings():
            if rid not in position:
                continue
            ago = len(order) - position[rid]
            key = frozenset((member_id, partner))
            recent[key] = min(ago, recent.get(key, ago))
        blocked.update(frozenset((member_id, other)) for other in record.blocked)
    meet = lunch.meetings(group_id, members, around or deps.now())  # virtual members meet in real time
    from chalicelib import feedback  # sit-outs, kept lunches, no-show pauses, reconnects

    rounds = store.lunch.all_rounds(group_id)
    facts = feedback.round_facts(records, rounds, current_round)
    for key, ago in facts.met.items():
        recent[key] = min(ago, recent.get(key, ago))
    blocked |= facts.blocked
    from chalicelib.services import intros  # two who met through an introduction or at a meetup

    for key, ago in intros.as_met(records, rounds, current_round).items():
        recent[key] = min(ago, recent.get(key, ago))
    for key, ago in _waitlist_met(group_id, records, rounds, current_round).items():  # as a round's lunch
        recent[key] = min(ago, recent.get(key, ago))
    profiles = []
    for m in members:
        record = records.get(m.member_id) or LunchRecord(member_id=m.member_id)
        met = record.meetings()
        p = m.lunch
        profiles.append(matching.Profile(
            member_id=m.member_id, name=reasons.placeholder(m.member_id), headline=m.headline,
            city=" ".join(p.city.lower().split()) if p.city else None, virtual=p.virtual,
            interests=frozenset(p.interests), goals=frozenset(p.goals), offers=tuple(p.offers),
            asks=tuple(p.asks), availability=meet.availability(m.member_id, p.availability),
            rounds_joined=len({rid for rid, _ in met}), connections=len({x for _, x in met}),
            sat_out_last=last_round is not None and record.sat_out_round == last_round,
            sat_outs=facts.sat_outs.get(m.member_id, 0), missed=facts.missed.get(m.member_id, 0),
            paused=m.member_id in facts.paused))
    return profiles, matching.History(recent_pairs=recent, blocked=frozenset(blocked))


def _met_on(group_id: str, current_round: str) -> Callable[[int], date | None]:
    """The local date of the round `ago` rounds before this one (1 = the last), as the
    matcher's history counts them, so a repeat's reason can say when they met."""
    order = [r for r in deps.store().lunch.all_rounds(group_id)
             if r.round_id != current_round and r.happened]

    def met_on(ago: int) -> date | None:
        return date.fromisoformat(order[-ago].local_date) if 0 < ago <= len(order) else None

    return met_on


def _plan(lunch_round: LunchRound, now: datetime) -> LunchRound:
    from chalicelib import matching

    store = deps.store()
    group_id, round_id = lunch_round.group_id, lunch_round.round_id
    # The index holds everyone opted in; a pause chosen in settings ends by itself on its date.
    day = date.fromisoformat(lunch_round.local_date)
    participants = sorted((m for m in store.members.lunch_participants(group_id) if m.lunch.pairable_on(day)),
                          key=lambda m: m.member_id)
    skipped = [m.member_id for m in participants if m.lunch.skip_next]
    # Pairs an earlier attempt wrote stay as they are; only the rest is planned now.
    earlier = store.lunch.pairs_of_round(group_id, round_id)
    taken = {mid for pair in earlier for mid in pair.member_ids}
    eligible = [m for m in participants if not m.lunch.skip_next and m.member_id not in taken]
    profiles, history = _profiles_and_history(group_id, eligible, round_id)
    meet = lunch.meetings(group_id, eligible, now)  # which slot each pair meets in, read in which zone
    met_on = _met_on(group_id, round_id)
    odd_rule = "sit_out" if any(len(p.member_ids) > 2 for p in earlier) else lunch_round.odd_rule
    plan = matching.plan_round(profiles, history, odd_rule=odd_rule,  # type: ignore[arg-type]
                               repeat_window=lunch_round.repeat_window, seed=seed_of(round_id))
    store.lunch.put_pairs([LunchPair(
        pair_id=ids.pair_id(round_id, planned.member_ids), round_id=round_id, group_id=group_id,
        member_ids=list(planned.member_ids), score=planned.score, reasons=reasons.stored(planned.reasons, met_on),
        slot=meet.slot(planned.member_ids, planned.slot), slot_zone=meet.zone(planned.member_ids),
        created_at=now) for planned in plan.pairs])
    total = sum(p.score for p in earlier) + plan.total_score
    paired = len(earlier) + len(plan.pairs)
    outcome = None if paired else why_nobody_was_paired(profiles, history, lunch_round.repeat_window)
    # Who still has someone new to meet once this round's pairs have met.
    met_now = {frozenset(two): 0 for p in plan.pairs for two in itertools.combinations(p.member_ids, 2)}
    after = matching.History(recent_pairs={**history.recent_pairs, **met_now}, blocked=history.blocked)
    left = matching.new_pairs_left(profiles, after)
    people = len(taken) + len(profiles)
    return store.lunch.mark_planned(group_id, round_id, pair_count=paired, sat_out=plan.sat_out,
                                    skipped=skipped, total_score=total, at=now, outcome=outcome,
                                    new_pairs_left=left, participants=people,
                                    running_dry=running_dry(people, left))


def replan(lunch_round: LunchRound, tables: Sequence[Sequence[str]],
           members: Mapping[str, Member]) -> list[LunchPair]:
    """The pairs (or trios) `tables` as the round would have planned them: score, reasons and
    slot, under the round's hard rules (an organizer's edit of a round in review). Raises
    errors.Conflict naming the two members and the rule when a table breaks one."""
    from chalicelib import matching

    group_id, round_id = lunch_round.group_id, lunch_round.round_id
    around = lunch_round.planned_at or deps.now()
    people = [members[m] for table in tables for m in table]
    profiles, history = _profiles_and_history(group_id, people, round_id, around=around)
    by_id = {p.member_id: p for p in profiles}
    for table in tables:
        for a, b in itertools.combinations(table, 2):
            why = _why_apart(by_id[a], by_id[b], history, lunch_round.repeat_window)
            if why:
                raise errors.Conflict(f"{members[a].name} and {members[b].name} can't be paired: {why}.",
                                      field="swap")
        seated = [by_id[m] for m in table]
        if len(table) > 2 and all(p.availability for p in seated) and matching.suggest_slot(seated) is None:
            raise errors.Conflict("the three have no time they can all make.", field="swap")
    met = history.recent_pairs if lunch_round.repeat_window is None else {}
    met_on = _met_on(group_id, round_id)
    meet = lunch.meetings(group_id, people, around)
    made = []
    for table in tables:
        planned = matching.describe_pair([by_id[m] for m in table], met)
        made.append(LunchPair(
            pair_id=ids.pair_id(round_id, planned.member_ids), round_id=round_id, group_id=group_id,
            member_ids=list(planned.member_ids), score=planned.score,
            reasons=reasons.stored(planned.reasons, met_on), slot=meet.slot(planned.member_ids, planned.slot),
            slot_zone=meet.zone(planned.member_ids), created_at=deps.now()))
    return made


def _why_apart(a: matching.Profile, b: matching.Profile, history: matching.History,
               repeat_window: int | None) -> str | None:
    """Which hard rule keeps two members apart, in words, or None (matching.can_pair's rules)."""
    from chalicelib import matching

    block_a, block_b = matching.block_of(a), matching.block_of(b)
    if block_a is None or block_b is None:
        return "a member with no city and not meeting online is paired with nobody"
    if block_a != block_b:
        return "they are not in the same city" if "virtual" not in (block_a, block_b) else \
            "one meets online and the other in person"
    if a.availability and b.availability and not a.availability & b.availability:
        return "they have no time in common"
    pair = frozenset((a.member_id, b.member_id))
    if pair in history.blocked:
        return "one of them asked not to be paired with the other"
    if not matching.can_pair(a, b, matching.forbidden_pairs(history, repeat_window)):
        ago = history.recent_pairs.get(pair)
        return f"they met {ago} round{'s' if ago != 1 else ''} ago, within the repeat window of {repeat_window}"
    return None


DRY_SHARE = 4  # a programme runs dry when more than 1/DRY_SHARE of its members have nobody new


def running_dry(participants: int, new_pairs_left: int) -> bool:
    """More than a quarter of the round's members would have nobody new to meet next round."""
    return participants >= 2 and (participants - new_pairs_left) * DRY_SHARE > participants


def why_nobody_was_paired(profiles: Sequence[matching.Profile], history: matching.History,
                          repeat_window: int | None) -> str:
    """A round that paired nobody says why, in words an organizer can act on (pure)."""
    from chalicelib import matching

    if len(profiles) < 2:
        return "only one member opted in" if profiles else "nobody has opted in"
    by_block: dict[str, list[matching.Profile]] = {}
    for profile in profiles:
        block = matching.block_of(profile)
        if block is not None:
            by_block.setdefault(block, []).append(profile)
    if all(len(members) < 2 for members in by_block.values()):
        return "no two members are in the same city or both meet online"
    feasible = [frozenset((a.member_id, b.member_id)) for members in by_block.values()
                for a, b in itertools.combinations(members, 2) if matching.can_pair(a, b, frozenset())]
    if not feasible:
        return "nobody has a common slot"
    met = matching.forbidden_pairs(matching.History(recent_pairs=history.recent_pairs), repeat_window)
    if all(pair in met for pair in feasible):
        return "everyone has met everyone they can meet"
    forbidden = matching.forbidden_pairs(history, repeat_window)
    if all(pair in forbidden for pair in feasible):
        return "everyone who could meet has met or asked not to meet again"
    return "the matching found no pair"


def _finish(group: Group, lunch_round: LunchRound, now: datetime) -> None:
    store = deps.store()
    group_id, round_id = group.group_id, lunch_round.round_id
    pairs = store.lunch.pairs_of_round(group_id, round_id)
    everyone = {mid for p in pairs for mid in p.member_ids}
    members = {m.member_id: m for m in store.members.get_many(group_id, sorted(everyone))}
    store.lunch.record_round(group_id, round_id, pairs)
    for mid in lunch_round.sat_out:
        store.lunch.record_sat_out(group_id, mid, round_id)
    for mid in lunch_round.skipped:
        _clear_skip(group_id, mid, now)
    batch = []
    for pair in pairs:
        for mid in pair.member_ids:
            member = members.get(mid)
            if member is not None:
                batch.append((member, _intro(group, member, pair, members)))
    outbox.queue_many(group, batch)
    _tell_organizer(group, lunch_round, paired=bool(pairs))
    store.lunch.mark_done(group_id, round_id, at=now, followup_at=now + FOLLOWUP_AFTER)
    observe.count(observe.ROUNDS_RUN)


# ---------------------------------------------------------------- re-matches


def rematch_work(body: dict[str, Any]) -> int:
    """The pairing worker: re-match a round's stranded members, then clear its timer (unless
    another decline set it again meanwhile: then the next hourly run does the rest)."""
    from chalicelib.services import pairs

    ids = pairs.timer_ids(body)
    if ids is None:
        return 0
    group_id, round_id, armed_at = ids
    made = rematch(group_id, round_id, deps.now())
    deps.store().lunch.clear_timer(group_id, pairs.REMATCH, round_id, armed_at)
    return len(made)


def stranded(pairs_of_round: Sequence[LunchPair]) -> list[str]:
    """Members a decline left alone at a table the round made, and not re-matched yet this
    round (nobody is re-matched twice)."""
    from chalicelib.services import pairs

    rematched = {m for p in pairs_of_round if p.origin == "rematch" for m in p.member_ids}
    alone = {m for p in pairs_of_round if p.origin == "round" for m in pairs.still_in(p)
             if len(pairs.still_in(p)) == 1}
    return sorted(alone - rematched)


def rematch(group_id: str, round_id: str, now: datetime) -> list[LunchPair]:
    """Pair the round's stranded members among themselves, under the round's hard rules and
    scorer, and send each a fresh intro; whoever can't be paired is told so and sits out
    first next round. Reads the round's pairs and the stranded members only (no Scan).
    Rerunnable: re-matched members are not stranded any more, pairs have fixed ids."""
    from chalicelib import matching

    store = deps.store()
    group = store.groups.get(group_id)
    lunch_round = store.lunch.get_round(group_id, round_id)
    if group is None or lunch_round is None or lunch_round.status != "done":
        return []
    alone = stranded(store.lunch.pairs_of_round(group_id, round_id))
    if not alone:
        return []
    members = {m.member_id: m for m in store.members.get_many(group_id, alone)}
    today = timeutil.in_zone(now, group.timezone).date()
    eligible = [members[m] for m in alone if m in members
                and members[m].lunch.pairable_on(today) and members[m].mailable]
    profiles, history = _profiles_and_history(group_id, eligible, round_id,
                                              records=store.lunch.get_records(group_id, alone))
    plan = matching.plan_round(profiles, history, odd_rule=lunch_round.odd_rule,  # type: ignore[arg-type]
                               repeat_window=lunch_round.repeat_window, seed=seed_of(round_id + "/rematch"))
    met_on = _met_on(group_id, round_id)
    meet = lunch.meetings(group_id, eligible, now)
    made = [LunchPair(pair_id=ids.pair_id(round_id, planned.member_ids), round_id=round_id,
                      group_id=group_id, member_ids=list(planned.member_ids), score=planned.score,
                      reasons=reasons.stored(planned.reasons, met_on),
                      slot=meet.slot(planned.member_ids, planned.slot), slot_zone=meet.zone(planned.member_ids),
                      origin="rematch", created_at=now) for planned in plan.pairs]
    store.lunch.put_pairs(made)
    store.lunch.record_round(group_id, round_id, made)
    paired = {m for p in made for m in p.member_ids}
    batch = [(members[mid], _intro(group, members[mid], pair, members)) for pair in made
             for mid in pair.member_ids]
    for mid in alone:
        if mid in paired or mid not in members:
            continue
        store.lunch.record_sat_out(group_id, mid, round_id)
        batch.append((members[mid], outbox.email(
            "lunch_unmatched", f"lunch_unmatched:{round_id}:{mid}", group, members[mid],
            preferences_url=links.lunch_url(group_id, mid))))
    outbox.queue_many(group, batch)
    return made


def _tell_organizer(group: Group, lunch_round: LunchRound, *, paired: bool) -> None:
    """A round that paired nobody is never silent: the organizer hears why, once per round.
    A programme running out of new pairs is announced once, by the round that crosses the
    line (the round before it also ran dry said it already)."""
    day = date.fromisoformat(lunch_round.local_date)
    round_date = f"{day:%A} {day.day} {day:%B %Y}"
    if not paired:
        outbox.to_organizer("round_empty", f"round_empty:{lunch_round.round_id}", group, round_date=round_date,
                            outcome=lunch_round.outcome or "the matching found no pair",
                            participants=lunch_round.participants)
        return
    if not lunch_round.running_dry:
        return
    done = [r for r in deps.store().lunch.all_rounds(group.group_id)
            if r.status == "done" and r.round_id != lunch_round.round_id]
    if done and done[-1].running_dry:
        return
    outbox.to_organizer("program_running_dry", f"program_running_dry:{lunch_round.round_id}", group,
                        round_date=round_date, participants=lunch_round.participants,
                        new_pairs_left=lunch_round.new_pairs_left or 0,
                        no_one_new=lunch_round.participants - (lunch_round.new_pairs_left or 0),
                        repeat_window=lunch_round.repeat_window)


def _day(lunch_round: LunchRound) -> str:
    day = date.fromisoformat(lunch_round.local_date)
    return f"{day:%A} {day.day} {day:%B}"


def _clear_skip(group_id: str, member_id: str, now: datetime) -> None:
    def edit(member: Member) -> Member:
        if not member.lunch.skip_next:
            return member
        return member.model_copy(update={"lunch": member.lunch.model_copy(update={"skip_next": False}),
                                         "updated_at": now})

    with contextlib.suppress(errors.NotFound):
        deps.store().members.change(group_id, member_id, edit)


def _intro(group: Group, member: Member, pair: LunchPair, members: dict[str, Member]) -> outbox.Email:
    # One intro per member per round; a re-match's fresh intro is keyed by its own pair.
    what = pair.round_id if pair.origin == "round" else pair.pair_id
    return outbox.email("lunch_intro", f"lunch_intro:{what}:{member.member_id}", group, member,
                        rematch=pair.origin == "rematch",
                        partners=reasons.partners(pair, member.member_id, members),
                        reasons=reasons.in_words(pair, members, reader=member.member_id),
                        suggested_slot=pair.slot,
                        pairing_url=links.pairing_url(group.group_id, pair.pair_id, member.member_id))


# ---------------------------------------------------------------- organizer views


def list_rounds(group_id: str, limit: int, cursor: str | None) -> tuple[list[LunchRound], str | None]:
    return deps.store().lunch.list_rounds(group_id, limit=limit, cursor=cursor)


def round_detail(group_id: str, round_id: str) -> dict[str, Any]:
    """A round with its pairs (member ids, names, score, reasons in words, slot, responses,
    feedback) and sit-outs."""
    store = deps.store()
    group = store.groups.require(group_id)
    lunch_round = store.lunch.require_round(group_id, round_id)
    pairs = sorted(store.lunch.pairs_of_round(group_id, round_id), key=lambda p: p.member_ids)
    wanted = sorted({m for p in pairs for m in p.member_ids} | set(lunch_round.sat_out))
    members = {m.member_id: m for m in store.members.get_many(group_id, wanted)}
    out = lunch_round.out(group.timezone)
    out["pairs"] = [{
        "pair_id": p.pair_id, "member_ids": p.member_ids,
        "names": [members[m].name if m in members else None for m in p.member_ids],
        "score": p.score, "reasons": reasons.in_words(p, members), "slot": p.slot, "slot_zone": p.slot_zone,
        "origin": p.origin, "connected": p.connected_at is not None,
        "responses": p.responses,
        "feedback": {m: {"met": f.met, "rating": f.rating, "note": f.note, "no_show": f.no_show}
                     for m, f in p.feedback.items()},
    } for p in pairs]
    out["sat_out"] = [{"member_id": m, "name": members[m].name if m in members else None}
                      for m in lunch_round.sat_out]
    return out


# ---------------------------------------------------------------- erasure


def mail_about(pair: LunchPair, member_id: str, partner: str) -> list[str]:
    """The dedupe keys of every email `partner` may have had about this pair that speaks of
    `member_id`: the intro, the address on connecting, a decline, a nudge, the follow-up."""
    intro = pair.round_id if pair.origin == "round" else pair.pair_id
    return [f"lunch_intro:{intro}:{partner}", f"lunch_followup:{pair.round_id}:{partner}",
            f"lunch_connected:{pair.pair_id}:{partner}", f"lunch_declined:{pair.pair_id}:{member_id}:{partner}",
            f"lunch_nudge:{pair.pair_id}:{partner}"]


def forget_member(group_id: str, member_id: str) -> None:
    """Erasure: drop the member's answers and the reasons quoting their words from every pair
    they were in, the words of their partners' intros and follow-ups, and their lunch record.
    Pairs keep the bare member id (it names no one once the member item is gone)."""
    store = deps.store().lunch
    record = store.get_record(group_id, member_id)
    for pair in store.get_pairs(group_id, record.pairs):
        kept = [r for r in pair.reasons if not reasons.mentions(r, member_id)]
        store.scrub_pair(group_id, pair.pair_id, member_id, kept)
        # Their partners' mail about this pair named this member, quoted them, or gave their address.
        for partner in pair.member_ids:
            if partner != member_id:
                outbox.scrub(group_id, partner, mail_about(pair, member_id, partner))
    store.delete_record(group_id, member_id)


