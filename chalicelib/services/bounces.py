"""Bounces and complaints as Amazon SES reports them: a permanent bounce marks the member
`bounced`, a complaint marks them `complained`; either stops all mail to them at once (the mail
worker checks `Member.mailable` at send time). Transient bounces and deliveries are only logged.

SES publishes through the configuration set's SNS event destination (`eventType`) or an
identity's notifications (`notificationType`); SNS hands the Lambda a record whose Message is
that JSON. The same parser reads the raw JSON, the SNS envelope or the Lambda event, so
`python -m chalicelib.cli ses-event FILE` runs a saved notification exactly as AWS would.

SES names the address, not the group: the email guards are indexed by address (GSI1), and
every member with that address, in any group, is suppressed. One SES account sends for every
group, and SES's own account-level suppression list works the same way.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

from chalicelib import deps, errors, observe
from chalicelib.models import Member

log = logging.getLogger(__name__)

MAX_RECIPIENTS = 500  # SES sends one per recipient or a few together; more is not SES's


class BadNotification(errors.InvalidInput):
    """Raised when a message is not an SES bounce, complaint or delivery notification as AWS
    documents them; `field` names what is missing or wrong. Nothing is changed."""


@dataclass(frozen=True)
class Notice:
    """What one SES notification says, checked: its kind, for a bounce its type, the addresses."""

    kind: str  # Bounce, Complaint, Delivery, or another event type (Send, Open, ...), ignored
    bounce_type: str | None = None  # Permanent, Transient, Undetermined
    addresses: tuple[str, ...] = ()
    message_id: str | None = None  # SES's id of the mail it is about (mail.messageId)
    feedback_id: str | None = None

    @property
    def suppresses(self) -> str | None:
        """The member flag this notice sets, or None when it is only logged."""
        if self.kind == "Complaint":
            return "complained"
        if self.kind == "Bounce" and self.bounce_type == "Permanent":
            return "bounced"
        return None


@dataclass
class Outcome:
    """What handling notifications did, as the CLI prints it."""

    notices: list[str] = field(default_factory=list)  # kind (and bounce type) of each
    suppressed: int = 0  # members newly marked bounced or complained
    already: int = 0  # members marked before (SES repeats itself; handling is idempotent)
    unknown: int = 0  # addresses no member has
    logged_only: int = 0  # transient bounces, deliveries, other events

    def to_dict(self) -> dict[str, Any]:
        return {"notices": self.notices, "suppressed": self.suppressed, "already": self.already,
                "unknown_addresses": self.unknown, "logged_only": self.logged_only}


# ---------------------------------------------------------------- parsing (no I/O)


def _object(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise BadNotification("must be a JSON object", field=name)
    return value


def _json(text: Any, name: str) -> Any:
    if not isinstance(text, str | bytes):
        raise BadNotification("must be a JSON string", field=name)
    try:
        return json.loads(text)
    except ValueError as exc:
        raise BadNotification(f"is not valid JSON ({exc.args[0] if exc.args else exc})", field=name) from None


def messages(document: Any) -> list[Mapping[str, Any]]:
    """The SES notifications in a Lambda SNS event ({"Records": [{"Sns": {"Message": ...}}]}),
    an SNS envelope ({"Type": "Notification", "Message": "..."}) or a bare SES notification."""
    doc = _object(document, "notification")
    if "Records" in doc:
        records = doc["Records"]
        if not isinstance(records, list) or not records:
            raise BadNotification("must be a non-empty list of SNS records", field="Records")
        found = []
        for i, record in enumerate(records):
            sns = _object(_object(record, f"Records[{i}]").get("Sns"), f"Records[{i}].Sns")
            found.append(_object(_json(sns.get("Message"), f"Records[{i}].Sns.Message"),
                                 f"Records[{i}].Sns.Message"))
        return found
    if "Type" in doc and "eventType" not in doc and "notificationType" not in doc:
        if doc["Type"] != "Notification":
            raise BadNotification(f"is {doc['Type']!r}: only SNS Notification messages carry SES events "
                                  "(confirm a subscription in the SNS console)", field="Type")
        return [_object(_json(doc.get("Message"), "Message"), "Message")]
    return [doc]


def _addresses(recipients: Any, name: str) -> tuple[str, ...]:
    if not isinstance(recipients, list) or not recipients:
        raise BadNotification("must be a non-empty list", field=name)
    if len(recipients) > MAX_RECIPIENTS:
        raise BadNotification(f"has more than {MAX_RECIPIENTS} recipients", field=name)
    found = []
    for i, recipient in enumerate(recipients):
        raw = _object(recipient, f"{name}[{i}]").get("emailAddress")
        address = parseaddr(raw)[1].strip().lower() if isinstance(raw, str) else ""
        if address.count("@") != 1 or len(address) > 320:
            raise BadNotification("must be an email address", field=f"{name}[{i}].emailAddress")
        found.append(address)
    return tuple(dict.fromkeys(found))


def parse(message: Mapping[str, Any]) -> Notice:
    """One SES notification (either shape) as a Notice; BadNotification names what is wrong."""
    kind = message.get("eventType", message.get("notificationType"))
    if not isinstance(kind, str) or not kind:
        raise BadNotification("an SES notification has eventType (event publishing) or "
                              "notificationType (identity notifications)", field="eventType")
    mail = message.get("mail")
    mail_id = mail.get("messageId") if isinstance(mail, Mapping) else None
    mail_id = mail_id if isinstance(mail_id, str) else None
    if kind == "Bounce":
        bounce = _object(message.get("bounce"), "bounce")
        bounce_type = bounce.get("bounceType")
        if bounce_type not in ("Permanent", "Transient", "Undetermined"):
            raise BadNotification("must be Permanent, Transient or Undetermined", field="bounce.bounceType")
        return Notice(kind, bounce_type, _addresses(bounce.get("bouncedRecipients"), "bounce.bouncedRecipients"),
                      mail_id, _text(bounce.get("feedbackId")))
    if kind == "Complaint":
        complaint = _object(message.get("complaint"), "complaint")
        return Notice(kind, None, _addresses(complaint.get("complainedRecipients"),
                                             "complaint.complainedRecipients"),
                      mail_id, _text(complaint.get("feedbackId")))
    return Notice(kind, None, (), mail_id)


def _text(value: Any) -> str | None:
    return value[:200] if isinstance(value, str) else None


def read(document: Any) -> list[Notice]:
    """Every notification in the document, all checked before anything is changed."""
    return [parse(m) for m in messages(document)]


# ---------------------------------------------------------------- handling


def handle(document: Any) -> Outcome:
    """Apply SES notifications (any of the three shapes): suppress members on permanent bounces
    and complaints, log the rest. Raises BadNotification, changing nothing, when malformed."""
    outcome = Outcome()
    for notice in read(document):
        outcome.notices.append(f"{notice.kind}:{notice.bounce_type}" if notice.bounce_type else notice.kind)
        _apply(notice, outcome)
    return outcome


def handle_sns(event: Mapping[str, Any]) -> dict[str, Any]:
    """The SNS subscriber (app.py). A malformed message is logged and dropped: SNS's retries
    would bring the same bytes back. A store failure raises, so Lambda retries the event."""
    observe.configure()
    with observe.invocation(kind="ses_events"):
        try:
            return handle(event).to_dict()
        except BadNotification as exc:
            log.error("not an SES notification; dropped", extra={"field": exc.field, "reason": exc.message})
            return {"error": exc.message, "field": exc.field}


def _apply(notice: Notice, outcome: Outcome) -> None:
    context = {"kind": notice.kind, "bounce_type": notice.bounce_type, "ses_message_id": notice.message_id,
               "feedback_id": notice.feedback_id, "recipients": len(notice.addresses)}
    if notice.kind == "Bounce":
        observe.count(observe.MAIL_BOUNCED, len(notice.addresses), bounce_type=str(notice.bounce_type))
    elif notice.kind == "Complaint":
        observe.count(observe.MAIL_COMPLAINED, len(notice.addresses))
    flag = notice.suppresses
    if flag is None:
        outcome.logged_only += 1
        log.info("SES event logged, nothing changed", extra=context)
        return
    now = deps.now()
    store = deps.store()
    for address in notice.addresses:
        members = store.members.with_address(address)
        if not members:
            outcome.unknown += 1
            log.warning("SES reported an address no member has; ignored", extra=context)
            continue
        for member in members:
            if getattr(member, flag):
                outcome.already += 1
                continue
            store.members.change(member.group_id, member.member_id, _marking(flag, now))
            store.delivery.problem(member.group_id, member.member_id, flag, now)  # the console's list
            outcome.suppressed += 1
            log.warning("member suppressed after an SES report", extra={
                **context, "group_id": member.group_id, "member_id": member.member_id, "flag": flag})


def _marking(flag: str, now: Any) -> Any:
    def edit(member: Member) -> Member:
        if getattr(member, flag):
            return member
        return member.model_copy(update={flag: True, "updated_at": now})

    return edit


def index_addresses(group_ids: Sequence[str]) -> int:
    """Put the email guards of these groups' members into the address index (guards written
    before it existed); answers how many were added. Idempotent."""
    store = deps.store()
    added = 0
    for group_id in group_ids:
        for member in store.members.all(group_id):
            added += store.members.index_address(member)
    return added
