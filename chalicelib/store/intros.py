"""Introductions a member (or the organizer) offers two people: the offer, its guards, the
per-member record (limits and credit), the monthly thanks. Key formats: store/keys.py."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from chalicelib import errors, timeutil
from chalicelib.models import Group, LunchPair, LunchRecord, Member, Noted
from chalicelib.store import keys
from chalicelib.store.core import ConditionFailed, Db, Item, TransactionCancelled
from chalicelib.store.schema import GSI1PK, GSI1SK, PK, SK

ORGANIZER = "organizer"  # the connector id of an intro the organizer brokers
OPEN_PER_CONNECTOR = 5
IntroStatus = Literal["open", "connected", "declined", "expired"]
_KEYS = (PK, SK, GSI1PK, GSI1SK)


class Intro(BaseModel):
    """One introduction: `connector_id` thinks `member_ids` should meet, because of `note`.
    Open until both say yes (connected), either says no (declined) or 14 days pass (expired)."""

    intro_id: str
    group_id: str
    connector_id: str  # a member id, or ORGANIZER
    member_ids: list[str]  # the two, sorted
    note: str
    answers: dict[str, Literal["yes", "no"]] = Field(default_factory=dict)
    status: IntroStatus = "open"
    created_at: datetime
    expires_at: datetime
    closed_at: datetime | None = None
    met_by: list[str] = Field(default_factory=list)  # who of the two said they met since


class IntroRecord(BaseModel):
    """Per member: as a connector, open offers and credit; as a recipient, the two latest
    offers' times (at most 2 a week); people met at meetups (both checked in)."""

    member_id: str
    open: int = 0
    offered: int = 0
    accepted: int = 0
    met: int = 0
    recv_last: str | None = None
    recv_prev: str | None = None
    met_people: list[str] = Field(default_factory=list)


class LimitReached(errors.Conflict):
    """Raised when an offer would break a limit: the message says which, plainly."""


def _plain(item: Item) -> Item:
    return {k: v for k, v in item.items() if k not in _KEYS}


def _intro(item: Item) -> Intro:
    return Intro.model_validate(_plain(item))


def _never() -> str:
    return "0000"


class IntroRepo:
    def __init__(self, db: Db) -> None:
        self.db = db

    # ---- the introduce page: everything in two BatchGetItems

    def page_first(self, group_id: str, member_id: str) -> tuple[Group | None, Member | None, LunchRecord,
                                                                   IntroRecord]:
        """The group, the member, their lunch record and their intro record (one BatchGetItem)."""
        from chalicelib.store.members import _member

        found = {(i[PK], i[SK]): i for i in self.db.get_many([
            keys.group(group_id), keys.member(group_id, member_id), keys.lunch_member(group_id, member_id),
            keys.intro_member(group_id, member_id)])}

        def at(key: dict[str, str]) -> Item | None:
            return found.get((key[PK], key[SK]))

        group, member = at(keys.group(group_id)), at(keys.member(group_id, member_id))
        lunch, intro = at(keys.lunch_member(group_id, member_id)), at(keys.intro_member(group_id, member_id))
        return (Group.model_validate(_plain(group)) if group else None,
                _member(member) if member else None,
                LunchRecord.model_validate(_plain(lunch)) if lunch else LunchRecord(member_id=member_id),
                IntroRecord.model_validate(_plain(intro)) if intro else IntroRecord(member_id=member_id))

    def pairs_and_members(self, group_id: str, pair_ids: Sequence[str],
                          member_ids: Sequence[str]) -> tuple[list[LunchPair], dict[str, Member]]:
        """These pairs and these members (one BatchGetItem per 100 keys)."""
        from chalicelib.store.members import _member

        items = self.db.get_many([*(keys.lunch_pair(group_id, p) for p in pair_ids),
                                  *(keys.member(group_id, m) for m in member_ids)])
        pairs = [LunchPair.model_validate(_plain(i)) for i in items if i.get("type") == "lunch_pair"]
        members = {i["member_id"]: _member(i) for i in items if i.get("type") == "member"}
        return pairs, members

    # ---- records

    def records(self, group_id: str, member_ids: Sequence[str]) -> dict[str, IntroRecord]:
        found = {i["member_id"]: IntroRecord.model_validate(_plain(i)) for i in
                 self.db.get_many([keys.intro_member(group_id, m) for m in member_ids])}
        return {m: found.get(m) or IntroRecord(member_id=m) for m in member_ids}

    def add_met(self, group_id: str, pairs: Sequence[tuple[str, str]]) -> None:
        """Note that these two met (a meetup both checked in to, an intro they met through):
        on both records, as set ADDs, so a rerun adds nothing."""
        met: dict[str, set[str]] = {}
        for a, b in pairs:
            if a != b:
                met.setdefault(a, set()).add(b)
                met.setdefault(b, set()).add(a)

        def update(me: str) -> list[dict[str, Any]]:  # one update an item: a transaction allows no more
            return [{"Update": {"Key": keys.intro_member(group_id, me),
                                "UpdateExpression": "SET member_id = :me ADD met_people :others",
                                "ExpressionAttributeValues": {":me": me, ":others": met[me]}}}]

        self.db.transact_each(sorted(met), update)

    # ---- offers

    def offer(self, intro: Intro, *, six_months_ago: datetime, week_ago: datetime) -> Intro:
        """Record the offer with its guards in one transaction: the two have not been offered
        to each other since `six_months_ago`, the connector has fewer than OPEN_PER_CONNECTOR
        open offers, and neither of the two got 2 offers since `week_ago`. A retry of the
        same offer answers the one recorded; a broken limit raises LimitReached (or Conflict)."""
        group_id, now = intro.group_id, timeutil.to_store(intro.created_at)
        a, b = intro.member_ids
        actions: list[dict[str, Any]] = [
            {"Put": {"Item": {**keys.intro(group_id, intro.intro_id),
                              **keys.intro_expiry_index(group_id, intro.intro_id, intro.expires_at),
                              "type": "intro", **intro.model_dump()},
                     "ConditionExpression": "attribute_not_exists(PK)"}},
            {"Put": {"Item": {**keys.intro_guard(group_id, a, b), "type": "intro_guard",
                              "intro_id": intro.intro_id, "connector_id": intro.connector_id,
                              "member_ids": [a, b], "offered_at": now},
                     "ConditionExpression": "attribute_not_exists(PK) OR offered_at < :since",
                     "ExpressionAttributeValues": {":since": timeutil.to_store(six_months_ago)}}},
            {"Update": {"Key": keys.intro_member(group_id, intro.connector_id),
                        "UpdateExpression": "SET member_id = :me ADD #open :one, offered :one",
                        "ConditionExpression": "attribute_not_exists(#open) OR #open < :max",
                        "ExpressionAttributeNames": {"#open": "open"},
                        "ExpressionAttributeValues": {":me": intro.connector_id, ":one": 1,
                                                      ":max": OPEN_PER_CONNECTOR}}},
        ]
        for member_id in (a, b):
            actions.append({"Update": {
                "Key": keys.intro_member(group_id, member_id),
                "UpdateExpression": "SET member_id = :me, recv_prev = if_not_exists(recv_last, :never), "
                                    "recv_last = :now",
                "ConditionExpression": "attribute_not_exists(recv_prev) OR recv_prev < :week",
                "ExpressionAttributeValues": {":me": member_id, ":never": _never(), ":now": now,
                                              ":week": timeutil.to_store(week_ago)}}})
        try:
            self.db.transact(actions)
        except TransactionCancelled as cancelled:
            if cancelled.failed(0):
                existing = self.get(group_id, intro.intro_id)
                if existing is not None and existing.status == "open":
                    return existing  # a retry of this very offer
            if cancelled.failed(1):
                raise errors.Conflict("You (or someone) introduced these two recently: one introduction "
                                      "between the same two people per 6 months.", field="member_ids") from None
            if cancelled.failed(2):
                raise LimitReached(f"You have {OPEN_PER_CONNECTOR} introductions waiting for answers: "
                                   "wait until one is answered or expires (14 days).",
                                   field="member_ids") from None
            for index, name in ((3, "first"), (4, "second")):
                if cancelled.failed(index):
                    raise LimitReached(f"The {name} person already has 2 introductions this week: "
                                       "try again in a few days.", field="member_ids") from None
            raise errors.StaleWrite("something changed meanwhile; try again") from None
        return intro

    def guard(self, group_id: str, a: str, b: str) -> Item | None:
        return self.db.get(keys.intro_guard(group_id, a, b))

    def get(self, group_id: str, intro_id: str) -> Intro | None:
        item = self.db.get(keys.intro(group_id, intro_id))
        return _intro(item) if item else None

    def of_group(self, group_id: str) -> Iterator[Intro]:
        """Every intro of the group (stats, erasure): a Query of its own prefix."""
        for item in self.db.query_all(partition=keys.group_pk(group_id), prefix=keys.INTRO_OFFER_PREFIX,
                                      consistent=True):
            yield _intro(item)

    def answer(self, group_id: str, intro_id: str, member_id: str, answer: str) -> Intro | None:
        """Record the member's first answer while the offer is open; None when nothing changed
        (answered already, or no longer open)."""
        try:
            item = self.db.update(keys.intro(group_id, intro_id), "SET answers.#m = :a",
                                  condition="attribute_exists(PK) AND #st = :open AND contains(member_ids, :me) "
                                            "AND attribute_not_exists(answers.#m)",
                                  names={"#m": member_id, "#st": "status"},
                                  values={":a": answer, ":open": "open", ":me": member_id})
        except ConditionFailed:
            return None
        return _intro(item)

    def close(self, intro: Intro, status: IntroStatus, at: datetime, *,
              thanks: tuple[str, datetime] | None = None) -> bool:
        """open -> `status`, once: the connector's open count goes down (and, connected, their
        accepted count up, with the month's thanks noted: (month, due_at)). False when it was
        closed already."""
        group_id = intro.group_id
        counts = "ADD #open :minus" + (", accepted :one" if status == "connected" else "")
        actions: list[dict[str, Any]] = [
            {"Update": {"Key": keys.intro(group_id, intro.intro_id),
                        "UpdateExpression": "SET #st = :status, closed_at = :at REMOVE #gpk, #gsk",
                        "ConditionExpression": "attribute_exists(PK) AND #st = :open",
                        "ExpressionAttributeNames": {"#st": "status", "#gpk": GSI1PK, "#gsk": GSI1SK},
                        "ExpressionAttributeValues": {":status": status, ":at": at, ":open": "open"}}},
            {"Update": {"Key": keys.intro_member(group_id, intro.connector_id),
                        "UpdateExpression": f"SET member_id = :me {counts}",
                        "ExpressionAttributeNames": {"#open": "open"},
                        "ExpressionAttributeValues": {":me": intro.connector_id, ":minus": -1,
                                                      **({":one": 1} if status == "connected" else {})}}},
        ]
        if thanks is not None and status == "connected":
            month, due_at = thanks
            actions.append({"Update": {
                "Key": keys.intro_thanks(group_id, month, intro.connector_id),
                "UpdateExpression": "SET #gpk = :gpk, #gsk = :gsk, group_id = :g, member_id = :me, "
                                    "#month = :month ADD intro_ids :intro",
                "ExpressionAttributeNames": {"#gpk": GSI1PK, "#gsk": GSI1SK, "#month": "month"},
                "ExpressionAttributeValues": {
                    **{f":{k}": v for k, v in zip(("gpk", "gsk"), keys.intro_thanks_index(
                        group_id, month, intro.connector_id, due_at).values(), strict=True)},
                    ":g": group_id, ":me": intro.connector_id, ":month": month,
                    ":intro": {intro.intro_id}}}})
        try:
            self.db.transact(actions)
        except TransactionCancelled as cancelled:
            if cancelled.failed(0):
                return False
            raise errors.StaleWrite("something changed meanwhile; try again") from None
        return True

    def mark_met(self, intro: Intro, member_id: str) -> bool:
        """One of the two says they met (once each); the first such answer credits the
        connector's "met" once. False when this member said so already."""
        try:
            item = self.db.update(keys.intro(intro.group_id, intro.intro_id), "SET met_by = list_append(met_by, :me)",
                                  condition="attribute_exists(PK) AND #st = :connected AND contains(member_ids, :id) "
                                            "AND NOT contains(met_by, :id)",
                                  names={"#st": "status"},
                                  values={":me": [member_id], ":connected": "connected", ":id": member_id})
        except ConditionFailed:
            return False
        if len(item.get("met_by", [])) == 1:
            self.db.update(keys.intro_member(intro.group_id, intro.connector_id),
                           "SET member_id = :me ADD met :one", values={":me": intro.connector_id, ":one": 1})
        return True

    def note_introduced(self, group_id: str, a: str, b: str, at: datetime) -> None:
        """Both lunch records note that the two met outside a round, through an intro or at a
        meetup ("<when>/<partner>"), so the repeat rule counts it as a meeting
        (services/intros.as_met); set ADDs, a rerun adds nothing."""
        when = timeutil.to_store(at)
        for me, other in ((a, b), (b, a)):
            self.db.update(keys.lunch_member(group_id, me), "SET member_id = :me ADD introduced :entry",
                           values={":me": me, ":entry": {Noted(when, other).stored()}})

    # ---- the hourly runs: expiry and thanks

    def expired(self, now: datetime) -> Iterator[tuple[str, str]]:
        """(group_id, intro_id) of open offers whose 14 days are over (Query GSI1 by time)."""
        yield from (( i["group_id"], i["intro_id"]) for i in self._due(keys.INTRO_EXPIRY, now))

    def thanks_due(self, now: datetime) -> Iterator[tuple[str, str, str]]:
        """(group_id, month, member_id) of monthly thanks due (Query GSI1 by time)."""
        yield from ((i["group_id"], i["month"], i["member_id"]) for i in self._due(keys.INTRO_THANKS, now))

    def _due(self, partition: str, now: datetime) -> Iterator[Item]:
        return self.db.query_all(partition=partition, index=True, upper=keys.due_by(now), page_size=200)

    def get_thanks(self, group_id: str, month: str, member_id: str) -> list[str]:
        item = self.db.get(keys.intro_thanks(group_id, month, member_id))
        return sorted(item.get("intro_ids", ())) if item else []

    def thanks_done(self, group_id: str, month: str, member_id: str) -> None:
        self.db.delete(keys.intro_thanks(group_id, month, member_id))

    # ---- erasure

    def forget(self, group_id: str, member_id: str) -> list[Intro]:
        """Delete every offer the member was in or made, their guards, records and thanks;
        answers the deleted offers (whose mail to others must be scrubbed)."""
        gone = [i for i in self.of_group(group_id) if member_id in (i.connector_id, *i.member_ids)]
        for intro in gone:
            a, b = intro.member_ids
            with contextlib.suppress(ConditionFailed):
                self.db.delete(keys.intro_guard(group_id, a, b), condition="intro_id = :i",
                               values={":i": intro.intro_id})
            self.db.delete(keys.intro(group_id, intro.intro_id))
            if intro.status == "open" and intro.connector_id != member_id:  # no longer waiting
                self.db.update(keys.intro_member(group_id, intro.connector_id), "ADD #open :minus",
                               names={"#open": "open"}, values={":minus": -1})
        self.db.delete(keys.intro_member(group_id, member_id))
        for item in self.db.query_all(partition=keys.group_pk(group_id), prefix="INTRO#THANKS#", consistent=True):
            if item.get("member_id") == member_id:
                self.db.delete({PK: item[PK], SK: item[SK]})
        return gone
