"""What the public pages (join, my links, public meetups) keep: signups waiting for their
confirmation, and the daily counters that limit how much mail those pages may send.

Both expire through DynamoDB's TTL (`expires_at`, epoch seconds); TTL deletes lazily, so reads
check the expiry too.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel

from chalicelib.store import keys
from chalicelib.store.core import ConditionFailed, Db
from chalicelib.store.schema import TTL_ATTRIBUTE

COUNTER_KEPT = timedelta(days=2)  # a day's counter is only read on that day


class Signup(BaseModel):
    """What someone typed on the join page (or a public meetup page), kept until they confirm
    from the email or for SIGNUP_LIFETIME; never a member by itself."""

    signup_id: str
    group_id: str
    email: str
    name: str
    headline: str = ""
    lunch: bool = False  # pair me for lunches
    virtual: bool = False
    city: str | None = None
    meetup_id: str | None = None  # asked on this meetup's public page: confirming leads to its RSVP page
    created_at: datetime
    expires_at: datetime


class PublicRepo:
    def __init__(self, db: Db) -> None:
        self.db = db

    def add_signup(self, signup: Signup) -> None:
        """Record a signup (a new random id each time, so a retried put finds its own item)."""
        data = signup.model_dump(exclude={"expires_at"})
        item = {**keys.signup(signup.group_id, signup.signup_id), "type": "signup", **data,
                TTL_ATTRIBUTE: int(signup.expires_at.timestamp())}
        with contextlib.suppress(ConditionFailed):  # 80 random bits: only our own earlier attempt
            self.db.put(item, condition="attribute_not_exists(PK)")

    def get_signup(self, group_id: str, signup_id: str, now: datetime) -> Signup | None:
        """The signup, or None when absent or expired (TTL may not have removed it yet)."""
        item = self.db.get(keys.signup(group_id, signup_id))
        if not item or int(item.get(TTL_ATTRIBUTE, 0)) <= int(now.timestamp()):
            return None
        expires = datetime.fromtimestamp(int(item[TTL_ATTRIBUTE]), tz=now.tzinfo)
        return Signup.model_validate({**item, "expires_at": expires})

    def erase_signups(self, group_id: str, email: str) -> int:
        """Delete this address's signups in the group (erasure): one Query of the group's
        signups (a handful, 7 days' worth), then the deletes."""
        found = [item for item in self.db.query_all(partition=keys.group_pk(group_id), prefix=keys.SIGNUP_PREFIX)
                 if item.get("email") == email]
        return self.db.write_batch(deletes=[keys.signup(group_id, str(i["signup_id"])) for i in found])

    def count(self, group_id: str, scope: str, day: date, limit: int) -> int | None:
        """Take one of `limit` for `scope` on `day` (one UpdateItem); the new count, or None when
        the limit was reached (then nothing changes)."""
        if limit <= 0:
            return None
        expires = datetime(day.year, day.month, day.day, tzinfo=UTC) + COUNTER_KEPT
        try:
            item = self.db.update(
                keys.daily_limit(group_id, scope, day),
                "SET #n = if_not_exists(#n, :zero) + :one, #ttl = :ttl",
                condition="attribute_not_exists(#n) OR #n < :limit",
                names={"#n": "sent", "#ttl": TTL_ATTRIBUTE},
                values={":zero": 0, ":one": 1, ":limit": limit, ":ttl": int(expires.timestamp())})
        except ConditionFailed:
            return None
        return int(item["sent"])
