"""Meetups: one item per meetup holding its seat counters; listed by end time through GSI1."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib import errors
from chalicelib.models import Meetup
from chalicelib.store import keys
from chalicelib.store.core import ConditionFailed, Db, Item, set_remove
from chalicelib.store.schema import GSI1PK, GSI1SK


def _item(meetup: Meetup) -> Item:
    return {**keys.meetup(meetup.group_id, meetup.meetup_id),
            **keys.meetup_index(meetup.group_id, meetup.meetup_id, meetup.ends_at),
            "type": "meetup", **meetup.model_dump()}


def to_meetup(item: Item) -> Meetup:
    return Meetup.model_validate({k: v for k, v in item.items() if k not in (GSI1PK, GSI1SK)})


class MeetupRepo:
    def __init__(self, db: Db) -> None:
        self.db = db

    def create(self, meetup: Meetup) -> None:
        self.db.put(_item(meetup), condition="attribute_not_exists(PK)")

    def get(self, group_id: str, meetup_id: str) -> Meetup | None:
        item = self.db.get(keys.meetup(group_id, meetup_id))
        return to_meetup(item) if item else None

    def require(self, group_id: str, meetup_id: str) -> Meetup:
        meetup = self.get(group_id, meetup_id)
        if meetup is None:
            raise errors.NotFound("no such meetup in this group", field="meetup_id")
        return meetup

    def page(self, group_id: str, *, upcoming: bool, now: datetime, limit: int,
             cursor: str | None) -> tuple[list[Meetup], str | None]:
        """Upcoming (not yet ended, soonest first) or past (most recent first): one Query."""
        bound = keys.time_bound(now)
        page = self.db.query_page(partition=keys.meetups_of(group_id), index=True,
                                  lower=bound if upcoming else None,
                                  upper=None if upcoming else bound,
                                  forward=upcoming, limit=limit, cursor=cursor)
        return [to_meetup(i) for i in page.items], page.next_cursor

    def update(self, meetup: Meetup, changes: dict[str, Any], *, bump_sequence: bool) -> Meetup:
        """Write organizer edits guarded by `updated_at` (seat counters are left alone: RSVP
        transactions own them). Raises StaleWrite when the meetup changed since it was read."""
        extra = ["#seq = #seq + :one"] if bump_sequence else []
        if "ends_at" in changes:
            changes = {**changes, **keys.meetup_index(meetup.group_id, meetup.meetup_id,
                                                      changes["ends_at"])}
        expression, names, values = set_remove(changes, extra_sets=extra)
        names["#upd"] = "updated_at"
        values[":seen"] = meetup.updated_at
        if bump_sequence:
            names["#seq"] = "sequence"
            values[":one"] = 1
        try:
            item = self.db.update(keys.meetup(meetup.group_id, meetup.meetup_id), expression,
                                  condition="#upd = :seen", names=names, values=values)
        except ConditionFailed:
            raise errors.StaleWrite("the meetup changed meanwhile") from None
        return to_meetup(item)

    def cancel(self, meetup: Meetup, at: datetime, reason: str | None = None) -> Meetup | None:
        """Mark cancelled once, keeping the reason given; None when it already was (so notices
        go out once)."""
        try:
            item = self.db.update(
                keys.meetup(meetup.group_id, meetup.meetup_id),
                "SET #st = :cancelled, #seq = #seq + :one, updated_at = :at, cancel_reason = :reason",
                condition="attribute_exists(PK) AND #st = :scheduled",
                names={"#st": "status", "#seq": "sequence"},
                values={":cancelled": "cancelled", ":scheduled": "scheduled", ":one": 1, ":at": at,
                        ":reason": reason})
        except ConditionFailed:
            return None
        return to_meetup(item)
