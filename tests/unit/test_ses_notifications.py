"""Reading SES notifications (services/bounces.py, the pure part): SES's own samples in both
shapes and in every wrapping, and what each one asks of us."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chalicelib.services.bounces import BadNotification, Notice, read

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ses"


def sample(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / f"{name}.json").read_text()))


@pytest.mark.parametrize(("name", "kind", "suppresses", "addresses"), [
    ("notification-bounce-permanent", "Bounce", "bounced", ("jane@example.com",)),
    ("event-bounce-permanent", "Bounce", "bounced", ("recipient@example.com",)),
    ("notification-complaint", "Complaint", "complained", ("richard@example.com",)),
    ("event-complaint", "Complaint", "complained", ("recipient@example.com",)),
    ("notification-delivery", "Delivery", None, ()),
])
def test_ses_samples_in_both_shapes(name: str, kind: str, suppresses: str | None, addresses: tuple[str, ...]) -> None:
    (notice,) = read(sample(name))
    assert (notice.kind, notice.suppresses, notice.addresses) == (kind, suppresses, addresses)
    assert notice.message_id == sample(name)["mail"]["messageId"]


def test_the_same_notification_raw_in_the_sns_envelope_and_in_the_lambda_event() -> None:
    raw = sample("notification-complaint")
    envelope = {"Type": "Notification", "MessageId": "m-1", "Message": json.dumps(raw)}
    event = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(raw), "Subject": None}},
                         {"EventSource": "aws:sns", "Sns": {"Message": json.dumps(sample("event-bounce-permanent"))}}]}
    assert read(raw) == read(envelope) == read(event)[:1]
    assert [n.kind for n in read(event)] == ["Complaint", "Bounce"]


def test_only_a_permanent_bounce_suppresses() -> None:
    for bounce_type in ("Transient", "Undetermined"):
        doc = sample("event-bounce-permanent")
        doc["bounce"]["bounceType"] = bounce_type
        (notice,) = read(doc)
        assert notice.suppresses is None and notice.addresses == ("recipient@example.com",)
    assert Notice("Open").suppresses is None


def test_addresses_are_read_as_stored_lower_case_once_each() -> None:
    doc = sample("notification-bounce-permanent")
    doc["bounce"]["bouncedRecipients"] = [{"emailAddress": "Jane Doe <Jane@Example.COM>"},
                                          {"emailAddress": "jane@example.com"}]
    assert read(doc)[0].addresses == ("jane@example.com",)


@pytest.mark.parametrize(("doc", "field"), [
    ([], "notification"),
    ({"Records": []}, "Records"),
    ({"Records": [{"Sns": {"Message": "not json"}}]}, "Records[0].Sns.Message"),
    ({"eventType": 3}, "eventType"),
    ({"eventType": "Bounce"}, "bounce"),
    ({"eventType": "Bounce", "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{}]}},
     "bounce.bouncedRecipients[0].emailAddress"),
    ({"eventType": "Complaint", "complaint": {"complainedRecipients": []}}, "complaint.complainedRecipients"),
])
def test_malformed_notifications_name_the_field(doc: Any, field: str) -> None:
    with pytest.raises(BadNotification) as refused:
        read(doc)
    assert refused.value.field == field and refused.value.status == 400
