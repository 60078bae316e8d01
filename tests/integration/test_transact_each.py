"""Nothing is dropped (issue 10, item 6): every chunked writer of the store goes through
`Db.transact_each`, on DynamoDB Local, with transactions cancelled for conflicts.

Faults are injected on the wire: a `before-call.dynamodb.TransactWriteItems` hook answers the
first N calls with a TransactionCanceledException whose reasons hold TransactionConflict for
some actions (the engine never sees those calls, just as a cancelled transaction writes
nothing). A concurrent writer with its own client writes some of the same items for real
between two calls, so the engine itself refuses them. The table is then read back raw.
(A real TransactionConflict cannot be provoked here: DynamoDB Local runs transactions one at
a time, so racing writers on the same items only ever see ConditionalCheckFailed.)
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from chalicelib import deps, errors, ids
from chalicelib.models import Group, LunchPair, Member
from chalicelib.store import Store, keys
from chalicelib.store.core import BUSY_TRIES
from chalicelib.store.outbox import Mail

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class _Raw:
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield b"{}"


@dataclass
class Conflicts:
    """Cancels the first `times` TransactWriteItems calls (all of them when None; per thread
    when `per_thread`) with TransactionConflict on every third action; `before[n]` runs a real
    write before call n."""

    times: int | None
    calls: int = 0
    injected: int = 0
    sizes: list[int] = field(default_factory=list)
    before: dict[int, Callable[[], None]] = field(default_factory=dict)
    per_thread: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    _injected_by: Counter[int] = field(default_factory=Counter)

    def __call__(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        size = len(json.loads(params["body"])["TransactItems"])
        with self.lock:
            self.calls += 1
            self.sizes.append(size)
            write = self.before.pop(self.calls, None)
            me = threading.get_ident() if self.per_thread else 0
            passes = self.times is not None and self._injected_by[me] >= self.times
            if not passes:
                self.injected += 1
                self._injected_by[me] += 1
        if write is not None:
            write()
        if passes:
            return None  # on to the engine
        reasons = [
            {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
            if i % 3 == 0
            else {"Code": "None"}
            for i in range(size)
        ]
        parsed = {
            "Error": {
                "Code": "TransactionCanceledException",
                "Message": "Transaction cancelled, please refer cancellation reasons",
            },
            "CancellationReasons": reasons,
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return AWSResponse("https://conflict.invalid/", 400, {}, _Raw()), parsed


@dataclass
class Wire:
    sleeps: list[float]
    other: Store  # a second writer with its own client, on the same table

    def conflicts(self, times: int | None, *, per_thread: bool = False) -> Conflicts:
        c = Conflicts(times, per_thread=per_thread)
        deps.dynamodb_client().meta.events.register_first("before-call.dynamodb.TransactWriteItems", c)
        return c

    def raw(self, partition: str, prefix: str) -> list[dict[str, Any]]:
        """Every item under `prefix` in a partition, straight off the client."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": deps.settings().table_name,
            "ConsistentRead": True,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :p)",
            "ExpressionAttributeValues": {":pk": {"S": partition}, ":p": {"S": prefix}},
        }
        while True:
            page = deps.dynamodb_client().query(**kwargs)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.fixture
def wire(local_table: str, ddb_local_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Wire:
    sleeps: list[float] = []
    monkeypatch.setattr(deps.store().db, "sleep", sleeps.append)
    other = boto3.client("dynamodb", endpoint_url=ddb_local_endpoint, region_name="us-east-1")
    return Wire(sleeps, Store(other, local_table, "another writer"))


def group() -> Group:
    g = Group(group_id=ids.new_id("grp"), name="G", timezone="Europe/Lisbon", sender_name="G", created_at=T0)
    deps.store().groups.create(g)
    return g


def member(group_id: str, email: str) -> Member:
    return Member(
        member_id=ids.new_id("mem"),
        group_id=group_id,
        email=email,
        name=email.split("@")[0],
        created_at=T0,
        updated_at=T0,
    )


def mail(group_id: str, member_id: str, key: str) -> Mail:
    return Mail(
        mail_id=keys.mail_id(key),
        group_id=group_id,
        member_id=member_id,
        kind="note",
        dedupe_key=key,
        subject="s",
        text="t",
        html="<p>h</p>",
        created_at=T0,
    )


def assert_backed_off(sleeps: list[float], times: int) -> None:
    assert len(sleeps) == times, sleeps
    assert all(0.0125 <= s <= 1.0 for s in sleeps), sleeps
    assert sleeps[-1] > sleeps[0]  # doubling (with jitter in the upper half only)


# ---- the outbox: a conflict must never turn a mail into "already sent"


def test_add_new_under_conflicts_records_every_mail_once_and_answers_every_new_one(wire: Wire) -> None:
    g = group()
    mails = [mail(g.group_id, f"mem_{i % 7}", f"note:{i}") for i in range(250)]
    c = wire.conflicts(times=6)
    # Another worker records three of the mails between our read and our write: the engine
    # refuses them, and they are theirs to deliver, not ours.
    c.before[7] = lambda: wire.other.outbox.add_new([mails[3], mails[120], mails[249]]) and None

    added = deps.store().outbox.add_new(mails)

    ids_added = [m.mail_id for m in added]
    assert len(ids_added) == len(set(ids_added)) == 247  # nothing doubled
    assert set(ids_added) == {m.mail_id for m in mails} - {mails[i].mail_id for i in (3, 120, 249)}
    recorded = Counter(
        i["mail_id"]["S"]
        for mid in sorted({m.member_id for m in mails})
        for i in wire.raw(keys.mailbox(g.group_id, mid), keys.MAIL_PREFIX)
    )
    assert recorded == Counter({m.mail_id: 1 for m in mails})  # every mail recorded exactly once
    assert c.injected == 6 and max(c.sizes) <= 100
    assert_backed_off(wire.sleeps, 6)
    assert deps.store().outbox.add_new(mails) == []  # and a rerun adds nothing


def test_add_new_when_conflicts_persist_raises_unavailable_instead_of_answering_fewer(wire: Wire) -> None:
    g = group()
    mails = [mail(g.group_id, "mem_1", f"note:{i}") for i in range(150)]
    c = wire.conflicts(times=None)

    with pytest.raises(errors.Unavailable):
        deps.store().outbox.add_new(mails)

    assert c.calls == BUSY_TRIES and len(wire.sleeps) == BUSY_TRIES - 1  # bounded, then up
    assert sum(wire.sleeps) < 5  # short enough for a request
    c.times = c.injected  # the table calms down; the retry (request or SQS) records them all
    assert len(deps.store().outbox.add_new(mails)) == 150


def test_add_new_racing_itself_under_conflicts_answers_each_mail_to_exactly_one_caller(wire: Wire) -> None:
    """Four workers record the same 300 mails at once (an SQS redelivery, a retried request):
    each mail is answered as new by exactly one of them, so it is delivered once, not never."""
    g = group()
    mails = [mail(g.group_id, f"mem_{i % 11}", f"note:{i}") for i in range(300)]
    c = wire.conflicts(times=6, per_thread=True)  # each worker's first chunk, six times over
    start = threading.Barrier(4)

    def record(_: int) -> list[str]:
        start.wait()
        return [m.mail_id for m in deps.store().outbox.add_new(mails)]

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(record, range(4)))

    assert c.injected == 24
    assert Counter(mid for answer in answers for mid in answer) == Counter({m.mail_id: 1 for m in mails})
    recorded = Counter(
        i["mail_id"]["S"]
        for mid in sorted({m.member_id for m in mails})
        for i in wire.raw(keys.mailbox(g.group_id, mid), keys.MAIL_PREFIX)
    )
    assert recorded == Counter({m.mail_id: 1 for m in mails})


# ---- members: the email guard refuses, and names the member who has the address


def test_create_many_under_conflicts_creates_each_email_once(wire: Wire) -> None:
    g = group()
    emails = [f"p{i}@example.com" for i in range(120)]  # 240 actions: 3 transactions
    c = wire.conflicts(times=6)
    theirs: list[Member] = []

    def meanwhile() -> None:  # someone adds two of the addresses first, with their own ids
        created, _ = wire.other.members.create_many(
            g.group_id, [member(g.group_id, emails[5]), member(g.group_id, emails[77])]
        )
        theirs.extend(created)

    c.before[3] = meanwhile

    created, existed = deps.store().members.create_many(g.group_id, [member(g.group_id, e) for e in emails])

    assert len(theirs) == 2
    assert sorted(m.email for m in created) == sorted(set(emails) - {emails[5], emails[77]})
    assert {(m.email, m.member_id) for m in existed} == {(m.email, m.member_id) for m in theirs}
    stored = Counter(i["email"]["S"] for i in wire.raw(keys.group_pk(g.group_id), keys.MEMBER_PREFIX))
    assert stored == Counter(set(emails))  # one member per email, nothing doubled
    guards = wire.raw(keys.group_pk(g.group_id), "EMAIL#")
    assert len(guards) == 120
    by_id = {i["member_id"]["S"] for i in wire.raw(keys.group_pk(g.group_id), keys.MEMBER_PREFIX)}
    assert {gd["member_id"]["S"] for gd in guards} == by_id  # each guard names a stored member
    assert c.injected == 6 and max(c.sizes) <= 100 and all(s % 2 == 0 for s in c.sizes)
    assert_backed_off(wire.sleeps, 6)


def test_create_many_when_conflicts_persist_raises_unavailable(wire: Wire) -> None:
    g = group()
    wire.conflicts(times=None)
    with pytest.raises(errors.Unavailable):
        deps.store().members.create_many(g.group_id, [member(g.group_id, f"q{i}@x.com") for i in range(3)])
    gpk = keys.group_pk(g.group_id)
    assert wire.raw(gpk, keys.MEMBER_PREFIX) == [] and wire.raw(gpk, "EMAIL#") == []


# ---- lunch: pairs and the per-member records of a round


def pairs_of(g: Group, n: int, round_id: str = "rnd_1") -> list[LunchPair]:
    return [
        LunchPair(
            pair_id=f"{round_id}-{i:03d}",
            round_id=round_id,
            group_id=g.group_id,
            member_ids=[f"mem_{2 * i}", f"mem_{2 * i + 1}"],
            created_at=T0,
        )
        for i in range(n)
    ]


def test_put_pairs_under_conflicts_writes_each_pair_once(wire: Wire) -> None:
    g = group()
    pairs = pairs_of(g, 230)
    c = wire.conflicts(times=6)
    c.before[8] = lambda: wire.other.lunch.put_pairs([pairs[150]]) and None  # a rerun of the round

    assert deps.store().lunch.put_pairs(pairs) == 229

    stored = Counter(i["pair_id"]["S"] for i in wire.raw(keys.group_pk(g.group_id), keys.LUNCH_PAIR_PREFIX))
    assert stored == Counter({p.pair_id: 1 for p in pairs})
    assert_backed_off(wire.sleeps, 6)
    assert deps.store().lunch.put_pairs(pairs) == 0


def test_record_round_under_conflicts_records_every_member_once(wire: Wire) -> None:
    g = group()
    pairs = pairs_of(g, 80)  # 160 updates: 2 transactions
    c = wire.conflicts(times=6)

    deps.store().lunch.record_round(g.group_id, "rnd_1", pairs)

    records = {i["member_id"]["S"]: i for i in wire.raw(keys.group_pk(g.group_id), keys.LUNCH_MEMBER_PREFIX)}
    assert len(records) == 160
    for p in pairs:
        a, b = p.member_ids
        assert records[a]["pairs"] == {"SS": [p.pair_id]} and records[a]["met"] == {"SS": [f"rnd_1/{b}"]}
        assert records[b]["pairs"] == {"SS": [p.pair_id]} and records[b]["met"] == {"SS": [f"rnd_1/{a}"]}
    assert c.sizes[-2:] == [100, 60]
    assert_backed_off(wire.sleeps, 6)


@pytest.mark.parametrize("writer", ["put_pairs", "record_round"])
def test_lunch_writers_when_conflicts_persist_raise_unavailable(wire: Wire, writer: str) -> None:
    g = group()
    c = wire.conflicts(times=None)
    with pytest.raises(errors.Unavailable):
        if writer == "put_pairs":
            deps.store().lunch.put_pairs(pairs_of(g, 10))
        else:
            deps.store().lunch.record_round(g.group_id, "rnd_1", pairs_of(g, 10))
    assert c.calls == BUSY_TRIES
    assert wire.raw(keys.group_pk(g.group_id), "LUNCH#") == []


# ---- packing and refusals, on moto (every run) and on DynamoDB Local


@dataclass
class Calls:
    """Records each TransactWriteItems call's actions (their keys' SK), letting it through."""

    sks: list[list[str]] = field(default_factory=list)

    def __call__(self, params: dict[str, Any], **_: Any) -> None:
        actions = json.loads(params["body"])["TransactItems"]
        self.sks.append([next(iter(a.values()))["Item"]["SK"]["S"] for a in actions])


def actions_of(entry: tuple[str, int]) -> list[dict[str, Any]]:
    """Item `name` as `n` conditional puts (one key each, so they can all share a transaction)."""
    name, n = entry
    return [
        {
            "Put": {
                "Item": {"PK": "PACK", "SK": f"{name}#{k}", "n": k},
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }
        for k in range(n)
    ]


def test_items_are_packed_whole_into_transactions_of_at_most_100_actions(any_table: str) -> None:
    calls = Calls()
    deps.dynamodb_client().meta.events.register("before-call.dynamodb.TransactWriteItems", calls)
    sizes = [1, 3, 2, 40, 40, 17, 100, 1, 99, 2, 33, 33, 33, 1]
    items = [(f"i{n}", size) for n, size in enumerate(sizes)]

    done = deps.store().db.transact_each(items, actions_of)

    assert done.written == items and done.refused == []
    assert [len(c) for c in calls.sks] == [86, 17, 100, 100, 68, 34]  # greedy, in order, one call each
    seen = [sk.split("#")[0] for call in calls.sks for sk in call]
    assert seen == [name for name, size in items for _ in range(size)]
    for name, _ in items:  # an item's actions all sit in one call
        assert sum(1 for call in calls.sks if any(sk.startswith(f"{name}#") for sk in call)) == 1
    with pytest.raises(ValueError):
        deps.store().db.transact_each([("fine", 1), ("big", 101)], actions_of)
    assert len(calls.sks) == 6  # refused before any call: nothing of it written


def test_refused_items_carry_what_stopped_them_and_the_rest_is_written(any_table: str) -> None:
    db = deps.store().db
    db.put({"PK": "PACK", "SK": "b#1", "n": 1, "owner": "someone else"})
    db.put({"PK": "PACK", "SK": "d#0", "n": 0, "owner": "someone else too"})
    calls = Calls()
    deps.dynamodb_client().meta.events.register("before-call.dynamodb.TransactWriteItems", calls)
    items = [("a", 2), ("b", 3), ("c", 1), ("d", 2)]

    done = db.transact_each(items, actions_of)

    assert done.written == [("a", 2), ("c", 1)]
    assert [(r.item, r.failed) for r in done.refused] == [(("b", 3), (False, True, False)), (("d", 2), (True, False))]
    b, d = done.refused
    assert b.olds[0] is None and b.olds[2] is None and d.olds[1] is None
    assert (b.olds[1] or {}).get("owner") == "someone else"
    assert (d.olds[0] or {}).get("owner") == "someone else too"
    assert len(calls.sks) == 2  # refused in one call, the rest written in the next
    stored = {i["SK"] for i in db.query_all(partition="PACK", consistent=True)}
    assert stored == {"a#0", "a#1", "b#1", "c#0", "d#0"}  # nothing of a refused item was written
