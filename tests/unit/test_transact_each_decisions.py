"""`Db.transact_each`'s decisions on each kind of cancellation, against a scripted client
(no I/O: each TransactWriteItems call answers the next scripted outcome)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib import errors
from chalicelib.store.core import BUSY_TRIES, Db, TransactionCancelled


class Scripted:
    """A DynamoDB client whose TransactWriteItems answers `script` in order (a list of reason
    codes per call means "cancelled with these"; None means success)."""

    def __init__(self, *script: list[str] | None) -> None:
        self.script = list(script)
        self.calls: list[list[str]] = []

    def transact_write_items(self, TransactItems: list[dict[str, Any]], **_: Any) -> dict[str, Any]:
        self.calls.append([next(iter(a.values()))["Item"]["SK"]["S"] for a in TransactItems])
        outcome = self.script.pop(0) if self.script else None
        if outcome is None:
            return {}
        assert len(outcome) == len(TransactItems)
        reasons = [
            {"Code": code, **({"Item": {"SK": {"S": "theirs"}}} if code == "ConditionalCheckFailed" else {})}
            for code in outcome
        ]
        raise ClientError(
            {"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"}, "CancellationReasons": reasons},
            "TransactWriteItems",
        )


def db_with(client: Scripted) -> tuple[Db, list[float]]:
    db = Db(client, "powerlunch-unit", "secret")
    sleeps: list[float] = []
    db.sleep = sleeps.append
    return db, sleeps


def puts(name: str) -> list[dict[str, Any]]:
    return [{"Put": {"Item": {"PK": "P", "SK": name}}}]


def test_a_condition_failure_amid_conflicts_is_refused_and_the_rest_retried_at_once() -> None:
    client = Scripted(["None", "ConditionalCheckFailed", "TransactionConflict"], None)
    db, sleeps = db_with(client)
    done = db.transact_each(["a", "b", "c"], puts)
    assert done.written == ["a", "c"]
    assert [(r.item, r.failed, r.olds) for r in done.refused] == [("b", (True,), ({"SK": "theirs"},))]
    assert client.calls == [["a", "b", "c"], ["a", "c"]] and sleeps == []


def test_only_conflicts_and_throttling_back_off_then_succeed() -> None:
    busy = ["TransactionConflict", "None"]
    client = Scripted(busy, ["ThrottlingError", "None"], ["ProvisionedThroughputExceeded", "None"], None)
    db, sleeps = db_with(client)
    assert db.transact_each(["a", "b"], puts).written == ["a", "b"]
    assert len(client.calls) == 4 and len(sleeps) == 3
    assert 0.0125 <= sleeps[0] <= 0.025 and 0.025 <= sleeps[1] <= 0.05 and 0.05 <= sleeps[2] <= 0.1


def test_conflicts_that_persist_raise_unavailable_after_bounded_tries_and_capped_sleeps() -> None:
    client = Scripted(*[["TransactionConflict"]] * 50)
    db, sleeps = db_with(client)
    with pytest.raises(errors.Unavailable):
        db.transact_each(["a"], puts)
    assert len(client.calls) == BUSY_TRIES and len(sleeps) == BUSY_TRIES - 1
    assert all(s <= 1.0 for s in sleeps)


def test_a_cancellation_that_is_not_load_is_not_retried() -> None:
    client = Scripted(["ValidationError", "None"])
    db, sleeps = db_with(client)
    with pytest.raises(TransactionCancelled):
        db.transact_each(["a", "b"], puts)
    assert len(client.calls) == 1 and sleeps == []
