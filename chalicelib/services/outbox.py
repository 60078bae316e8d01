"""Mail through an outbox: record each email once (by dedupe key), then deliver it.

queued -> sending (a lease) -> sent | suppressed (unsubscribed, bounced or erased at send time);
a failed send goes back to queued and is retried (SQS redelivery in AWS, the hourly sweep
everywhere), and after MAX_ATTEMPTS it stays recorded as dead (and its SQS message lands in
the dead-letter queue). Background work in general goes through `dispatch_work`: SQS in AWS,
inline locally and in tests.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib import deps, links
from chalicelib.models import Group, Member
from chalicelib.store import keys
from chalicelib.store.outbox import Mail

log = logging.getLogger(__name__)

MAIL_QUEUE = "powerlunch-mail"
LEASE = timedelta(minutes=5)
RETRY_AFTER = timedelta(minutes=2)


@dataclass(frozen=True)
class Email:
    """One email to one member, rendered. `dedupe_key` says what, to whom and which version:
    the same key is recorded (and sent) once."""

    kind: str
    dedupe_key: str
    subject: str
    text: str
    html: str
    calendar: bytes | None = None
    calendar_method: str | None = None


def email(kind: str, dedupe_key: str, group: Group, member: Member, *, calendar: bytes | None = None,
          calendar_method: str | None = None, **context: Any) -> Email:
    """The email of this kind for one member: templates/email/<kind> rendered with what every
    email shows (group, member, unsubscribe link), ready to queue."""
    from chalicelib.mail.render import render_email

    subject, text, html = render_email(
        kind, group_name=group.sender_name, member_name=member.name,
        unsubscribe_url=links.unsubscribe_url(group.group_id, member.member_id), **context)
    return Email(kind=kind, dedupe_key=dedupe_key, subject=subject, text=text, html=html,
                 calendar=calendar, calendar_method=calendar_method)


def _mail(group: Group, member: Member, email: Email, now: datetime) -> Mail:
    return Mail(mail_id=keys.mail_id(email.dedupe_key), group_id=group.group_id,
                member_id=member.member_id, kind=email.kind, dedupe_key=email.dedupe_key,
                subject=email.subject, text=email.text, html=email.html, calendar=email.calendar,
                calendar_method=email.calendar_method, created_at=now)


def record_action(group: Group, member: Member, email: Email) -> tuple[dict[str, Any], Mail]:
    """The email's outbox record as an action for the caller's own transaction; after that
    transaction commits, hand the mail to `dispatch_mail`."""
    mail = _mail(group, member, email, deps.now())
    return deps.store().outbox.put_action(mail), mail


def queue(group: Group, member: Member, email: Email) -> bool:
    """Record the email once and hand it to delivery; False when its dedupe key was seen."""
    return queue_many(group, [(member, email)]) == 1


def queue_many(group: Group, batch: Sequence[tuple[Member, Email]]) -> int:
    """Record many (one BatchGetItem per 100, conditional puts in transactions of 100), then
    deliver the new ones; answers how many were new."""
    now = deps.now()
    added = deps.store().outbox.add_new([_mail(group, m, e, now) for m, e in batch])
    for mail in added:
        dispatch_mail(mail)
    return len(added)


def dispatch_mail(mail: Mail) -> None:
    body = {"group_id": mail.group_id, "member_id": mail.member_id, "mail_id": mail.mail_id}
    if deps.settings().work_mode == "inline":
        try:
            deliver(**body)
        except Exception:  # recorded on the mail; the sweep retries it
            log.exception("inline delivery failed for mail %s", mail.mail_id)
        return
    dispatch_work(MAIL_QUEUE, body)


def deliver(group_id: str, member_id: str, mail_id: str) -> str:
    """Send one recorded mail unless it is sent or being sent; answers the resulting status.
    Raises when the send failed (the mail is back to queued, or dead after the last try)."""
    store = deps.store()
    mail = store.outbox.get(group_id, member_id, mail_id)
    if mail is None:
        return "missing"
    now = deps.now()
    claimed = store.outbox.claim(mail, now, now + LEASE)
    if claimed is None:
        return mail.status
    group = store.groups.get(group_id)
    member = store.members.get(group_id, member_id)
    if group is None or member is None or not member.subscribed or member.bounced:
        store.outbox.finish(claimed, "suppressed", now)
        return "suppressed"
    from chalicelib.mail import compose, sender

    try:
        raw = compose.compose(
            to_name=member.name, to_email=member.email, subject=claimed.subject,
            text=claimed.text, html=claimed.html, sender_name=group.sender_name,
            sender_email=deps.settings().sender_email, reply_to=group.reply_to,
            unsubscribe_url=links.unsubscribe_url(group_id, member_id),
            message_id_key=claimed.dedupe_key, calendar=claimed.calendar,
            calendar_method=claimed.calendar_method, date=now)
        sender.send_raw(raw, to_email=member.email, from_email=deps.settings().sender_email,
                        name_hint=f"{now:%Y%m%dT%H%M%S}-{claimed.kind}-{claimed.mail_id}")
    except Exception as exc:
        released = store.outbox.release(claimed, f"{type(exc).__name__}: {exc}")
        log.warning("mail %s failed (attempt %d, now %s)", mail_id, claimed.attempts, released.status)
        raise
    store.outbox.finish(claimed, "sent", now)
    return "sent"


def retry_stuck(now: datetime) -> int:
    """Re-dispatch mail recorded a while ago and still not sent (lost messages, failed sends)."""
    count = 0
    for mail in deps.store().outbox.pending(before=now - RETRY_AFTER):
        if mail.status == "queued" or (mail.status == "sending" and mail.lease_until
                                       and mail.lease_until < now):
            dispatch_mail(mail)
            count += 1
    return count


def scrub(group_id: str, member_id: str, dedupe_keys: Sequence[str]) -> None:
    """Drop the words of these mails to a member (they speak of someone being erased)."""
    for dedupe_key in dedupe_keys:
        deps.store().outbox.scrub(group_id, member_id, keys.mail_id(dedupe_key))


def erase_member(group_id: str, member_id: str) -> int:
    """Delete the member's recorded mail (it holds their address and our words to them)."""
    return deps.store().outbox.erase_member(group_id, member_id)


# ---------------------------------------------------------------- background work

_workers: dict[str, Callable[[dict[str, Any]], Any]] = {}


def register_worker(queue_name: str, handler: Callable[[dict[str, Any]], Any]) -> None:
    _workers[queue_name] = handler


register_worker(MAIL_QUEUE, lambda body: deliver(**body))


def dispatch_work(queue_name: str, body: dict[str, Any]) -> None:
    """Run background work: inline (locally, tests) or as an SQS message carrying ids only."""
    settings = deps.settings()
    if settings.work_mode == "inline":
        _workers[queue_name](body)
        return
    url = settings.queue_url(queue_name)
    if not url:
        raise RuntimeError(f"no queue URL configured for {queue_name}")
    deps.sqs_client().send_message(QueueUrl=url, MessageBody=json.dumps(body))


def handle_records(queue_name: str, records: Sequence[Any]) -> dict[str, list[dict[str, str]]]:
    """An SQS batch: run each record's work; the failed ones go back (partial batch response)."""
    failures: list[dict[str, str]] = []
    for record in records:
        data = record.to_dict()
        try:
            _workers[queue_name](json.loads(data["body"]))
        except Exception:
            log.exception("work on %s failed", queue_name)
            failures.append({"itemIdentifier": data["messageId"]})
    return {"batchItemFailures": failures}
