"""People to meet at a meetup, as stored: who was suggested to whom at which meetup, whom
each said they met, when the "did you meet them?" email is due, and the pairs who met there.
Key formats: store/keys.py (the "people to meet at a meetup" rows)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from chalicelib.store import keys
from chalicelib.store.core import ConditionFailed, Db, Item
from chalicelib.store.schema import GSI1PK, GSI1SK, PK, SK

_KEYS = (PK, SK, GSI1PK, GSI1SK)


class MeetupSuggestions(BaseModel):
    """Whom one member was told to look for at one meetup (best first), and whom they said they met."""

    group_id: str
    meetup_id: str
    member_id: str
    suggested: list[str]
    met: list[str] = Field(default_factory=list)
    mail_key: str = ""  # the dedupe key of the suggestions email (erasure scrubs it)


def _suggestions(item: Item) -> MeetupSuggestions:
    plain = {k: v for k, v in item.items() if k not in _KEYS}
    plain["met"] = sorted(plain.get("met") or ())  # a string set
    return MeetupSuggestions.model_validate(plain)


class MeetupPeopleRepo:
    def __init__(self, db: Db) -> None:
        self.db = db

    def record(self, group_id: str, meetup_id: str, suggested: Mapping[str, Sequence[str]],
               mail_keys: Mapping[str, str], ask_at: datetime) -> None:
        """Each member's suggestions, kept as first written (a rerun changes nothing, so the
        page always lists what the email said), and the meetup's ask due at `ask_at`."""

        def update(member_id: str) -> list[dict[str, Any]]:
            return [{"Update": {
                "Key": keys.meetup_suggestions(group_id, meetup_id, member_id),
                "UpdateExpression": "SET #t = :t, group_id = :g, meetup_id = :e, member_id = :m, "
                                    "suggested = if_not_exists(suggested, :s), mail_key = if_not_exists(mail_key, :k)",
                "ExpressionAttributeNames": {"#t": "type"},
                "ExpressionAttributeValues": {":t": "meetup_suggestions", ":g": group_id, ":e": meetup_id,
                                              ":m": member_id, ":s": list(suggested[member_id]),
                                              ":k": mail_keys.get(member_id, "")}}}]

        self.db.transact_each(sorted(suggested), update)
        self.arm_ask(group_id, meetup_id, ask_at)

    def arm_ask(self, group_id: str, meetup_id: str, ask_at: datetime) -> None:
        """(Re)set when the meetup's ask is due, unless it went out already."""
        with contextlib.suppress(ConditionFailed):
            self.db.put({**keys.meetup_ask(group_id, meetup_id), **keys.meetup_ask_index(group_id, meetup_id, ask_at),
                         "type": "meetup_ask", "group_id": group_id, "meetup_id": meetup_id},
                        condition="attribute_not_exists(PK) OR attribute_exists(#gpk)", names={"#gpk": GSI1PK})

    def asks_due(self, now: datetime) -> Iterator[tuple[str, str]]:
        """(group_id, meetup_id) of meetups whose "did you meet them?" is due (Query GSI1 by time)."""
        for item in self.db.query_all(partition=keys.MEETPEOPLE_ASKS, index=True, upper=keys.due_by(now),
                                      page_size=200):
            yield item["group_id"], item["meetup_id"]

    def asked(self, group_id: str, meetup_id: str) -> None:
        """The asks went out: off the time index, for good."""
        self.db.update(keys.meetup_ask(group_id, meetup_id), "REMOVE #gpk, #gsk SET asked = :t",
                       names={"#gpk": GSI1PK, "#gsk": GSI1SK}, values={":t": True})

    def of_meetup(self, group_id: str, meetup_id: str) -> list[MeetupSuggestions]:
        return [_suggestions(i) for i in self.db.query_all(
            partition=keys.group_pk(group_id), prefix=keys.meetup_suggestions_of(meetup_id), consistent=True)]

    def get(self, group_id: str, meetup_id: str, member_id: str) -> MeetupSuggestions | None:
        item = self.db.get(keys.meetup_suggestions(group_id, meetup_id, member_id))
        return _suggestions(item) if item else None

    def note_met(self, group_id: str, meetup_id: str, member_id: str, other_id: str) -> bool:
        """`member_id` says they met `other_id`, who was suggested to them: the pair is noted
        for the network, then on their record (once: False when they said so already)."""
        a, b = sorted((member_id, other_id))
        self.db.update(keys.met_at_meetup(group_id, a, b),
                       "SET #t = :t, group_id = :g, member_ids = :ids ADD meetup_ids :e",
                       names={"#t": "type"}, values={":t": "met_at_meetup", ":g": group_id, ":ids": [a, b],
                                                     ":e": {meetup_id}})
        try:
            self.db.update(keys.meetup_suggestions(group_id, meetup_id, member_id), "ADD met :other",
                           condition="attribute_exists(PK) AND contains(suggested, :id) "
                                     "AND (attribute_not_exists(met) OR NOT contains(met, :id))",
                           values={":other": {other_id}, ":id": other_id})
        except ConditionFailed:
            return False
        return True

    def met_pairs(self, group_id: str) -> list[tuple[str, str, int]]:
        """Every two who met at a meetup: (a, b, meetups), a < b (Query PK, begins_with)."""
        return [(i["member_ids"][0], i["member_ids"][1], len(i.get("meetup_ids") or ())) for i in
                self.db.query_all(partition=keys.group_pk(group_id), prefix=keys.MEETPEOPLE_MET_PREFIX)]

    def forget(self, group_id: str, member_id: str) -> list[MeetupSuggestions]:
        """Erasure: the member's records and the pairs they met in go; others' records stop
        naming them. Answers the others' records that named them (their mail gets scrubbed)."""
        named = []
        for item in self.db.query_all(partition=keys.group_pk(group_id), prefix=keys.MEETPEOPLE_PREFIX,
                                      consistent=True):
            kind = item.get("type")
            theirs = (kind == "met_at_meetup" and member_id in item.get("member_ids", ())) or (
                kind == "meetup_suggestions" and item.get("member_id") == member_id)
            if theirs:
                self.db.delete({PK: item[PK], SK: item[SK]})
            elif kind == "meetup_suggestions" and member_id in item.get("suggested", ()):
                record = _suggestions(item)
                named.append(record)
                self.db.update({PK: item[PK], SK: item[SK]},
                               "SET suggested = :s" + (" DELETE met :gone" if member_id in record.met else ""),
                               values={":s": [m for m in record.suggested if m != member_id],
                                       **({":gone": {member_id}} if member_id in record.met else {})})
        return named
