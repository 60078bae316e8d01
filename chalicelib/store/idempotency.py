"""Idempotency records: a reservation, then the stored answer of a retried-safe POST."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.store import keys
from chalicelib.store.core import ConditionFailed, Db, Item
from chalicelib.store.schema import TTL_ATTRIBUTE


class IdempotencyRepo:
    def __init__(self, db: Db) -> None:
        self.db = db

    def reserve(self, group_id: str, key: str, fingerprint: str, now: datetime,
                expires_at: datetime) -> Item | None:
        """Take the key for this request; None when taken now, else the existing record."""
        item = {**keys.idempotency(group_id, key), "type": "idempotency", "state": "in_progress",
                "fingerprint": fingerprint, TTL_ATTRIBUTE: int(expires_at.timestamp())}
        try:
            # An expired record counts as absent: DynamoDB's TTL deletes lazily.
            self.db.put(item, condition=f"attribute_not_exists(PK) OR {TTL_ATTRIBUTE} < :now",
                        values={":now": int(now.timestamp())}, return_old_on_fail=True)
        except ConditionFailed as taken:
            return taken.old or self.db.get(keys.idempotency(group_id, key)) or {"state": "in_progress"}
        return None

    def complete(self, group_id: str, key: str, status: int, body: str, headers: dict[str, Any]) -> None:
        self.db.update(keys.idempotency(group_id, key),
                       "SET #state = :done, http_status = :status, body = :body, headers = :headers",
                       names={"#state": "state"},
                       values={":done": "done", ":status": status, ":body": body, ":headers": headers})

    def release(self, group_id: str, key: str) -> None:
        self.db.delete(keys.idempotency(group_id, key))
