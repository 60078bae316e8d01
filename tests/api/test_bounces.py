"""Bounces and complaints as Amazon SES reports them, fed with SES's own sample notifications
(tests/fixtures/ses) through `cli ses-event` and through the SNS subscriber: a permanent bounce
or a complaint suppresses the member at once, the next invitation skips them, the organizer sees
why and cannot re-subscribe them; a transient bounce, a delivery or an unknown address changes
nothing; malformed input is a clear error that changes nothing."""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from chalicelib import cli, deps, observe
from chalicelib.store import keys
from chalicelib.store.schema import GSI1PK, GSI1SK
from tests.api.test_rsvp_api import invite, mails, new_meetup

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ses"


def sample(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / f"{name}.json").read_text()))


def ses_event(capsys: pytest.CaptureFixture[str], path: Path | str) -> tuple[int, dict[str, Any], str]:
    """Run `python -m chalicelib.cli ses-event FILE` in-process: (exit code, printed JSON, stderr)."""
    capsys.readouterr()  # what the requests before printed (their metric lines)
    code = cli.main(["ses-event", str(path)])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else {}), err


def saved(tmp_path: Path, doc: Any, name: str = "event.json") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def add(org: Any, *emails: str) -> dict[str, str]:
    r = org.post("members", {"members": [{"email": e, "name": e.split("@")[0].title()} for e in emails]})
    assert r.status_code == 201, r.data
    return {m["email"]: m["member_id"] for m in r.data["created"]}


def member(org: Any, member_id: str) -> dict[str, Any]:
    r = org.get(f"members/{member_id}")
    assert r.status_code == 200
    return dict(r.data)


def stored(org: Any, member_id: str) -> Any:
    return deps.store().members.require(org.group_id, member_id)


@pytest.fixture
def people(org: Any) -> dict[str, str]:
    """The addresses SES's identity-notification samples name."""
    return add(org, "jane@example.com", "mary@example.com", "richard@example.com")


def test_permanent_bounce_sample_suppresses_the_member_and_the_next_invitation_skips_them(
        org: Any, people: dict[str, str], capsys: pytest.CaptureFixture[str], outbox_dir: Path) -> None:
    code, result, _ = ses_event(capsys, FIXTURES / "notification-bounce-permanent.json")
    assert code == 0
    assert result["notices"] == ["Bounce:Permanent"] and result["suppressed"] == 1

    jane = member(org, people["jane@example.com"])
    assert (jane["bounced"], jane["complained"], jane["subscribed"]) == (True, False, True)
    assert member(org, people["mary@example.com"])["bounced"] is False

    assert invite(org, new_meetup(org)).status_code == 202
    assert mails(outbox_dir, "rsvp_invite", "jane@example.com") == []
    assert len(mails(outbox_dir, "rsvp_invite", "mary@example.com")) == 1
    assert len(mails(outbox_dir, "rsvp_invite", "richard@example.com")) == 1

    again = ses_event(capsys, FIXTURES / "notification-bounce-permanent.json")[1]  # SES repeats itself
    assert (again["suppressed"], again["already"]) == (0, 1)


def test_complaint_sample_suppresses_all_mail_and_blocks_re_subscribing(
        org: Any, people: dict[str, str], capsys: pytest.CaptureFixture[str], outbox_dir: Path) -> None:
    code, result, _ = ses_event(capsys, FIXTURES / "notification-complaint.json")
    assert code == 0 and result["notices"] == ["Complaint"] and result["suppressed"] == 1
    richard_id = people["richard@example.com"]
    richard = member(org, richard_id)
    assert (richard["complained"], richard["bounced"]) == (True, False)
    listed = {m["member_id"]: m for m in org.get("members").data["items"]}
    assert listed[richard_id]["complained"] is True  # the organizer's list shows it too

    assert invite(org, new_meetup(org)).status_code == 202
    assert mails(outbox_dir, "rsvp_invite", "richard@example.com") == []
    assert len(mails(outbox_dir, "rsvp_invite", "jane@example.com")) == 1

    before = stored(org, richard_id)
    r = org.patch(f"members/{richard_id}", {"subscribed": True})
    assert r.status_code == 409
    assert r.data["error"]["field"] == "subscribed" and "spam" in r.data["error"]["message"]
    assert stored(org, richard_id) == before
    assert org.patch(f"members/{richard_id}", {"headline": "Still here"}).status_code == 200


def test_patch_cannot_re_subscribe_someone_who_unsubscribed(org: Any, people: dict[str, str]) -> None:
    mary = people["mary@example.com"]
    assert org.patch(f"members/{mary}", {"subscribed": False}).data["subscribed"] is False
    r = org.patch(f"members/{mary}", {"subscribed": True})
    assert r.status_code == 409 and r.data["error"]["field"] == "subscribed"
    assert "unsubscribed" in r.data["error"]["message"] and "Only they" in r.data["error"]["message"]
    assert member(org, mary)["subscribed"] is False
    jane = people["jane@example.com"]  # subscribed, never complained: asking again changes nothing
    assert org.patch(f"members/{jane}", {"subscribed": True}).status_code == 200


def test_event_publishing_samples_through_the_sns_subscriber_reach_every_group(
        client: Any, org: Any, other_org: Any) -> None:
    here = add(org, "Recipient@Example.com")["recipient@example.com"]
    there = add(other_org, "recipient@example.com")["recipient@example.com"]
    event = client.events.generate_sns_event(message=json.dumps(sample("event-bounce-permanent")))
    answer = client.lambda_.invoke("ses_events", event).payload
    assert answer["suppressed"] == 2
    assert member(org, here)["bounced"] is True and member(other_org, there)["bounced"] is True

    event = client.events.generate_sns_event(message=json.dumps(sample("event-complaint")))
    assert client.lambda_.invoke("ses_events", event).payload["suppressed"] == 2
    assert member(org, here)["complained"] is True and member(other_org, there)["complained"] is True


def test_sns_envelope_saved_from_the_topic_works_with_the_cli(org: Any, people: dict[str, str], tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    envelope = {"Type": "Notification", "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
                "TopicArn": "arn:aws:sns:us-east-1:123456789012:powerlunch-ses-events",
                "Message": json.dumps(sample("notification-complaint")), "Timestamp": "2016-01-27T14:59:38.237Z"}
    code, result, _ = ses_event(capsys, saved(tmp_path, envelope))
    assert code == 0 and result["suppressed"] == 1
    assert member(org, people["richard@example.com"])["complained"] is True


@pytest.mark.parametrize("bounce_type", ["Transient", "Undetermined"])
def test_a_transient_bounce_or_a_delivery_changes_nothing(org: Any, people: dict[str, str], tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str], bounce_type: str) -> None:
    transient = sample("notification-bounce-permanent")
    transient["bounce"].update(bounceType=bounce_type, bounceSubType="MailboxFull")
    before = {mid: stored(org, mid) for mid in people.values()}
    observe.flush()
    code, result, _ = ses_event(capsys, saved(tmp_path, transient))
    assert code == 0 and (result["suppressed"], result["logged_only"]) == (0, 1)
    assert observe.pending().get(observe.MAIL_BOUNCED) == 1  # counted, nothing more
    code, result, _ = ses_event(capsys, FIXTURES / "notification-delivery.json")
    assert code == 0 and result["notices"] == ["Delivery"] and result["suppressed"] == 0
    assert {mid: stored(org, mid) for mid in people.values()} == before


def test_an_unknown_address_is_ignored_and_logged(org: Any, people: dict[str, str], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str],
                                                  caplog: pytest.LogCaptureFixture) -> None:
    stranger = sample("notification-bounce-permanent")
    stranger["bounce"]["bouncedRecipients"][0]["emailAddress"] = "nobody@example.org"
    with caplog.at_level(logging.INFO, logger="chalicelib.services.bounces"):
        code, result, _ = ses_event(capsys, saved(tmp_path, stranger))
    assert code == 0 and (result["unknown_addresses"], result["suppressed"]) == (1, 0)
    assert any("no member has" in r.getMessage() for r in caplog.records)
    assert not any(m["bounced"] for m in org.get("members").data["items"])


@pytest.mark.parametrize(("doc", "field"), [
    ("{not json", "event.json"),
    ({"mail": {}}, "eventType"),
    ({"notificationType": "Bounce", "bounce": {"bounceType": "Sometimes", "bouncedRecipients": [
        {"emailAddress": "jane@example.com"}]}}, "bounce.bounceType"),
    ({"notificationType": "Bounce", "bounce": {"bounceType": "Permanent"}}, "bounce.bouncedRecipients"),
    ({"notificationType": "Complaint", "complaint": "richard@example.com"}, "complaint"),
    ({"Type": "Notification", "Message": "{truncated"}, "Message"),
    ({"Type": "SubscriptionConfirmation", "Message": "You have chosen to subscribe"}, "Type"),
])
def test_malformed_input_is_a_clear_error_naming_the_field(org: Any, people: dict[str, str], tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str], doc: Any,
                                                           field: str) -> None:
    code, _, err = ses_event(capsys, saved(tmp_path, doc))
    assert code == 1 and err.startswith("error: ") and f"{field}: " in err.splitlines()[0], err
    assert not any(m["bounced"] or m["complained"] for m in org.get("members").data["items"])


def test_a_bad_recipient_anywhere_changes_nobody(org: Any, people: dict[str, str], tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    half = sample("notification-bounce-permanent")
    half["bounce"]["bouncedRecipients"].append({"emailAddress": "not an address"})
    code, _, err = ses_event(capsys, saved(tmp_path, half))
    assert code == 1 and "bounce.bouncedRecipients[1].emailAddress" in err
    assert member(org, people["jane@example.com"])["bounced"] is False
    assert ses_event(capsys, tmp_path / "missing.json")[0] == 1


def test_the_sns_subscriber_drops_a_malformed_message_without_changing_anything(
        client: Any, org: Any, people: dict[str, str], caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="chalicelib.services.bounces"):
        answer = client.lambda_.invoke("ses_events", client.events.generate_sns_event(message="<html>")).payload
    assert answer["field"] == "Records[0].Sns.Message"
    assert any("not an SES notification" in r.getMessage() for r in caplog.records)
    assert not any(m["bounced"] for m in org.get("members").data["items"])


def test_an_erased_member_is_no_longer_found_by_address(org: Any, people: dict[str, str],
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert org.delete(f"members/{people['jane@example.com']}").status_code in (200, 204)
    result = ses_event(capsys, FIXTURES / "notification-bounce-permanent.json")[1]
    assert (result["unknown_addresses"], result["suppressed"]) == (1, 0)


def test_index_addresses_backfills_guards_written_before_the_index(org: Any, people: dict[str, str],
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    db = deps.store().db
    guard = keys.email_guard(org.group_id, "jane@example.com")
    db.update(guard, "REMOVE #a, #b", names={"#a": GSI1PK, "#b": GSI1SK})  # as written before
    assert ses_event(capsys, FIXTURES / "notification-bounce-permanent.json")[1]["unknown_addresses"] == 1

    capsys.readouterr()
    assert cli.main(["index-addresses"]) == 0
    assert json.loads(capsys.readouterr().out)["indexed"] == 1  # the other two were indexed already
    assert ses_event(capsys, FIXTURES / "notification-bounce-permanent.json")[1]["suppressed"] == 1


def test_ses_sends_name_the_configuration_set(org: Any, people: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """With MAIL_MODE=ses every SendEmail names SES_CONFIGURATION_SET, or SES would publish
    nothing about it (moto's SES; the request is read as botocore sends it)."""
    monkeypatch.setenv("MAIL_MODE", "ses")
    monkeypatch.setenv("SES_CONFIGURATION_SET", "powerlunch-test-events")
    deps.settings.cache_clear()
    deps.ses_client().create_configuration_set(ConfigurationSetName="powerlunch-test-events")
    deps.ses_client().create_email_identity(EmailIdentity=deps.settings().sender_email)
    sent: list[dict[str, Any]] = []
    deps.ses_client().meta.events.register("provide-client-params.sesv2.SendEmail",
                                           lambda params, **_: sent.append(copy.deepcopy(params)))
    try:
        assert invite(org, new_meetup(org)).status_code == 202
    finally:
        deps.settings.cache_clear()
    assert len(sent) == 3
    assert {p["ConfigurationSetName"] for p in sent} == {"powerlunch-test-events"}


def test_after_a_complaint_the_lunch_invitation_skips_them_and_rounds_leave_them_out(
        org: Any, people: dict[str, str], capsys: pytest.CaptureFixture[str], outbox_dir: Path) -> None:
    from tests.api.test_lunch_api import PROGRAM

    assert org.call("PUT", "lunch-program", PROGRAM).status_code == 201
    for mid in people.values():
        r = org.patch(f"members/{mid}", {"lunch": {"opted_in": True, "city": "Lisbon", "availability": ["tue-lunch"]}})
        assert r.status_code == 200, r.data
    participants = {m.member_id for m in deps.store().members.lunch_participants(org.group_id)}
    assert people["richard@example.com"] in participants

    assert ses_event(capsys, FIXTURES / "notification-complaint.json")[1]["suppressed"] == 1
    participants = {m.member_id for m in deps.store().members.lunch_participants(org.group_id)}
    assert participants == {people["jane@example.com"], people["mary@example.com"]}
    assert org.post("lunch-program/invitations", {}).status_code == 202
    assert mails(outbox_dir, None, "richard@example.com") == []
    assert len(mails(outbox_dir, None, "jane@example.com")) == 1


def test_the_sns_subscriber_raises_when_the_table_fails_so_lambda_retries(client: Any, org: Any,
                                                                        people: dict[str, str]) -> None:
    """A store failure must not be swallowed like a malformed message: Lambda retries the event,
    then hands it to the dead-letter queue (the template), and the complaint is not lost."""
    from botocore.exceptions import ClientError

    deps.dynamodb_client().delete_table(TableName=deps.settings().table_name)
    event = client.events.generate_sns_event(message=json.dumps(sample("notification-complaint")))
    with pytest.raises(ClientError):
        client.lambda_.invoke("ses_events", event)
