"""Mail through an outbox: record each email once (by dedupe key), then deliver it.

queued -> sending (a lease) -> sent | suppressed (at send time: unsubscribed, bounced, erased,
or that kind turned off in settings: models.Member.wants); a failed send goes back to queued,
due again after a backoff, and after MAX_ATTEMPTS it stays recorded as dead. SES throttling
and an exhausted daily quota are not failures of the mail: a throttled one comes back on its
queue after a delay, a held one waits, queued, for the recovery sweep. Delivery is the
`mail.deliver` work of chalicelib/workers.py.

Sending is paced: every worker reserves its send times on one shared bucket in the table, at
the account's maximum send rate (SES GetSendQuota, cached a few minutes), so together they
never pass it.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib import deps, links, observe, workers
from chalicelib.models import Group, Member
from chalicelib.store import keys
from chalicelib.store.outbox import Mail

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
RETRY_AFTER = timedelta(minutes=2)  # recorded mail not sent by then is picked up by the sweep
QUOTA_HOLD = timedelta(hours=1)  # a held mail is tried again after this (SES's window rolls)
MAX_WAIT_SECONDS = 20.0  # a batch whose send times lie further out goes back on the queue


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
    # Whom a reply reaches, as (name, address): empty for the group's organizer (Reply-To of
    # the group), the partners for a lunch whose members all confirmed.
    reply_to: tuple[tuple[str, str], ...] = ()
    # Who is copied, as (name, address): the connector of an introduction both accepted.
    cc: tuple[tuple[str, str], ...] = ()


# Emails that carry the member's "Know two people who should meet?" link (services/intros.py).
INTRODUCE_LINKED = frozenset({"lunch_connected", "lunch_followup", "member_links", "intro_declined",
                              "intro_thanks"})


def email(kind: str, dedupe_key: str, group: Group, member: Member, *, calendar: bytes | None = None,
          calendar_method: str | None = None, reply_to: Sequence[tuple[str, str]] = (),
          cc: Sequence[tuple[str, str]] = (), **context: Any) -> Email:
    """The email of this kind for one member: templates/email/<kind> rendered with what every
    email shows (group, member, unsubscribe link, a freshly made settings link), ready to queue."""
    from chalicelib.mail.render import render_email

    subject, text, html = render_email(
        kind, group_name=group.sender_name, member_name=member.name,
        unsubscribe_url=links.unsubscribe_url(group.group_id, member.member_id),
        settings_url=links.settings_url(group.group_id, member.member_id),
        introduce_url=(links.introduce_url(group.group_id, member.member_id)
                       if kind in INTRODUCE_LINKED else None), **context)
    return Email(kind=kind, dedupe_key=dedupe_key, subject=subject, text=text, html=html,
                 calendar=calendar, calendar_method=calendar_method, reply_to=tuple(reply_to),
                 cc=tuple(cc))


def to_address(kind: str, dedupe_key: str, group: Group, to_email: str, to_name: str, *,
               job_id: str | None = None, **context: Any) -> bool:
    """Record one email to an address, once per dedupe key: someone who is not a member (yet),
    or the organizer. Filed under the address's own mailbox (keys.address_id); no unsubscribe
    link, since no member asked for it. Should the address belong to a member, their flags
    still decide at send time (`deliver_batch`). False when recorded already."""
    from chalicelib.mail.render import render_email

    subject, text, html = render_email(kind, group_name=group.sender_name, member_name=to_name,
                                       unsubscribe_url=None, **context)
    mail = _mail(group, keys.address_id(to_email), Email(kind=kind, dedupe_key=dedupe_key, subject=subject,
                                                          text=text, html=html), deps.now(), job_id,
                 to=(to_name, to_email))
    added = deps.store().outbox.add_new([mail])
    dispatch(added)
    return bool(added)


def to_organizer(kind: str, dedupe_key: str, group: Group, **context: Any) -> bool:
    """Record one email to the organizer (the group's Reply-To), once per dedupe key; False when
    the group has no organizer address or it was recorded already."""
    if not group.reply_to:
        log.info("no organizer address for organizer mail", extra={"kind": kind, "group_id": group.group_id})
        return False
    return to_address(kind, dedupe_key, group, group.reply_to, f"{group.name} organizers", **context)


def _mail(group: Group, member_id: str, email: Email, now: datetime, job_id: str | None = None,
          to: tuple[str, str] | None = None) -> Mail:
    return Mail(mail_id=keys.mail_id(email.dedupe_key), group_id=group.group_id,
                member_id=member_id, kind=email.kind, dedupe_key=email.dedupe_key,
                subject=email.subject, text=email.text, html=email.html, calendar=email.calendar,
                calendar_method=email.calendar_method, reply_to=[list(r) for r in email.reply_to] or None,
                cc=[list(c) for c in email.cc] or None,
                job_id=job_id, created_at=now, to_name=to[0] if to else None, to_email=to[1] if to else None)


def record_action(group: Group, member: Member, email: Email) -> tuple[dict[str, Any], Mail]:
    """The email's outbox record as an action for the caller's own transaction; after that
    transaction commits, hand the mail to `dispatch`."""
    mail = _mail(group, member.member_id, email, deps.now())
    return deps.store().outbox.put_action(mail), mail


def queue(group: Group, member: Member, email: Email) -> bool:
    """Record the email once and hand it to delivery; False when its dedupe key was seen."""
    return queue_many(group, [(member, email)]) == 1


def queue_many(group: Group, batch: Sequence[tuple[Member, Email]], *, job_id: str | None = None) -> int:
    """Record many (one BatchGetItem per 100, conditional puts in transactions of 100), then
    hand the new ones to delivery in SQS batches of 10; answers how many were new."""
    now = deps.now()
    added = deps.store().outbox.add_new([_mail(group, m.member_id, e, now, job_id) for m, e in batch])
    dispatch(added)
    return len(added)


def dispatch(mails: Sequence[Mail]) -> None:
    """Hand recorded mail to the mail worker (ids only). Were this lost, the sweep finds it."""
    workers.send_many("mail.deliver", [
        {"group_id": m.group_id, "member_id": m.member_id, "mail_id": m.mail_id} for m in mails])


# ---------------------------------------------------------------- the mail worker


def _ids(body: dict[str, Any]) -> tuple[str, str, str] | None:
    found = tuple(body.get(k) for k in ("group_id", "member_id", "mail_id"))
    return found if all(isinstance(v, str) for v in found) else None  # type: ignore[return-value]


def deliver_batch(bodies: Sequence[dict[str, Any]]) -> list[workers.Outcome]:
    """The mail worker: claim each mail (skipping sent or taken ones), read the batch's
    members and groups once, reserve paced send times, send. One outcome per body. What
    became of the batch is counted in the console's delivery log at the end, one UpdateItem
    per group and day."""
    try:
        return _deliver_batch(bodies)
    finally:
        deps.store().delivery.flush()


def _deliver_batch(bodies: Sequence[dict[str, Any]]) -> list[workers.Outcome]:
    store = deps.store()
    now = deps.now()
    outcomes: list[workers.Outcome] = [None] * len(bodies)
    claimed: list[tuple[int, Mail]] = []
    for index, body in enumerate(bodies):
        ids = _ids(body)
        if ids is None:  # poison: fails, and in time goes to the dead-letter queue
            log.error("mail message without ids")
            outcomes[index] = ValueError("a mail message needs group_id, member_id and mail_id")
            continue
        mail = store.outbox.claim_key(*ids, now, now + LEASE)
        if mail is not None:
            if mail.attempts == 1 and mail.last_error is None:  # its first claim: counted once
                store.delivery.note(mail, "recorded")
            claimed.append((index, mail))
    if not claimed:
        return outcomes
    groups: dict[str, Group | None] = {}
    members: dict[tuple[str, str], Member] = {}
    by_group: dict[str, list[str]] = defaultdict(list)
    for _, mail in claimed:
        by_group[mail.group_id].append(mail.member_id)
    for group_id, member_ids in by_group.items():
        groups[group_id] = store.groups.get(group_id)
        real = [m for m in member_ids if not keys.is_address_id(m)]
        members.update({(group_id, m.member_id): m for m in store.members.get_many(group_id, real)})
    for _, mail in claimed:
        if keys.is_address_id(mail.member_id) and mail.to_email:
            members[(mail.group_id, mail.member_id)] = _addressee(mail)

    tally: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    sendable: list[tuple[int, Mail, Group, Member]] = []
    for index, mail in claimed:
        group, member = groups.get(mail.group_id), members.get((mail.group_id, mail.member_id))
        if group is None or member is None or not member.wants(mail.kind):
            store.outbox.finish(mail, "suppressed", now)
            _count(tally, mail, "suppressed")
            continue
        sendable.append((index, mail, group, member))

    if sendable and not quota_left():  # SES's day is used up: hold, queued, until it has room
        for _, mail, _, _ in sendable:
            store.outbox.release(mail, "SES daily quota used up", retry_at=now + QUOTA_HOLD, counts=False)
        log.warning("SES daily quota used up; mail held", extra={"count": len(sendable)})
        sendable = []
    times = _send_times(len(sendable))
    for (index, mail, group, member), at in zip(sendable, times, strict=True):
        outcomes[index] = _send_one(mail, group, member, at, tally)
    for (group_id, job_id), counts in tally.items():
        job = store.jobs.count_mail(group_id, job_id, counts)
        if job is not None and store.jobs.finish_if_settled(job, now):
            observe.count(observe.JOBS_FINISHED)
    return outcomes


def _addressee(mail: Mail) -> Member:
    """Whom mail to an address goes to: the member with that address when there is one (so
    their unsubscribe, bounce and complaint flags win), else the address as a pseudo-member."""
    assert mail.to_email is not None
    member = deps.store().members.by_email(mail.group_id, mail.to_email.lower())
    if member is not None:
        return member.model_copy(update={"member_id": mail.member_id})
    return Member(member_id=mail.member_id, group_id=mail.group_id, email=mail.to_email,
                  name=mail.to_name or "", created_at=mail.created_at, updated_at=mail.created_at)


def _count(tally: dict[tuple[str, str], Counter[str]], mail: Mail, what: str) -> None:
    if mail.job_id:
        tally[(mail.group_id, mail.job_id)][what] += 1


def _send_one(mail: Mail, group: Group, member: Member, at: float | None,
              tally: dict[tuple[str, str], Counter[str]]) -> workers.Outcome:
    from chalicelib.mail import compose, sender

    store = deps.store()
    if at is not None:
        wait = at - time.time()
        if wait > MAX_WAIT_SECONDS:  # the line is long: come back when our turn is near
            store.outbox.release(mail, "waiting for a send slot", retry_at=deps.now(), counts=False)
            return workers.Retry(int(wait))
        if wait > 0:
            time.sleep(wait)
    now = deps.now()
    reply_to = [(n, a) for n, a in mail.reply_to] if mail.reply_to else group.reply_to
    try:
        raw = compose.compose(
            to_name=member.name, to_email=member.email, subject=mail.subject,
            text=mail.text, html=mail.html, sender_name=group.sender_name,
            sender_email=deps.settings().sender_email, reply_to=reply_to,
            unsubscribe_url=(links.unsubscribe_url(mail.group_id, mail.member_id)
                             if not keys.is_address_id(mail.member_id) else None),
            cc=[(n, a) for n, a in mail.cc or ()],
            message_id_key=mail.dedupe_key, calendar=mail.calendar,
            calendar_method=mail.calendar_method, date=now)
        sender.send_raw(raw, to_email=member.email, from_email=deps.settings().sender_email,
                        name_hint=f"{now:%Y%m%dT%H%M%S}-{mail.kind}-{mail.mail_id}",
                        cc_emails=[a for _, a in mail.cc or ()])
    except sender.SendThrottled as exc:
        delay = workers.backoff(mail.attempts)
        store.outbox.release(mail, str(exc), retry_at=now + timedelta(seconds=delay), counts=False)
        observe.count(observe.MAIL_THROTTLED)
        log.info("mail throttled by SES; back on the queue", extra={"mail_id": mail.mail_id, "delay": delay})
        return workers.Retry(delay)
    except sender.QuotaExhausted as exc:
        store.outbox.release(mail, str(exc), retry_at=now + QUOTA_HOLD, counts=False)
        log.warning("SES daily quota used up; mail held", extra={"mail_id": mail.mail_id})
        return None  # stays queued; the sweep sends it once the quota has room
    except Exception as exc:
        delay = workers.backoff(mail.attempts)
        released = store.outbox.release(mail, f"{type(exc).__name__}: {exc}",
                                        retry_at=now + timedelta(seconds=delay))
        log.warning("mail send failed", extra={"mail_id": mail.mail_id, "attempt": mail.attempts,
                                                "status": released.status})
        if released.status == "dead":
            store.delivery.died(released, released.last_error or "", now)  # the console's delivery page
            observe.count(observe.MAIL_DEAD)
            _count(tally, mail, "failed")
            return None  # recorded as dead, counted and alarmed on: nothing left to retry
        return workers.Retry(delay)
    store.outbox.finish(mail, "sent", now)
    sender.note_sent(1)
    observe.count(observe.MAIL_SENT)
    _count(tally, mail, "sent")
    return None


def _send_times(count: int) -> list[float | None]:
    """When each of `count` sends may go (epoch seconds), or None where nothing is paced
    (.eml files locally, unless MAIL_RATE_LIMIT asks for pacing)."""
    if count == 0:
        return []
    from chalicelib.mail import sender

    settings = deps.settings()
    if settings.mail_mode != "ses" and settings.mail_rate_limit is None:
        return [None] * count
    rate = settings.mail_rate_limit
    if settings.mail_mode == "ses":
        ses_rate = sender.send_quota(time.time()).max_send_rate
        rate = min(rate, ses_rate) if rate else ses_rate
    assert rate is not None
    first = deps.store().outbox.reserve_send_times(count, rate, time.time())
    return [first + i / rate for i in range(count)]


def quota_left() -> bool:
    """Whether SES's daily quota has room (as last read, plus our sends since)."""
    from chalicelib.mail import sender

    if deps.settings().mail_mode != "ses":
        return True
    quota = sender.send_quota(time.time())
    return quota.sent_last_24_hours < quota.max_24_hour_send


# ---------------------------------------------------------------- recovery


def requeue_overdue(now: datetime) -> int:
    """Hand the mail worker every mail still not sent that is overdue: recorded a while ago
    and never delivered (a lost message), due again after a failed send or a quota hold, or
    stuck in `sending` past its lease. Pages through the whole index: no cap."""
    due: list[Mail] = []
    for mail in deps.store().outbox.pending(before=now - RETRY_AFTER):
        if mail.status == "queued" or (mail.status == "sending" and mail.lease_until
                                       and mail.lease_until < now):
            due.append(mail)
    dispatch(due)
    return len(due)


def scrub(group_id: str, member_id: str, dedupe_keys: Sequence[str]) -> None:
    """Drop the words of these mails to a member (they speak of someone being erased)."""
    for dedupe_key in dedupe_keys:
        deps.store().outbox.scrub(group_id, member_id, keys.mail_id(dedupe_key))


def erase_member(group_id: str, member_id: str) -> int:
    """Delete the member's recorded mail (it holds their address and our words to them), and
    what the console's delivery log says about them."""
    deps.store().delivery.erase(group_id, member_id)
    return deps.store().outbox.erase_member(group_id, member_id)


def erase_address(group_id: str, email: str) -> int:
    """Delete the mail recorded to this address outside a member's mailbox (a join
    confirmation, their links asked for before they joined): it holds the address."""
    deps.store().delivery.erase(group_id, keys.address_id(email))
    return deps.store().outbox.erase_member(group_id, keys.address_id(email))
