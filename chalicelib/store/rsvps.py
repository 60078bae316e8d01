"""RSVPs, the waitlist and the start index: every seat change is one transaction with the
meetup's counters, so capacity holds under any concurrency.

An answer reads with one BatchGetItem (group, member, meetup, own RSVP; consistent) and
writes with one TransactWriteItems: the meetup's counters (guarded by the organizer's
`updated_at` and by a capacity condition), the RSVP (guarded by its version), the waitlist
entry, and the start index. A lost race surfaces as `errors.StaleWrite`: re-read, decide again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib import errors, timeutil
from chalicelib.models import Group, Meetup, Member, Rsvp
from chalicelib.store import keys
from chalicelib.store.core import ConditionFailed, Db, Item, TransactionCancelled
from chalicelib.store.meetups import to_meetup
from chalicelib.store.schema import GSI1PK, GSI1SK


class WaitEntryGone(Exception):
    """Raised when a waitlist entry was promoted or withdrawn by someone else meanwhile:
    the promoter moves on to the next entry."""


@dataclass(frozen=True)
class Snapshot:
    """What an RSVP page or answer needs, read in one round trip."""

    group: Group | None
    member: Member | None
    meetup: Meetup | None
    rsvp: Rsvp | None


@dataclass(frozen=True)
class WaitEntry:
    """One place on a meetup's waitlist (in promotion order when listed)."""

    member_id: str
    guests: int
    version: int
    waitlisted_at: datetime
    answered_at: datetime | None = None

    @property
    def seats(self) -> int:
        return 1 + self.guests


def _item(rsvp: Rsvp) -> Item:
    return {**keys.rsvp(rsvp.meetup_id, rsvp.member_id),
            **keys.rsvp_index(rsvp.meetup_id, rsvp.status, rsvp.answered_at, rsvp.member_id),
            "type": "rsvp", **rsvp.model_dump()}


def _rsvp(item: Item) -> Rsvp:
    return Rsvp.model_validate({k: v for k, v in item.items() if k not in (GSI1PK, GSI1SK)})


def _wait_item(rsvp: Rsvp) -> Item:
    assert rsvp.waitlisted_at is not None
    return {**keys.waitlist_entry(rsvp.meetup_id, rsvp.waitlisted_at, rsvp.member_id),
            "type": "waitlist_entry", "member_id": rsvp.member_id, "guests": rsvp.guests,
            "version": rsvp.version, "waitlisted_at": rsvp.waitlisted_at,
            "answered_at": rsvp.answered_at}


def promoted_rsvp(meetup: Meetup, entry: WaitEntry, now: datetime) -> Rsvp:
    """The RSVP as the promotion transaction leaves it (built, not read back: no round trip)."""
    return Rsvp(meetup_id=meetup.meetup_id, member_id=entry.member_id, group_id=meetup.group_id,
                status="going", guests=entry.guests, answered_at=entry.answered_at or entry.waitlisted_at,
                version=entry.version + 1)


def _start_item(meetup: Meetup) -> Item:
    return {**keys.meetup_start(meetup.group_id, meetup.meetup_id, meetup.starts_at),
            "type": "meetup_start", "group_id": meetup.group_id, "meetup_id": meetup.meetup_id,
            "starts_at": meetup.starts_at}


def _capacity_condition(meetup: Meetup, names: dict[str, str], values: dict[str, Any],
                        room_for: int | None) -> list[str]:
    """Conditions that the capacity read is still the capacity, and that `room_for` more seats
    still fit (`going_seats <= capacity - room_for`)."""
    names["#cap"] = "capacity"
    if meetup.capacity is None:
        return ["attribute_not_exists(#cap)"]
    values[":cap"] = meetup.capacity
    parts = ["#cap = :cap"]
    if room_for is not None:
        values[":room"] = meetup.capacity - room_for
        parts.append("#gs <= :room")
    return parts


def _prune(spec: dict[str, Any]) -> None:
    """DynamoDB refuses expression names and values that no expression uses."""
    text = " ".join(spec.get(k, "") for k in ("ConditionExpression", "UpdateExpression"))
    for field in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
        spec[field] = {k: v for k, v in spec[field].items() if re.search(re.escape(k) + r"\b", text)}


class RsvpRepo:
    def __init__(self, db: Db) -> None:
        self.db = db

    # ---- reads

    def load(self, group_id: str, meetup_id: str, member_id: str) -> Snapshot:
        """Group, member, meetup and the member's RSVP: one consistent BatchGetItem."""
        items = self.db.get_many([keys.group(group_id), keys.member(group_id, member_id),
                                  keys.meetup(group_id, meetup_id), keys.rsvp(meetup_id, member_id)])
        by_type = {i.get("type"): i for i in items}
        group = by_type.get("group")
        member = by_type.get("member")
        meetup = by_type.get("meetup")
        rsvp = by_type.get("rsvp")
        return Snapshot(
            group=Group.model_validate(group) if group else None,
            member=Member.model_validate({k: v for k, v in member.items()
                                          if k not in (GSI1PK, GSI1SK)}) if member else None,
            meetup=to_meetup(meetup) if meetup else None,
            rsvp=_rsvp(rsvp) if rsvp and rsvp.get("group_id") == group_id else None,
        )

    def get(self, meetup_id: str, member_id: str) -> Rsvp | None:
        item = self.db.get(keys.rsvp(meetup_id, member_id))
        return _rsvp(item) if item else None

    def page(self, meetup_id: str, status: str | None, *, limit: int,
             cursor: str | None) -> tuple[list[Rsvp], str | None]:
        """One page: by status through GSI1 (in answer order), or all through the partition."""
        if status is None:
            page = self.db.query_page(partition=keys.rsvps_of(meetup_id), prefix=keys.RSVP_PREFIX,
                                      limit=limit, cursor=cursor)
        else:
            page = self.db.query_page(partition=keys.rsvps_with_status(meetup_id, status),
                                      index=True, limit=limit, cursor=cursor)
        return [_rsvp(i) for i in page.items], page.next_cursor

    def all(self, meetup_id: str, *, consistent: bool = True) -> Iterator[Rsvp]:
        for item in self.db.query_all(partition=keys.rsvps_of(meetup_id), prefix=keys.RSVP_PREFIX,
                                      consistent=consistent):
            yield _rsvp(item)

    def waitlist(self, meetup_id: str, *, page_size: int = 100) -> Iterator[WaitEntry]:
        """The waitlist in promotion order, strongly consistent."""
        for item in self.db.query_all(partition=keys.rsvps_of(meetup_id), prefix=keys.WAIT_PREFIX,
                                      consistent=True, page_size=page_size):
            yield WaitEntry(member_id=item["member_id"], guests=int(item["guests"]),
                            version=int(item["version"]),
                            waitlisted_at=timeutil.from_store(item["waitlisted_at"]),
                            answered_at=timeutil.from_store(item["answered_at"])
                            if item.get("answered_at") else None)

    # ---- the answer transaction

    def commit(self, meetup: Meetup, before: Rsvp | None, after: Rsvp, *, seats_delta: int,
               wait_delta: int, room_for: int | None, full_for: int | None,
               extra: Sequence[dict[str, Any]] = ()) -> None:
        """Write one answer with the meetup's counters in one transaction.

        room_for: seats that must still fit (going_seats + room_for <= capacity);
        full_for: seats that must still not fit (the member stays or goes on the waitlist).
        extra: more actions for the same transaction (the confirmation's outbox record).
        Raises StaleWrite when the meetup, the capacity or the RSVP changed since they were read.
        """
        names = {"#upd": "updated_at", "#st": "status", "#gs": "going_seats"}
        values: dict[str, Any] = {":seen": meetup.updated_at, ":scheduled": "scheduled"}
        condition = ["attribute_exists(PK)", "#upd = :seen", "#st = :scheduled"]
        condition += _capacity_condition(meetup, names, values, room_for)
        if full_for is not None and meetup.capacity is not None:
            values[":full"] = meetup.capacity - full_for
            condition.append("#gs > :full")
        adds = []
        if seats_delta:
            adds.append("#gs :ds")
            values[":ds"] = seats_delta
        if wait_delta:
            names["#wc"] = "waitlist_count"
            adds.append("#wc :dw")
            values[":dw"] = wait_delta
        meetup_key = keys.meetup(meetup.group_id, meetup.meetup_id)
        spec: dict[str, Any] = {"Key": meetup_key, "ConditionExpression": " AND ".join(condition),
                                "ExpressionAttributeNames": names,
                                "ExpressionAttributeValues": values}
        if adds:
            spec["UpdateExpression"] = "ADD " + ", ".join(adds)
        _prune(spec)
        actions: list[dict[str, Any]] = [{"Update" if adds else "ConditionCheck": spec}]
        if before is None:
            actions.append({"Put": {"Item": _item(after),
                                    "ConditionExpression": "attribute_not_exists(PK)"}})
        else:
            actions.append({"Put": {"Item": _item(after), "ConditionExpression": "version = :v",
                                    "ExpressionAttributeValues": {":v": before.version}}})
        was_waiting = before is not None and before.status == "waitlisted"
        if was_waiting and after.status != "waitlisted":
            assert before is not None and before.waitlisted_at is not None
            actions.append({"Delete": {
                "Key": keys.waitlist_entry(meetup.meetup_id, before.waitlisted_at, before.member_id),
                "ConditionExpression": "attribute_exists(PK)"}})
        elif after.status == "waitlisted":
            actions.append({"Put": {"Item": _wait_item(after)}})
        if after.status == "going" and meetup.going_seats == 0:
            # The first seat taken puts the meetup in the start index (reminders); a later
            # move rewrites it (services.rsvp.after_change), so one write per meetup suffices.
            actions.append({"Put": {"Item": _start_item(meetup)}})
        actions.extend(extra)
        try:
            self.db.transact(actions)
        except TransactionCancelled:
            raise errors.StaleWrite("the meetup or the answer changed meanwhile") from None

    # ---- promotion

    def promote(self, meetup: Meetup, entry: WaitEntry, now: datetime,
                extra: Sequence[dict[str, Any]] = ()) -> Rsvp:
        """Move one waitlisted member to going, if their seats still fit and the entry is still
        there (with `extra` actions in the same transaction: the notice's outbox record).
        Raises WaitEntryGone (someone else got it first) or StaleWrite (meetup changed or full:
        re-read it)."""
        names = {"#st": "status", "#gs": "going_seats", "#wc": "waitlist_count"}
        values: dict[str, Any] = {":scheduled": "scheduled", ":s": entry.seats, ":minus": -1}
        condition = ["attribute_exists(PK)", "#st = :scheduled"]
        condition += _capacity_condition(meetup, names, values, entry.seats)
        new_version = entry.version + 1
        rsvp_key = keys.rsvp(meetup.meetup_id, entry.member_id)
        actions: list[dict[str, Any]] = [
            {"Update": {"Key": keys.meetup(meetup.group_id, meetup.meetup_id),
                        "UpdateExpression": "ADD #gs :s, #wc :minus",
                        "ConditionExpression": " AND ".join(condition),
                        "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}},
            {"Delete": {"Key": keys.waitlist_entry(meetup.meetup_id, entry.waitlisted_at,
                                                   entry.member_id),
                        "ConditionExpression": "attribute_exists(PK) AND version = :v",
                        "ExpressionAttributeValues": {":v": entry.version}}},
            {"Update": {"Key": rsvp_key,
                        "UpdateExpression": "SET #st = :going, version = :nv, promoted_at = :now, "
                                            "#gpk = :gpk REMOVE waitlisted_at",
                        "ConditionExpression": "version = :v AND #st = :waitlisted",
                        "ExpressionAttributeNames": {"#st": "status", "#gpk": GSI1PK},
                        "ExpressionAttributeValues": {
                            ":going": "going", ":nv": new_version, ":v": entry.version,
                            ":waitlisted": "waitlisted", ":now": now,
                            ":gpk": keys.rsvps_with_status(meetup.meetup_id, "going")}}},
        ]
        actions.extend(extra)
        try:
            self.db.transact(actions)
        except TransactionCancelled as cancelled:
            if cancelled.failed(1) or cancelled.failed(2):
                raise WaitEntryGone(entry.member_id) from None
            raise errors.StaleWrite("the meetup changed meanwhile") from None
        return promoted_rsvp(meetup, entry, now)

    # ---- attendance

    def check_in(self, meetup_id: str, member_id: str, now: datetime) -> Rsvp:
        """Record attendance once; a second check-in answers the first one's time."""
        try:
            item = self.db.update(
                keys.rsvp(meetup_id, member_id), "SET checked_in_at = :now",
                condition="attribute_exists(PK) AND #st = :going AND attribute_not_exists(checked_in_at)",
                names={"#st": "status"}, values={":now": now, ":going": "going"},
                return_old_on_fail=True)
        except ConditionFailed as failed:
            old = failed.old
            if old is None:
                raise errors.NotFound("this member has not answered", field="member_id") from None
            rsvp = _rsvp(old)
            if rsvp.status != "going":
                raise errors.Conflict("only members who are going can be checked in",
                                      field="status") from None
            return rsvp
        return _rsvp(item)

    # ---- the start index (reminders)

    def put_start(self, meetup: Meetup) -> None:
        self.db.put(_start_item(meetup))

    def delete_start(self, meetup: Meetup) -> None:
        self.db.delete(keys.meetup_start(meetup.group_id, meetup.meetup_id, meetup.starts_at))

    def starting_between(self, lower: datetime, upper: datetime) -> list[tuple[str, str]]:
        """(group_id, meetup_id) of meetups starting in [lower, upper): one Query per UTC day."""
        found: list[tuple[str, str]] = []
        day = lower.astimezone(timeutil.zone("UTC")).date()
        last = upper.astimezone(timeutil.zone("UTC")).date()
        while day <= last:
            cursor: str | None = None
            while True:
                page = self.db.query_page(partition=keys.starts_on(day),
                                          lower=timeutil.to_store(lower),
                                          upper=timeutil.to_store(upper), limit=200, cursor=cursor)
                found.extend((i["group_id"], i["meetup_id"]) for i in page.items)
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
            day += timedelta(days=1)
        return found
