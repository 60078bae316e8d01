"""What the organizer console keeps: who organizes which group (by address), sign-in links and
sessions. Links and sessions are keyed by the hash of their secret, so the table never holds
a usable link or cookie; both expire through DynamoDB's TTL (`expires_at`, epoch seconds),
which deletes lazily, so reads check the expiry too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from chalicelib import errors, timeutil
from chalicelib.models import Group
from chalicelib.store import keys
from chalicelib.store.core import ConditionFailed, Db, TransactionCancelled
from chalicelib.store.schema import PK, SK, TTL_ATTRIBUTE

SigninState = Literal["ok", "used", "expired", "invalid"]


@dataclass(frozen=True)
class SigninLink:
    email: str
    created_at: datetime
    expires_at: datetime
    used: bool


@dataclass(frozen=True)
class SessionRecord:
    email: str
    group_id: str | None  # None until an organizer of several groups picks one
    created_at: datetime
    expires_at: datetime


class SigninRefused(Exception):
    """Raised inside the store when a sign-in link cannot be used: `state` says why."""

    def __init__(self, state: SigninState) -> None:
        super().__init__(state)
        self.state = state


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


def _at(epoch: Any) -> datetime:
    return datetime.fromtimestamp(int(epoch), tz=UTC)


def _program(item: dict[str, Any]) -> Any:
    from chalicelib.models import LunchProgram
    from chalicelib.store.lunch import _plain

    return LunchProgram.model_validate(_plain(item))


# Items a console page may ask to be read with its session and group (console_page(also=...)):
# name -> (key of the group's item, item -> model).
PRELOADS: dict[str, tuple[Callable[[str], dict[str, str]], Callable[[dict[str, Any]], Any]]] = {
    "lunch_program": (keys.lunch_program, _program),
}

_NOT_LISTED = "attribute_exists(PK) AND (attribute_not_exists(organizers) OR NOT contains(organizers, :email))"


class ConsoleRepo:
    def __init__(self, db: Db) -> None:
        self.db = db

    # ---- organizers

    def groups_of(self, email: str) -> list[str]:
        """The ids of the groups this address organizes (one Query of GSI1)."""
        return sorted(str(i["group_id"]) for i in
                      self.db.query_all(partition=keys.organizer_groups(email), index=True))

    def add_organizer(self, group_id: str, email: str) -> bool:
        """Add the address to the group's organizers and the index, together; False when it
        was one already (nothing changes)."""
        try:
            self.db.transact([
                {"Update": {"Key": keys.group(group_id),
                            "UpdateExpression": "SET organizers = list_append(if_not_exists(organizers, :none), :one)",
                            "ConditionExpression": _NOT_LISTED,
                            "ExpressionAttributeValues": {":none": [], ":one": [email], ":email": email}}},
                {"Put": {"Item": {**keys.organizer(group_id, email), **keys.organizer_index(group_id, email),
                                  "type": "organizer", "group_id": group_id, "email": email}}},
            ])
        except TransactionCancelled as exc:
            if exc.failed(0):
                if self.db.get(keys.group(group_id)) is None:
                    raise errors.NotFound("no such group", field="group_id") from None
                # Already listed: make sure the index item exists too (idempotent repair).
                self.db.put({**keys.organizer(group_id, email), **keys.organizer_index(group_id, email),
                             "type": "organizer", "group_id": group_id, "email": email})
                return False
            raise errors.Unavailable("The service is busy; try again in a moment.") from None
        return True

    def remove_organizer(self, group: Group, email: str) -> bool:
        """Take the address off the group's organizers and the index, together, unless it is
        the last one (errors.Conflict) or the list changed meanwhile (errors.Conflict, try
        again). False when it was not an organizer."""
        if email not in group.organizers:
            return False
        remaining = [e for e in group.organizers if e != email]
        if not remaining:
            raise errors.Conflict("a group keeps at least one organizer", field="email")
        try:
            self.db.transact([
                {"Update": {"Key": keys.group(group.group_id), "UpdateExpression": "SET organizers = :new",
                            "ConditionExpression": "organizers = :old",
                            "ExpressionAttributeValues": {":new": remaining, ":old": group.organizers}}},
                {"Delete": {"Key": keys.organizer(group.group_id, email)}},
            ])
        except TransactionCancelled:
            raise errors.Conflict("the organizers changed meanwhile; reload and try again",
                                  field="email") from None
        return True

    # ---- sign-in requests: every address typed, until the jobs worker answered it

    def add_signin_request(self, request_id: str, email: str, created_at: datetime, expires_at: datetime) -> None:
        self.db.put({**keys.console_signin_request(request_id), "type": "console_signin_request",
                     "email": email, "created_at": created_at, TTL_ATTRIBUTE: _epoch(expires_at)},
                    condition="attribute_not_exists(PK)")

    def signin_request(self, request_id: str, now: datetime) -> str | None:
        """The address of a request not yet answered, and not expired."""
        item = self.db.get(keys.console_signin_request(request_id))
        return None if item is None or _at(item[TTL_ATTRIBUTE]) <= now else str(item["email"])

    def drop_signin_request(self, request_id: str) -> None:
        self.db.delete(keys.console_signin_request(request_id))

    # ---- sign-in links

    def add_signin(self, token: str, email: str, created_at: datetime, expires_at: datetime) -> None:
        self.db.put({**keys.console_signin(token), "type": "console_signin", "email": email,
                     "created_at": created_at, TTL_ATTRIBUTE: _epoch(expires_at)},
                    condition="attribute_not_exists(PK)")

    def signin_state(self, token: str, now: datetime) -> tuple[SigninState, SigninLink | None]:
        """What a link is (GetItem, no change): usable, used, expired or unknown."""
        item = self.db.get(keys.console_signin(token))
        if item is None:
            return "invalid", None
        link = SigninLink(email=str(item["email"]), created_at=timeutil.from_store(item["created_at"]),
                          expires_at=_at(item[TTL_ATTRIBUTE]), used="used_at" in item)
        if link.used:
            return "used", link
        if _epoch(link.expires_at) <= _epoch(now):
            return "expired", link
        return "ok", link

    def use_signin(self, token: str, now: datetime) -> str:
        """Mark the link used, once (one guarded UpdateItem): the address it was made for.
        SigninRefused says why not: a second use, an expired or an unknown link."""
        try:
            item = self.db.update(keys.console_signin(token), "SET used_at = :now",
                                  condition="attribute_exists(PK) AND attribute_not_exists(used_at) "
                                            "AND #ttl > :epoch",
                                  names={"#ttl": TTL_ATTRIBUTE},
                                  values={":now": now, ":epoch": _epoch(now)})
        except ConditionFailed:
            state, _ = self.signin_state(token, now)
            raise SigninRefused("used" if state == "ok" else state) from None
        return str(item["email"])

    # ---- sessions

    def add_session(self, session_id: str, record: SessionRecord) -> None:
        self.db.put({**keys.console_session(session_id), "type": "console_session", "email": record.email,
                     "group_id": record.group_id, "created_at": record.created_at,
                     TTL_ATTRIBUTE: _epoch(record.expires_at)},
                    condition="attribute_not_exists(PK)")

    @staticmethod
    def _session(item: dict[str, Any] | None, now: datetime) -> SessionRecord | None:
        if not item or int(item.get(TTL_ATTRIBUTE, 0)) <= _epoch(now):
            return None
        return SessionRecord(email=str(item["email"]), group_id=item.get("group_id"),
                             created_at=timeutil.from_store(item["created_at"]), expires_at=_at(item[TTL_ATTRIBUTE]))

    def get_session(self, session_id: str, now: datetime) -> SessionRecord | None:
        return self._session(self.db.get(keys.console_session(session_id)), now)

    def session_and_group(self, session_id: str, group_id: str, now: datetime,
                          also: Sequence[str] = ()) -> tuple[SessionRecord | None, Group | None, dict[str, Any]]:
        """The session, the group it asks for and the page's `also` items (names of PRELOADS),
        in one BatchGetItem (every console page). Absent `also` items are None."""
        wanted = {"session": keys.console_session(session_id), "group": keys.group(group_id)}
        for name in also:
            wanted[name] = PRELOADS[name][0](group_id)
        by_key = {(k[PK], k[SK]): name for name, k in wanted.items()}
        found: dict[str, Any] = dict.fromkeys(wanted)
        for item in self.db.get_many(list(wanted.values())):
            found[by_key[(item[PK], item[SK])]] = item
        group = Group.model_validate(found.pop("group")) if found["group"] else None
        session = self._session(found.pop("session"), now)
        return session, group, {name: PRELOADS[name][1](item) if item else None for name, item in found.items()}

    def choose_group(self, session_id: str, group_id: str, now: datetime) -> None:
        """Point a live session at a group (the caller checked the address organizes it)."""
        try:
            self.db.update(keys.console_session(session_id), "SET group_id = :g",
                           condition="attribute_exists(PK) AND #ttl > :epoch",
                           names={"#ttl": TTL_ATTRIBUTE}, values={":g": group_id, ":epoch": _epoch(now)})
        except ConditionFailed:
            raise errors.Unauthorized("signed out") from None

    def end_session(self, session_id: str) -> None:
        with contextlib.suppress(ConditionFailed):
            self.db.delete(keys.console_session(session_id))
