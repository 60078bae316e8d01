"""1,000 random RSVP races on Amazon's engine (DynamoDB Local), from a thread pool.

Members answer going (with 0-2 guests) and not going, change their guests, decline, and the
organizer changes capacities (the meetups service), all at once over several meetups. After
each batch of 100 and at the end, read the whole table with a raw Scan and check:

- capacity: going seats <= capacity. The rule when an organizer LOWERS capacity below the seats
  already taken: the app never un-seats anyone (services/meetups.update_meetup only rewrites the
  capacity; RSVP transactions own the counters). Then nobody new gets a seat until the count is
  under the new capacity, so going seats <= max(capacity, seats taken when it was lowered);
- counters: the meetup's going_seats == the sum of seats of going RSVPs, waitlist_count == the
  number of waitlisted RSVPs == the number of waitlist entries;
- one state per RSVP: its status index (GSI1PK) says its status, and it has a waitlist entry
  (with its guests and version) iff it is waitlisted;
- waitlist order: nobody waits while seats they fit in are free, and no one was promoted past
  an earlier waitlisted member (unchanged since) who needed no more seats than they did;
- no lost answer: each member's final RSVP is their last successful answer (highest version),
  or that answer (waitlisted) followed by exactly one promotion.

Seeded random: the same operations every run (thread timing still varies, as in production).
"""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from chalicelib import deps, errors
from chalicelib.models import GroupIn, MeetupIn, MeetupPatch, MemberIn, RsvpAnswer
from chalicelib.services import groups, meetups, members, rsvp
from chalicelib.store import keys
from chalicelib.store.schema import GSI1PK
from chalicelib.tokens import Claims

SEED = 20261127
RACES = 1_000
BATCH = 100
THREADS = 16
MEMBERS = 30
# (capacity, guests_allowed, waitlist)
MEETUPS = [(6, 2, True), (10, 1, True), (4, 0, True), (8, 2, False)]


class TickingClock:
    """Every reading is 1 ms later than the last (thread-safe), so waitlisted_at orders members."""

    def __init__(self, start: datetime) -> None:
        self.current = start
        self.lock = threading.Lock()

    def __call__(self) -> datetime:
        with self.lock:
            self.current += timedelta(milliseconds=1)
            return self.current


@dataclass
class Ledger:
    """What the races did: successful answers (with the RSVP they produced), failures,
    capacity changes (with the seats taken at that instant)."""

    answers: dict[tuple[str, str], list[tuple[int, str, int]]] = field(default_factory=lambda: defaultdict(list))
    outcomes: Counter[str] = field(default_factory=Counter)
    capacity: dict[str, tuple[datetime, int | None, int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _claims(meetup: Any, member_id: str) -> Claims:
    return Claims(purpose="rsvp", group_id=meetup.group_id, member_id=member_id,
                  resource_id=meetup.meetup_id, expires_at=meetup.ends_at + timedelta(days=7))


def run_op(op: tuple[Any, ...], ledger: Ledger) -> None:
    kind = op[0]
    if kind == "capacity":
        _, group_id, meetup_id, capacity = op
        try:
            updated = meetups.update_meetup(group_id, meetup_id, MeetupPatch(capacity=capacity))
        except errors.Unavailable:
            with ledger.lock:
                ledger.outcomes["capacity_unavailable"] += 1
            return
        with ledger.lock:
            ledger.outcomes["capacity_changed"] += 1
            last = ledger.capacity.get(meetup_id)
            if last is None or updated.updated_at >= last[0]:
                ledger.capacity[meetup_id] = (updated.updated_at, updated.capacity, updated.going_seats)
        return
    _, meetup, member_id, status, guests = op
    try:
        answered = rsvp.answer(_claims(meetup, member_id), RsvpAnswer(status=status, guests=guests))
    except rsvp.MeetupFull:
        outcome = "full"
    except errors.Unavailable:
        outcome = "unavailable"
    else:
        assert answered.rsvp is not None
        with ledger.lock:
            ledger.answers[(meetup.meetup_id, member_id)].append(
                (answered.rsvp.version, answered.rsvp.status, answered.rsvp.guests))
        outcome = "answered" if answered.changed else "unchanged"
    with ledger.lock:
        ledger.outcomes[outcome] += 1


def scan(raw: Any, table: str) -> list[dict[str, Any]]:
    from boto3.dynamodb.types import TypeDeserializer

    des = TypeDeserializer()
    items: list[dict[str, Any]] = []
    for page in raw.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items.extend({k: des.deserialize(v) for k, v in i.items()} for i in page["Items"])
    return items


@dataclass(frozen=True)
class State:
    meetups: dict[str, dict[str, Any]]
    rsvps: dict[tuple[str, str], dict[str, Any]]
    waits: dict[tuple[str, str], dict[str, Any]]


def read_state(raw: Any, table: str) -> State:
    found: dict[str, dict[str, Any]] = {}
    rsvps: dict[tuple[str, str], dict[str, Any]] = {}
    waits: dict[tuple[str, str], dict[str, Any]] = {}
    for item in scan(raw, table):
        kind = item.get("type")
        if kind == "meetup":
            found[item["meetup_id"]] = item
        elif kind == "rsvp":
            rsvps[(item["meetup_id"], item["member_id"])] = item
        elif kind == "waitlist_entry":
            meetup_id = item["PK"].removeprefix(keys.MEETUP_PREFIX)
            assert (meetup_id, item["member_id"]) not in waits, "two waitlist entries for one RSVP"
            waits[(meetup_id, item["member_id"])] = item
    return State(found, rsvps, waits)


def check(state: State, previous: State | None, ledger: Ledger) -> None:
    for meetup_id, meetup in state.meetups.items():
        mine = {k: r for k, r in state.rsvps.items() if k[0] == meetup_id}
        going = [r for r in mine.values() if r["status"] == "going"]
        waiting = [r for r in mine.values() if r["status"] == "waitlisted"]
        seats = sum(1 + int(r["guests"]) for r in going)
        # counters
        assert int(meetup["going_seats"]) == seats, (meetup_id, meetup["going_seats"], seats)
        entries = {k: w for k, w in state.waits.items() if k[0] == meetup_id}
        assert int(meetup["waitlist_count"]) == len(waiting) == len(entries), meetup_id
        # one state per RSVP
        for (mid, member_id), r in mine.items():
            assert r[GSI1PK] == keys.rsvps_with_status(mid, r["status"]), (member_id, r["status"], r[GSI1PK])
            entry = entries.get((mid, member_id))
            if r["status"] == "waitlisted":
                assert entry is not None, (member_id, "waitlisted without a waitlist entry")
                assert (int(entry["guests"]), int(entry["version"])) == (int(r["guests"]), int(r["version"]))
                assert entry["waitlisted_at"] == r["waitlisted_at"]
            else:
                assert entry is None, (member_id, r["status"], "has a waitlist entry")
        # capacity: never exceeded, unless lowered below the seats already taken (never un-seated)
        capacity = meetup.get("capacity")
        if capacity is not None:
            capacity = int(capacity)
            lowered = ledger.capacity.get(meetup_id)
            allowed = capacity
            if lowered is not None and lowered[1] == capacity:
                allowed = max(capacity, lowered[2])
            assert seats <= allowed, (meetup_id, seats, capacity, lowered)
        # order: nobody waits while a seat they fit in is free
        left = None if capacity is None else capacity - seats
        for r in waiting:
            assert left is not None and 1 + int(r["guests"]) > left, (
                meetup_id, r["member_id"], "waits though", left, "seats are free")
        if previous is None:
            continue
        # order: a promotion in this batch never passed an earlier, unchanged, no-bigger waiter
        was_waiting = {k[1]: r for k, r in previous.rsvps.items()
                       if k[0] == meetup_id and r["status"] == "waitlisted"}
        still = [r for r in waiting if r["member_id"] in was_waiting
                 and int(was_waiting[r["member_id"]]["version"]) == int(r["version"])]
        for r in going:
            before = was_waiting.get(r["member_id"])
            if before is None or "promoted_at" not in r or int(r["version"]) != int(before["version"]) + 1:
                continue
            for other in still:
                assert not (other["waitlisted_at"] < before["waitlisted_at"]
                            and int(other["guests"]) <= int(before["guests"])), (
                    meetup_id, "promoted", r["member_id"], "before earlier", other["member_id"])


def check_no_lost_answer(state: State, ledger: Ledger) -> int:
    checked = 0
    for pair, results in ledger.answers.items():
        final = state.rsvps.get(pair)
        assert final is not None, (pair, "answered but has no RSVP")
        version, status, guests = max(results)
        got = (int(final["version"]), final["status"], int(final["guests"]))
        if got[0] == version:
            assert got == (version, status, guests), (pair, "last answer", (version, status, guests), "final", got)
        else:
            # only a promotion may come after the last answer: waitlisted -> going, same guests
            assert (got, status) == ((version + 1, "going", guests), "waitlisted") and "promoted_at" in final, (
                pair, "last answer", (version, status, guests), "final", got)
        checked += 1
    return checked


def plan(rng: random.Random, group_id: str, created: list[Any], member_ids: list[str]) -> list[tuple[Any, ...]]:
    ops: list[tuple[Any, ...]] = []
    for _ in range(RACES):
        roll = rng.random()
        meetup = rng.choice(created)
        if roll < 0.06:
            ops.append(("capacity", group_id, meetup.meetup_id, rng.choice([None, 1, 2, 3, 5, 8, 12, 16])
                        if rng.random() < 0.15 else rng.randint(1, 16)))
            continue
        member_id = rng.choice(member_ids)
        if roll < 0.35:
            ops.append(("answer", meetup, member_id, "not_going", 0))
        else:
            ops.append(("answer", meetup, member_id, "going", rng.randint(0, meetup.guests_allowed)))
    return ops


def test_1000_random_rsvp_races_keep_capacity_counters_order_and_every_answer(
        local_table: str, ddb_local_endpoint: str) -> None:
    clock = TickingClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    deps.set_clock(clock)
    group, _ = groups.create_group(GroupIn(name="Races", timezone="Europe/Lisbon", sender_name="Races",
                                           reply_to="org@example.com"))
    people, _ = members.add_members(group.group_id, [
        MemberIn(email=f"racer{i}@example.com", name=f"Racer {i}") for i in range(MEMBERS)])
    start = clock() + timedelta(days=30)
    created = [meetups.create_meetup(group.group_id, MeetupIn(
        title=f"Race {n}", starts_at=start, ends_at=start + timedelta(hours=2), timezone="Europe/Lisbon",
        online_url="https://meet.example.com/race", capacity=cap, guests_allowed=guests, waitlist=wl))
        for n, (cap, guests, wl) in enumerate(MEETUPS)]
    ops = plan(random.Random(SEED), group.group_id, created, [m.member_id for m in people])
    raw = boto3.client("dynamodb", endpoint_url=ddb_local_endpoint, region_name="us-east-1",
                       aws_access_key_id="local", aws_secret_access_key="local")
    ledger = Ledger()
    deps.store()  # build the shared store (and its thread-safe client) before the threads

    previous: State | None = None
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for first in range(0, len(ops), BATCH):
            list(pool.map(lambda op: run_op(op, ledger), ops[first:first + BATCH]))
            state = read_state(raw, local_table)
            check(state, previous, ledger)
            previous = state
    checked = check_no_lost_answer(previous, ledger) if previous else 0

    outcomes = ledger.outcomes
    assert sum(outcomes.values()) == RACES
    assert outcomes["answered"] > 300 and outcomes["capacity_changed"] > 20, outcomes
    assert outcomes["unavailable"] + outcomes["capacity_unavailable"] <= RACES // 100, outcomes
    final_status = Counter(r["status"] for r in previous.rsvps.values()) if previous else Counter()
    promoted = sum(1 for r in (previous.rsvps.values() if previous else []) if "promoted_at" in r)
    print(f"\nRSVP races: {RACES} operations in batches of {BATCH} on {THREADS} threads; outcomes "
          f"{dict(outcomes)}; final {dict(final_status)}, {promoted} promoted; {checked} members' last "
          f"answers checked: nothing lost")
