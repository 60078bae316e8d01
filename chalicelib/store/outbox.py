"""Recorded email: created once per dedupe key, claimed with a lease, marked sent."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel

from chalicelib import errors
from chalicelib.store import keys
from chalicelib.store.core import ConditionFailed, Db, Item
from chalicelib.store.delivery import DeliveryRepo
from chalicelib.store.schema import GSI1PK, GSI1SK

MailStatus = Literal["queued", "sending", "sent", "suppressed", "dead"]
MAX_ATTEMPTS = 5
_CONTENT = "subject, #txt, html, calendar, calendar_method, reply_to, cc"  # `text` is a reserved word
_CONTENT_NAMES = {"#txt": "text"}


class Mail(BaseModel):
    mail_id: str
    group_id: str
    member_id: str  # a member's id, or keys.address_id(to_email) for mail to an address
    kind: str
    dedupe_key: str
    # The content is kept only until the mail is sent (or suppressed): then the record keeps
    # its metadata for dedupe and audit, and none of the words (privacy by default).
    subject: str = ""
    text: str = ""
    html: str = ""
    calendar: bytes | None = None
    calendar_method: str | None = None
    reply_to: list[list[str]] | None = None  # [name, address] pairs; None: the group's Reply-To
    cc: list[list[str]] | None = None  # [name, address] pairs copied (an introduction's connector)
    # Mail to an address (member_id is its address id): whom it goes to. Kept after sending for
    # the audit like the rest of the metadata; erased with the address's mailbox.
    to_email: str | None = None
    to_name: str | None = None
    status: MailStatus = "queued"
    attempts: int = 0
    job_id: str | None = None  # the invitation job that recorded it, whose counters it moves
    created_at: datetime
    sent_at: datetime | None = None
    lease_until: datetime | None = None
    last_error: str | None = None


def _item(mail: Mail) -> Item:
    return {**keys.mail(mail.group_id, mail.member_id, mail.mail_id),
            **keys.pending_mail_index(mail.group_id, mail.member_id, mail.mail_id, mail.created_at),
            "type": "mail", **mail.model_dump()}


def _mail(item: Item) -> Mail:
    return Mail.model_validate({k: v for k, v in item.items() if k not in (GSI1PK, GSI1SK)})


class OutboxRepo:
    def __init__(self, db: Db) -> None:
        self.db = db
        self.log = DeliveryRepo(db)  # the console's per-group delivery log, written beside the mail

    def add_new(self, mails: Sequence[Mail]) -> list[Mail]:
        """Record the mails whose dedupe key is new, in transactions of 100; answer those (the
        others existed)."""
        existing = {i["mail_id"] for i in self.db.get_many(
            [keys.mail(m.group_id, m.member_id, m.mail_id) for m in mails])}
        pending = list({m.mail_id: m for m in mails if m.mail_id not in existing}.values())
        # Refused ones were recorded meanwhile by someone else, who delivers them; a table too
        # busy to record some raises errors.Unavailable rather than answer fewer.
        return self.db.transact_each(pending, lambda m: [self.put_action(m)]).written

    @staticmethod
    def put_action(mail: Mail) -> dict[str, Any]:
        """The mail's record as one action of a caller's transaction (the transactional
        outbox: the state change and its email commit together or not at all)."""
        return {"Put": {"Item": _item(mail), "ConditionExpression": "attribute_not_exists(PK)"}}

    def get(self, group_id: str, member_id: str, mail_id: str) -> Mail | None:
        item = self.db.get(keys.mail(group_id, member_id, mail_id))
        return _mail(item) if item else None

    def claim(self, mail: Mail, now: datetime, lease_until: datetime) -> Mail | None:
        """Take the mail for sending: queued, or sending with an expired lease. None if taken."""
        return self.claim_key(mail.group_id, mail.member_id, mail.mail_id, now, lease_until)

    def claim_key(self, group_id: str, member_id: str, mail_id: str, now: datetime,
                  lease_until: datetime) -> Mail | None:
        """`claim` by key, in one UpdateItem: None if absent, taken, or already finished."""
        try:
            item = self.db.update(
                keys.mail(group_id, member_id, mail_id),
                "SET #st = :sending, lease_until = :lease, attempts = attempts + :one",
                condition="attribute_exists(PK) AND "
                          "(#st = :queued OR (#st = :sending AND lease_until < :now))",
                names={"#st": "status"},
                values={":sending": "sending", ":queued": "queued", ":lease": lease_until,
                        ":one": 1, ":now": now})
        except ConditionFailed:
            return None
        return _mail(item)

    def finish(self, mail: Mail, status: MailStatus, at: datetime) -> None:
        """Mark sent or suppressed, drop the content, and leave the pending index (guarded:
        only by its sender)."""
        try:
            self.db.update(keys.mail(mail.group_id, mail.member_id, mail.mail_id),
                           f"SET #st = :status, sent_at = :at REMOVE lease_until, #gpk, #gsk, {_CONTENT}",
                           condition="#st = :sending",
                           names={"#st": "status", "#gpk": GSI1PK, "#gsk": GSI1SK, **_CONTENT_NAMES},
                           values={":status": status, ":sending": "sending", ":at": at})
        except ConditionFailed:  # another sender finished it first (and counted it)
            return
        self.log.note(mail, status)  # counted when the worker's batch ends (DeliveryRepo.flush)

    def release(self, mail: Mail, error: str, *, retry_at: datetime, counts: bool = True) -> Mail:
        """Give a failed send back: queued, due again at `retry_at`, or dead after MAX_ATTEMPTS
        (kept, visible). A send that did not count (SES throttling, its daily quota) gives its
        attempt back: it never makes a mail dead."""
        status = "dead" if counts and mail.attempts >= MAX_ATTEMPTS else "queued"
        names = {"#st": "status", "#gsk": GSI1SK}
        values: dict[str, Any] = {":status": status, ":err": error[:500]}
        sets = "SET #st = :status, last_error = :err"
        if not counts:
            sets += ", attempts = attempts - :one"
            values[":one"] = 1
        if status == "dead":
            expression = f"{sets} REMOVE lease_until, #gpk, #gsk"
            names["#gpk"] = GSI1PK
        else:
            due = keys.pending_mail_index(mail.group_id, mail.member_id, mail.mail_id, retry_at)
            expression = f"{sets}, #gsk = :due REMOVE lease_until"
            values[":due"] = due[GSI1SK]
        item = self.db.update(keys.mail(mail.group_id, mail.member_id, mail.mail_id), expression,
                              names=names, values=values)
        return _mail(item)

    def scrub(self, group_id: str, member_id: str, mail_id: str) -> None:
        """Drop a mail's content (it names someone erased); one not sent yet never will be."""
        key = keys.mail(group_id, member_id, mail_id)
        names = {"#st": "status", "#gpk": GSI1PK, "#gsk": GSI1SK, **_CONTENT_NAMES}
        try:
            self.db.update(key, f"SET #st = :suppressed REMOVE #gpk, #gsk, {_CONTENT}",
                           condition="attribute_exists(PK) AND #st <> :sent", names=names,
                           values={":suppressed": "suppressed", ":sent": "sent"})
        except ConditionFailed:  # absent, or sent: then only the words go
            with contextlib.suppress(ConditionFailed):
                self.db.update(key, f"REMOVE {_CONTENT}", condition="attribute_exists(PK)",
                               names=_CONTENT_NAMES)

    def pending(self, before: datetime) -> Iterator[Mail]:
        """Every mail not sent yet that was due before `before` (the recovery sweep), page by
        page until none is left: no cap."""
        bound = keys.time_bound(before)
        cursor: str | None = None
        while True:
            page = self.db.query_page(partition=keys.PENDING_MAIL, index=True, upper=bound, limit=500,
                                      cursor=cursor)
            yield from (_mail(item) for item in page.items)
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def reserve_send_times(self, count: int, rate: float, now: float) -> float:
        """Reserve `count` send times spaced 1/rate apart on the shared bucket; answers the first
        (epoch seconds; the i-th is first + i/rate). One UpdateItem, two when the bucket was idle.
        Every worker reserves from the same line, so together they never pass `rate`."""
        # Rounded up to the microsecond: rounding down would let the line creep closer than 1/rate.
        span = Decimal(math.ceil(count / rate * 1_000_000)) / 1_000_000
        at = Decimal(str(round(now, 6)))
        key = keys.mail_rate_bucket()
        for _ in range(8):
            try:  # busy: the line reaches into the future, take the next `count` places
                item = self.db.update(key, "SET next_free = next_free + :span",
                                      condition="next_free >= :now", values={":span": span, ":now": at})
                return float(item["next_free"]) - float(span)
            except ConditionFailed:
                pass
            try:  # idle: start the line now
                self.db.put({**key, "type": "mail_rate", "next_free": at + span},
                            condition="attribute_not_exists(next_free) OR next_free < :now",
                            values={":now": at})
                return now
            except ConditionFailed:
                continue  # another worker started it between the two: join the line
        raise errors.Unavailable("The mail send-rate bucket is busy; try again in a moment.")

    def of_member(self, group_id: str, member_id: str) -> list[dict[str, Any]]:
        return [k for k in self.db.query_all(partition=keys.mailbox(group_id, member_id))]

    def erase_member(self, group_id: str, member_id: str) -> int:
        """Delete every mail recorded for this member (their address and words are in it)."""
        found = self.of_member(group_id, member_id)
        return self.db.write_batch(deletes=[{"PK": i["PK"], "SK": i["SK"]} for i in found])
