"""One outgoing email as MIME bytes, ready for SES raw sending or an .eml file. No I/O.

Layout with a calendar is the one Google Calendar itself sends, which Gmail, Outlook and
Apple Mail all recognise as an invitation:

    multipart/mixed
      multipart/alternative
        text/plain; charset=utf-8
        text/html; charset=utf-8
        text/calendar; method=REQUEST; charset=UTF-8      <- clients show the invite from this
      application/ics; name="invite.ics"  (attachment)     <- for clients that only save files
      ...other attachments

Without a calendar or attachments the message is just multipart/alternative.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Final

CALENDAR_METHODS: Final = frozenset({"REQUEST", "CANCEL", "PUBLISH"})
_FORBIDDEN_IN_HEADERS: Final = ("\r", "\n", "\x00")


@dataclass(frozen=True)
class Attachment:
    """A file to attach; method is the iTIP method when content_type is text/calendar."""

    filename: str
    content_type: str
    data: bytes
    method: str | None = None


def _clean(name: str, value: str) -> str:
    if any(c in value for c in _FORBIDDEN_IN_HEADERS):
        raise ValueError(f"{name} must not contain line breaks or NUL characters")
    return value


_SPECIALS: Final = '()<>@,:;."[]\\'


def _address(name: str, display_name: str, email: str, header: str = "From") -> Address:
    _clean(f"{name} name", display_name)
    _clean(f"{name} address", email)
    if email.count("@") != 1 or any(c in email for c in " <>,;\"'"):
        raise ValueError(f"{name} address is not a plain email address: {email!r}")
    local, domain = email.split("@")
    # Address quotes or RFC 2047-encodes the display name as needed (commas, quotes, non-ASCII).
    address = Address(display_name=display_name, username=local, domain=domain)
    if not _folds_intact(header, address):
        # CPython 3.11 drops the quotes around an ASCII display name when it folds a long
        # header, so `Ann, B <ceo@bank.example> xxx...` became extra addresses in To/From
        # (and a From SES would refuse or that names someone else). Keep the words, drop the
        # characters that need quoting.
        plain = " ".join("".join(" " if c in _SPECIALS else c for c in display_name).split())
        address = Address(display_name=plain, username=local, domain=domain)
    return address


def _folds_intact(header: str, address: Address) -> bool:
    """Whether the header, as serialised, reads back as exactly this one address."""
    from email import message_from_bytes
    from email.policy import default

    probe = EmailMessage(policy=SMTP)
    probe[header] = address
    found = message_from_bytes(bytes(probe), policy=default)[header].addresses
    return (len(found) == 1 and found[0].addr_spec == address.addr_spec
            and "".join(found[0].display_name.split()) == "".join(address.display_name.split()))


def message_id(message_id_key: str, sender_email: str) -> str:
    """The Message-ID for a key: the same email retried carries the same id."""
    digest = hashlib.sha256(message_id_key.encode("utf-8")).hexdigest()[:40]
    domain = sender_email.rpartition("@")[2] or "powerlunch.invalid"
    return f"<{digest}@{domain}>"


def _split_type(content_type: str) -> tuple[str, str]:
    maintype, _, subtype = _clean("content_type", content_type).partition("/")
    if not maintype or not subtype or any(c in content_type for c in " ;"):
        raise ValueError(f"content_type must be 'type/subtype': {content_type!r}")
    return maintype, subtype


def _calendar_method(method: str | None) -> str:
    if method is None or method.upper() not in CALENDAR_METHODS:
        raise ValueError(f"calendar method must be one of {sorted(CALENDAR_METHODS)}")
    return method.upper()


def compose(
    *,
    to_name: str,
    to_email: str,
    subject: str,
    text: str,
    html: str,
    sender_name: str,
    sender_email: str,
    reply_to: str | Sequence[tuple[str, str]] | None,
    unsubscribe_url: str | None,
    cc: Sequence[tuple[str, str]] = (),
    message_id_key: str,
    attachments: Sequence[Attachment] = (),
    calendar: bytes | None = None,
    calendar_method: str | None = None,
    date: datetime,
) -> bytes:
    """The whole message as CRLF bytes. Raises ValueError on anything that could inject a
    header or make an unreadable message."""
    if date.tzinfo is None or date.utcoffset() is None:
        raise ValueError("date must be timezone-aware")
    if not message_id_key:
        raise ValueError("message_id_key is required for a stable Message-ID")

    msg = EmailMessage(policy=SMTP)
    msg["From"] = _address("sender", sender_name, sender_email, "From")
    msg["To"] = _address("recipient", to_name, to_email, "To")
    if cc:  # (name, address) of each person copied: the connector of an introduction
        msg["Cc"] = [_address("cc", name, address, "Cc") for name, address in cc]
    if isinstance(reply_to, str):
        msg["Reply-To"] = _address("reply_to", "", reply_to, "Reply-To")
    elif reply_to:  # (name, address) of each person a reply should reach
        msg["Reply-To"] = [_address("reply_to", name, address, "Reply-To") for name, address in reply_to]
    msg["Subject"] = _clean("subject", subject)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id(message_id_key, sender_email)
    if unsubscribe_url:
        _clean("unsubscribe_url", unsubscribe_url)
        if not unsubscribe_url.startswith(("https://", "http://")) or any(
            c in unsubscribe_url for c in " <>\t"
        ):
            raise ValueError("unsubscribe_url must be an absolute http(s) URL")
        # RFC 8058 one-click: mailbox providers POST "List-Unsubscribe=One-Click" to the URL.
        msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"

    # Quoted-printable keeps the bodies 7-bit clean whatever the relay accepts.
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")

    if calendar is not None:
        method = _calendar_method(calendar_method)
        msg.add_alternative(
            calendar,
            maintype="text",
            subtype="calendar",
            cte="base64",
            params={"method": method, "charset": "UTF-8"},
        )
    elif calendar_method is not None:
        raise ValueError("calendar_method given without a calendar")

    if calendar is not None or attachments:
        msg.make_mixed()
    if calendar is not None:
        msg.add_attachment(
            calendar,
            maintype="application",
            subtype="ics",
            filename="invite.ics",
            params={"name": "invite.ics"},
        )
    for attachment in attachments:
        maintype, subtype = _split_type(attachment.content_type)
        filename = _clean("attachment filename", attachment.filename)
        if not filename or "/" in filename or "\\" in filename:
            raise ValueError(
                f"attachment filename must be a plain file name: {filename!r}"
            )
        params: dict[str, str] = {}
        if attachment.method is not None:
            params["method"] = _calendar_method(attachment.method)
        msg.add_attachment(
            attachment.data,
            maintype=maintype,
            subtype=subtype,
            filename=filename,
            params=params,
        )
    _settle(msg, message_id_key)
    return msg.as_bytes()


def _settle(msg: EmailMessage, message_id_key: str) -> None:
    """Deterministic boundaries (a retry is byte-for-byte the same email) and one
    MIME-Version, at the top. "=_" cannot occur in base64 or quoted-printable bodies."""
    seed = hashlib.sha256(b"boundary:" + message_id_key.encode("utf-8")).hexdigest()[
        :24
    ]
    for index, part in enumerate(msg.walk()):
        if part is not msg:
            del part["MIME-Version"]
        if part.is_multipart():
            part.set_boundary(f"=_{seed}_{index}")
