from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest

from chalicelib.mail.compose import Attachment, compose

DATE = datetime(2026, 3, 20, 9, 15, tzinfo=UTC)
ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"


def build(**overrides: Any) -> bytes:
    kwargs: dict[str, Any] = {
        "to_name": "Zoë O'Neil",
        "to_email": "zoe@example.org",
        "subject": "You're going: Product people lunch — Thu 26 Mar",
        "text": "Hi Zoë,\nsee you Thursday at 12:30 CET.\n",
        "html": "<p>Hi Zoë,</p><p>see you Thursday at 12:30 CET.</p>",
        "sender_name": 'Berlin "Product", Lunch',
        "sender_email": "lunch@powerlunch.example",
        "reply_to": "organizer@example.com",
        "unsubscribe_url": "https://lunch.example/unsubscribe/abc.def",
        "message_id_key": "rsvp_confirmation:mtg_1:mem_1:3",
        "date": DATE,
    }
    kwargs.update(overrides)
    return compose(**kwargs)


def parse(data: bytes) -> EmailMessage:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def content_types(msg: EmailMessage) -> list[str]:
    return [part.get_content_type() for part in msg.walk()]


def test_plain_message_is_multipart_alternative_text_then_html() -> None:
    msg = parse(build())
    assert content_types(msg) == ["multipart/alternative", "text/plain", "text/html"]
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    # on the wire every line ends in CRLF, bodies included
    assert text.get_content() == "Hi Zoë,\r\nsee you Thursday at 12:30 CET.\r\n"
    assert html.get_content().startswith("<p>Hi Zoë,</p>")


def test_headers_and_encoded_display_names_read_back() -> None:
    data = build()
    assert data.isascii()
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    msg = parse(data)
    sender = msg["From"].addresses[0]
    assert sender.display_name == 'Berlin "Product", Lunch'
    assert sender.addr_spec == "lunch@powerlunch.example"
    recipient = msg["To"].addresses[0]
    assert recipient.display_name == "Zoë O'Neil"
    assert recipient.addr_spec == "zoe@example.org"
    assert msg["Reply-To"].addresses[0].addr_spec == "organizer@example.com"
    assert msg["Subject"] == "You're going: Product people lunch — Thu 26 Mar"
    assert msg["List-Unsubscribe"] == "<https://lunch.example/unsubscribe/abc.def>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Date"].datetime == DATE
    assert msg["MIME-Version"] == "1.0"


@pytest.mark.parametrize(
    "name",
    [
        "Smith, Jones & Co",
        'The "Lunch" Club',
        "Café Zürich Networkers",
        "東京ランチ",
        "a\\b",
    ],
)
def test_awkward_sender_names_survive(name: str) -> None:
    msg = parse(build(sender_name=name))
    assert msg["From"].addresses[0].display_name == name
    assert len(msg["From"].addresses) == 1


def test_optional_headers_are_left_out() -> None:
    msg = parse(build(reply_to=None, unsubscribe_url=None))
    assert "Reply-To" not in msg
    assert "List-Unsubscribe" not in msg
    assert "List-Unsubscribe-Post" not in msg


def test_message_id_is_stable_per_key_and_differs_between_keys() -> None:
    first = parse(build())["Message-ID"]
    again = parse(build(date=datetime(2026, 3, 21, tzinfo=UTC)))["Message-ID"]
    other = parse(build(message_id_key="rsvp_confirmation:mtg_1:mem_2:3"))["Message-ID"]
    assert first == again != other
    assert first.startswith("<") and first.endswith("@powerlunch.example>")


def test_a_retry_is_byte_for_byte_the_same() -> None:
    assert build(calendar=ICS, calendar_method="REQUEST") == build(
        calendar=ICS, calendar_method="REQUEST"
    )


@pytest.mark.parametrize("method", ["REQUEST", "CANCEL"])
def test_calendar_goes_inline_and_as_invite_ics(method: str) -> None:
    msg = parse(build(calendar=ICS, calendar_method=method))
    assert content_types(msg) == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
        "application/ics",
    ]
    parts = list(msg.walk())
    inline, attached = parts[4], parts[5]
    assert inline.get_param("method") == method
    assert str(inline.get_param("charset")).upper() == "UTF-8"
    assert inline.get_content_disposition() is None
    assert inline.get_payload(decode=True) == ICS
    assert attached.get_content_disposition() == "attachment"
    assert attached.get_filename() == "invite.ics"
    assert attached.get_payload(decode=True) == ICS
    # the readable bodies are still found first
    body = msg.get_body(preferencelist=("html", "plain"))
    assert body is not None and body.get_content_type() == "text/html"


def test_other_attachments_are_added_to_the_mix() -> None:
    msg = parse(
        build(
            attachments=[
                Attachment("agenda.txt", "text/plain", b"12:30 intros"),
                Attachment("meetup.ics", "text/calendar", ICS, method="PUBLISH"),
            ]
        )
    )
    attachments = list(msg.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["agenda.txt", "meetup.ics"]
    assert attachments[0].get_payload(decode=True) == b"12:30 intros"
    assert attachments[1].get_param("method") == "PUBLISH"


@pytest.mark.parametrize(
    "field",
    [
        "to_name",
        "to_email",
        "subject",
        "sender_name",
        "sender_email",
        "reply_to",
        "unsubscribe_url",
    ],
)
@pytest.mark.parametrize(
    "evil", ["\r\nBcc: victim@example.com", "\nBcc: x@y.z", "\rX: y"]
)
def test_header_injection_is_refused(field: str, evil: str) -> None:
    base = {
        "to_name": "Zoe",
        "to_email": "zoe@example.org",
        "subject": "Hello",
        "sender_name": "Lunch",
        "sender_email": "lunch@powerlunch.example",
        "reply_to": "organizer@example.com",
        "unsubscribe_url": "https://lunch.example/unsubscribe/abc",
    }
    with pytest.raises(ValueError):
        build(**{field: base[field] + evil})


@pytest.mark.parametrize(
    "overrides",
    [
        {"attachments": [Attachment("a\r\nb.txt", "text/plain", b"x")]},
        {"attachments": [Attachment("../etc/passwd", "text/plain", b"x")]},
        {"attachments": [Attachment("a.txt", "text/plain\r\nX: y", b"x")]},
        {"calendar": ICS, "calendar_method": "REQUEST\r\nX: y"},
        {"calendar": ICS, "calendar_method": None},
        {"calendar_method": "REQUEST"},
        {"unsubscribe_url": "javascript:alert(1)"},
        {"unsubscribe_url": "https://x.example/a> <mailto:evil@x"},
        {"to_email": "a@b@c"},
        {"to_email": "zoe@example.org, eve@example.org"},
        {"date": datetime(2026, 3, 20, 9, 15)},
        {"message_id_key": ""},
    ],
)
def test_unsafe_or_broken_input_is_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        build(**overrides)
