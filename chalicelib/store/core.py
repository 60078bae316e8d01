"""The low-level table: (de)serialisation, conditional writes, transactions, pagination, AWS errors.

Repositories (`groups.py`, `members.py`, ...) build on `Db`; nothing above the store sees boto3.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from itsdangerous import BadSignature, URLSafeSerializer

from chalicelib import errors, timeutil
from chalicelib.store.schema import GSI1, GSI1PK, GSI1SK, PK, SK

log = logging.getLogger(__name__)

Item = dict[str, Any]
T = TypeVar("T")
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

# Throttling and conflicts have already been retried by botocore's standard mode when we see them.
_UNAVAILABLE = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TransactionConflictException",
    "TransactionInProgressException",
    "InternalServerError",
    "ServiceUnavailable",
}


def _plain(value: Any) -> Any:
    """Python value -> something TypeSerializer accepts (datetimes as sortable UTC text)."""
    if isinstance(value, datetime):
        return timeutil.to_store(value)
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _python(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _python(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_python(v) for v in value]
    if isinstance(value, set):
        return sorted(_python(v) for v in value)
    if isinstance(value, Binary):
        return bytes(value.value)
    return value


def serialize(item: Item) -> dict[str, Any]:
    return {k: _serializer.serialize(_plain(v)) for k, v in item.items() if v is not None}


def serialize_value(value: Any) -> Any:
    return _serializer.serialize(_plain(value))


def deserialize(raw: dict[str, Any]) -> Item:
    return {k: _python(_deserializer.deserialize(v)) for k, v in raw.items()}


def set_remove(changes: dict[str, Any], *,
               extra_sets: Sequence[str] = ()) -> tuple[str, dict[str, str], dict[str, Any]]:
    """An UpdateExpression that SETs each changed field (REMOVEs it when None), plus `extra_sets`."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    sets: list[str] = list(extra_sets)
    removes: list[str] = []
    for i, (name, value) in enumerate(sorted(changes.items())):
        names[f"#f{i}"] = name
        if value is None:
            removes.append(f"#f{i}")
        else:
            values[f":f{i}"] = value
            sets.append(f"#f{i} = :f{i}")
    parts = []
    if sets:
        parts.append("SET " + ", ".join(sets))
    if removes:
        parts.append("REMOVE " + ", ".join(removes))
    return " ".join(parts), names, values


WHOLE_GROUP_PAGE = 2000  # items a Query may return when only a few small fields are read (1 MB still caps it)


class ConditionFailed(Exception):
    """Raised inside the store when a single conditional write's condition did not hold."""

    def __init__(self, old: Item | None = None) -> None:
        super().__init__("condition failed")
        self.old = old


class TransactionCancelled(Exception):
    """Raised inside the store when a transaction was cancelled; `reasons[i]` is action i's code."""

    def __init__(self, reasons: list[str], olds: list[Item | None]) -> None:
        super().__init__(f"transaction cancelled: {reasons}")
        self.reasons = reasons
        self.olds = olds

    def failed(self, index: int) -> bool:
        return self.reasons[index] == "ConditionalCheckFailed"

    @property
    def conflict(self) -> bool:
        return any(r in ("TransactionConflict", "ThrottlingError") for r in self.reasons)


# Cancellation reasons that say "busy, try again", not "this item is wrong"; "None" marks the
# actions that were fine in a transaction cancelled because of another one.
_BUSY_REASONS = {"None", "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
BUSY_TRIES = 8  # transactions cancelled only for being busy, per chunk, before errors.Unavailable


@dataclass(frozen=True)
class Refused(Generic[T]):
    """An item whose transaction said no: `failed[i]` is true where action i's condition did
    not hold, and `olds[i]` is the item that stopped it (ALL_OLD), None elsewhere."""

    item: T
    failed: tuple[bool, ...]
    olds: tuple[Item | None, ...]


@dataclass(frozen=True)
class Transacted(Generic[T]):
    """What `Db.transact_each` did: every item given is in exactly one of the two lists."""

    written: list[T]
    refused: list[Refused[T]]


@dataclass(frozen=True)
class Page:
    items: list[Item]
    next_cursor: str | None


def unavailable(exc: ClientError) -> errors.Unavailable:
    code = exc.response.get("Error", {}).get("Code", "")
    log.warning("dynamodb unavailable after retries: %s", code)
    return errors.Unavailable("The service is busy; try again in a moment.")


def _backoff(attempt: int) -> float:
    """25 ms doubling per attempt, capped at 1 s, with jitter in the upper half (so concurrent
    writers that collided once do not collide again in step)."""
    ceiling = min(0.025 * (1 << (attempt - 1)), 1.0)
    return ceiling / 2 + random.uniform(0.0, ceiling / 2)


class Db:
    """One table through the low-level client. `client` is a boto3 DynamoDB client."""

    def __init__(self, client: Any, table_name: str, cursor_secret: str) -> None:
        self.client = client
        self.table = table_name
        self._cursors = URLSafeSerializer(cursor_secret, salt="powerlunch.cursor")
        self.sleep: Callable[[float], None] = time.sleep  # tests record the backoff instead

    # ---- errors

    def _call(self, op: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, op)(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ConditionalCheckFailedException":
                old = exc.response.get("Item")
                raise ConditionFailed(deserialize(old) if old else None) from exc
            if code == "TransactionCanceledException":
                reasons = exc.response.get("CancellationReasons", [])
                codes = [r.get("Code", "None") for r in reasons]
                olds = [deserialize(r["Item"]) if r.get("Item") else None for r in reasons]
                raise TransactionCancelled(codes, olds) from exc
            if code in _UNAVAILABLE:
                raise unavailable(exc) from exc
            raise

    # ---- single items

    def get(self, key: Item, *, consistent: bool = True) -> Item | None:
        raw = self._call("get_item", TableName=self.table, Key=serialize(key),
                         ConsistentRead=consistent)
        return deserialize(raw["Item"]) if "Item" in raw else None

    def get_many(self, keys: Sequence[Item], *, consistent: bool = True) -> list[Item]:
        """BatchGetItem in chunks of 100, retrying unprocessed keys; order is not kept."""
        found: list[Item] = []
        unique = list({json.dumps(k, sort_keys=True): k for k in keys}.values())
        for start in range(0, len(unique), 100):
            request: dict[str, Any] = {
                self.table: {"Keys": [serialize(k) for k in unique[start:start + 100]],
                             "ConsistentRead": consistent}
            }
            for attempt in range(8):
                raw = self._call("batch_get_item", RequestItems=request)
                found.extend(deserialize(i) for i in raw["Responses"].get(self.table, []))
                request = raw.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(min(0.05 * 2**attempt, 1.0))
            else:
                raise errors.Unavailable("The service is busy; try again in a moment.")
        return found

    def put(self, item: Item, *, condition: str | None = None,
            names: dict[str, str] | None = None, values: dict[str, Any] | None = None,
            return_old_on_fail: bool = False) -> None:
        kwargs: dict[str, Any] = {"TableName": self.table, "Item": serialize(item)}
        self._add_condition(kwargs, condition, names, values)
        if return_old_on_fail:
            kwargs["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        self._call("put_item", **kwargs)

    def update(self, key: Item, expression: str, *, condition: str | None = None,
               names: dict[str, str] | None = None, values: dict[str, Any] | None = None,
               return_old_on_fail: bool = False) -> Item:
        """UpdateItem returning the item as it is afterwards."""
        kwargs: dict[str, Any] = {
            "TableName": self.table, "Key": serialize(key), "UpdateExpression": expression,
            "ReturnValues": "ALL_NEW",
        }
        self._add_condition(kwargs, condition, names, values)
        if return_old_on_fail:
            kwargs["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return deserialize(self._call("update_item", **kwargs)["Attributes"])

    def delete(self, key: Item, *, condition: str | None = None,
               names: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> None:
        kwargs: dict[str, Any] = {"TableName": self.table, "Key": serialize(key)}
        self._add_condition(kwargs, condition, names, values)
        self._call("delete_item", **kwargs)

    @staticmethod
    def _add_condition(kwargs: dict[str, Any], condition: str | None,
                       names: dict[str, str] | None, values: dict[str, Any] | None) -> None:
        if condition:
            kwargs["ConditionExpression"] = condition
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if values:
            kwargs["ExpressionAttributeValues"] = {k: serialize_value(v) for k, v in values.items()}

    # ---- transactions and batches

    def transact(self, actions: Sequence[dict[str, Any]], *, token: str | None = None) -> None:
        """TransactWriteItems. Each action is {"Put"|"Update"|"Delete"|"ConditionCheck": {...}}
        with plain Python keys/items/values; the table name is filled in here."""
        if not actions:
            return
        if len(actions) > 100:
            raise ValueError("a transaction holds at most 100 actions")
        wire = [self._wire_action(a) for a in actions]
        kwargs: dict[str, Any] = {"TransactItems": wire}
        if token:
            kwargs["ClientRequestToken"] = token
        self._call("transact_write_items", **kwargs)

    def transact_each(self, items: Sequence[T],
                      actions_of: Callable[[T], Sequence[dict[str, Any]]], *,
                      max_actions: int = 100) -> Transacted[T]:
        """Write many items, each as its own `actions_of(item)`, packed in order into
        transactions of at most `max_actions` actions; an item's actions are never split.

        An item whose condition fails is refused (with the items that stopped it), and the
        rest of its transaction is sent again at once. A transaction cancelled only for
        conflicts or throttling is sent again after a short jittered backoff; after
        BUSY_TRIES of those this raises errors.Unavailable, so the request or the queue retries:
        no item is ever left out of the answer. One TransactWriteItems per chunk when
        nothing gets in the way. Only for idempotent actions (conditional puts, set ADDs):
        a retry may find what an earlier, failed call wrote."""
        written: list[T] = []
        refused: list[Refused[T]] = []
        for chunk in self._packed(items, actions_of, max_actions):
            busy = 0
            while chunk:
                actions = [a for _, item_actions in chunk for a in item_actions]
                try:
                    self.transact(actions)
                except TransactionCancelled as cancelled:
                    if not all(r in _BUSY_REASONS or r == "ConditionalCheckFailed"
                               for r in cancelled.reasons):
                        raise  # a malformed action or a full item collection: a bug, not load
                    kept: list[tuple[T, Sequence[dict[str, Any]]]] = []
                    at = 0
                    for item, item_actions in chunk:
                        span = range(at, at + len(item_actions))
                        at += len(item_actions)
                        failed = tuple(cancelled.failed(i) for i in span)
                        if any(failed):
                            olds = tuple(cancelled.olds[i] if cancelled.failed(i) else None for i in span)
                            refused.append(Refused(item, failed, olds))
                        else:
                            kept.append((item, item_actions))
                    if len(kept) == len(chunk):  # only busy: back off, bounded
                        busy += 1
                        if busy >= BUSY_TRIES:
                            log.warning("transaction still conflicting after %d tries: %s",
                                        busy, sorted(set(cancelled.reasons)))
                            raise errors.Unavailable(
                                "The service is busy; try again in a moment.") from cancelled
                        self.sleep(_backoff(busy))
                    chunk = kept
                    continue
                written.extend(item for item, _ in chunk)
                break
        return Transacted(written, refused)

    @staticmethod
    def _packed(items: Sequence[T], actions_of: Callable[[T], Sequence[dict[str, Any]]],
                max_actions: int) -> list[list[tuple[T, Sequence[dict[str, Any]]]]]:
        """Greedy, in order; all of it before the first write, so a bad item writes nothing."""
        chunks: list[list[tuple[T, Sequence[dict[str, Any]]]]] = [[]]
        size = 0
        for item in items:
            actions = actions_of(item)
            if not actions or len(actions) > max_actions:
                raise ValueError(f"an item needs 1 to {max_actions} actions, not {len(actions)}")
            if size + len(actions) > max_actions:
                chunks.append([])
                size = 0
            chunks[-1].append((item, actions))
            size += len(actions)
        return [c for c in chunks if c]

    def _wire_action(self, action: dict[str, Any]) -> dict[str, Any]:
        (kind, spec), = action.items()
        out: dict[str, Any] = {"TableName": self.table}
        for name, value in spec.items():
            if name in ("Key", "Item"):
                out[name] = serialize(value)
            elif name == "ExpressionAttributeValues":
                out[name] = {k: serialize_value(v) for k, v in value.items()}
            else:
                out[name] = value
        out.setdefault("ReturnValuesOnConditionCheckFailure", "ALL_OLD")
        return {kind: out}

    def write_batch(self, puts: Iterable[Item] = (), deletes: Iterable[Item] = ()) -> int:
        """BatchWriteItem in 25s, retrying unprocessed items. Unconditional: for idempotent data."""
        requests = [{"PutRequest": {"Item": serialize(i)}} for i in puts]
        requests += [{"DeleteRequest": {"Key": serialize(k)}} for k in deletes]
        for start in range(0, len(requests), 25):
            pending: dict[str, Any] = {self.table: requests[start:start + 25]}
            for attempt in range(8):
                raw = self._call("batch_write_item", RequestItems=pending)
                pending = raw.get("UnprocessedItems") or {}
                if not pending:
                    break
                time.sleep(min(0.05 * 2**attempt, 1.0))
            else:
                raise errors.Unavailable("The service is busy; try again in a moment.")
        return len(requests)

    # ---- queries and cursors

    def query_page(self, *, partition: str, index: bool = False, prefix: str | None = None,
                   lower: str | None = None, upper: str | None = None, forward: bool = True,
                   limit: int = 50, cursor: str | None = None, consistent: bool = False,
                   filter_expression: str | None = None,
                   filter_values: dict[str, Any] | None = None,
                   filter_names: dict[str, str] | None = None,
                   attributes: Sequence[str] | None = None) -> Page:
        """One Query on the table (PK) or GSI1 (GSI1PK), one page; the cursor is signed and bound
        to `partition`, so it cannot be edited to read another group's items. `attributes`: only
        these top-level attributes of each item (a ProjectionExpression), for reads of many items
        that need few of their fields."""
        pk_name, sk_name = (GSI1PK, GSI1SK) if index else (PK, SK)
        names = {"#pk": pk_name, **(filter_names or {})}
        values: dict[str, Any] = {":pk": partition, **(filter_values or {})}
        condition = "#pk = :pk"
        if prefix is not None:
            names["#sk"] = sk_name
            values[":prefix"] = prefix
            condition += " AND begins_with(#sk, :prefix)"
        elif lower is not None and upper is not None:
            names["#sk"] = sk_name
            values[":lo"], values[":hi"] = lower, upper
            condition += " AND #sk BETWEEN :lo AND :hi"
        elif lower is not None:
            names["#sk"] = sk_name
            values[":lo"] = lower
            condition += " AND #sk >= :lo"
        elif upper is not None:
            names["#sk"] = sk_name
            values[":hi"] = upper
            condition += " AND #sk < :hi"
        kwargs: dict[str, Any] = {
            "TableName": self.table, "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {k: serialize_value(v) for k, v in values.items()},
            "ScanIndexForward": forward, "Limit": limit,
        }
        if index:
            kwargs["IndexName"] = GSI1
        elif consistent:
            kwargs["ConsistentRead"] = True
        if filter_expression:
            kwargs["FilterExpression"] = filter_expression
        if attributes:
            wanted = {f"#p{at}": name for at, name in enumerate(attributes)}
            names.update(wanted)
            kwargs["ProjectionExpression"] = ", ".join(wanted)
        if cursor:
            kwargs["ExclusiveStartKey"] = self._read_cursor(cursor, partition)
        raw = self._call("query", **kwargs)
        last = raw.get("LastEvaluatedKey")
        items = [deserialize(i) for i in raw.get("Items", [])]
        return Page(items, self._make_cursor(last, partition) if last else None)

    def query_all(self, *, partition: str, index: bool = False, prefix: str | None = None,
                  upper: str | None = None, consistent: bool = False, page_size: int = 500,
                  attributes: Sequence[str] | None = None) -> Iterator[Item]:
        """Every item of a partition, up to the sort key `upper` if given (for workers, schedules
        and erasure, not for request paths' lists); `attributes` as in `query_page`."""
        cursor: str | None = None
        while True:
            page = self.query_page(partition=partition, index=index, prefix=prefix, upper=upper,
                                   consistent=consistent, limit=page_size, cursor=cursor,
                                   attributes=attributes)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def _make_cursor(self, last_key: dict[str, Any], partition: str) -> str:
        return self._cursors.dumps({"p": partition, "k": last_key})

    def _read_cursor(self, cursor: str, partition: str) -> dict[str, Any]:
        try:
            data = self._cursors.loads(cursor)
        except BadSignature:
            raise errors.InvalidInput("is not a cursor this list gave out", field="cursor") from None
        if not isinstance(data, dict) or data.get("p") != partition or not isinstance(data.get("k"), dict):
            raise errors.InvalidInput("is not a cursor this list gave out", field="cursor")
        return data["k"]  # type: ignore[no-any-return]
