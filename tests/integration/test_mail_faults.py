"""Mail under faults: SES (moto, SESv2 raw sends) throttles or fails some sends, SQS (moto)
carries the work, the outbox lives on DynamoDB Local (its conditional writes are what keep a
mail from going out twice, so they run on Amazon's engine, not moto's).

- Throttling (429 TooManyRequestsException) and 500s are retried by botocore's standard mode;
  when a send still fails, the outbox gives the mail back and SQS redelivers it after a backoff:
  each email is sent exactly once, and a throttled send never counts as an attempt. A mail SES
  keeps refusing ends `dead` after MAX_ATTEMPTS, stays recorded with its last error and is
  counted (the MailDead metric and its alarm); its message is done, so the dead-letter queue
  keeps only messages no worker could read.
- One SQS message delivered three times (one after the other, and at once) -> one SES send.

Faults are injected on the wire (botocore `before-send.sesv2.SendEmail`), so the whole client
path (retry mode included) runs; botocore's backoff sleeps are zeroed to keep the test fast.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib import deps, workers
from chalicelib.models import Group, GroupIn, Member, MemberIn
from chalicelib.services import groups, members, outbox
from chalicelib.store import keys
from chalicelib.store.outbox import MAX_ATTEMPTS
from scripts.sqs_poller import Record
from tests.integration import ses_wire

ACCOUNT, REGION = "123456789012", "us-east-1"
SENDER = "lunch@powerlunch.example"


@dataclass
class Faults:
    """Per recipient, what the next SES calls answer (popped in order; then success)."""

    plan: dict[str, list[str]] = field(default_factory=dict)
    always: set[str] = field(default_factory=set)
    injected: Counter[str] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hook(self, request: Any, **_: Any) -> Any:
        body = json.loads(request.body)
        to = body["Destination"]["ToAddresses"][0]
        with self.lock:
            self.calls[to] += 1
            if to in self.always:
                fault = "rejected"
            else:
                pending = self.plan.get(to) or []
                fault = pending.pop(0) if pending else ""
            if not fault:
                return None  # on to moto
            self.injected[fault] += 1
        status, code, message = {
            "throttle": (429, "TooManyRequestsException", "Maximum sending rate exceeded."),
            "error500": (500, "InternalFailure", "We encountered an internal error."),
            "rejected": (400, "MessageRejected", "Email address is not verified."),
        }[fault]
        return ses_wire.error(request, status, code, message)


@dataclass
class Aws:
    sqs: Any
    queue_url: str
    dlq_url: str
    faults: Faults

    def sent_to(self) -> Counter[str]:
        from email.utils import parseaddr

        from moto.ses.models import ses_backends

        sent: Counter[str] = Counter()
        for message in ses_backends[ACCOUNT][REGION].sent_messages:
            # moto lists the Destination and the raw To header both: count each message once
            sent.update({parseaddr(address)[1] for address in message.destinations})
        return sent

    def receive(self) -> list[dict[str, Any]]:
        answer = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                          VisibilityTimeout=30, AttributeNames=["ApproximateReceiveCount"])
        return list(answer.get("Messages", []))

    def pump(self, rounds: int = 20) -> int:
        """The Lambda poller: receive, run the handler, delete what succeeded, make the failed
        visible again at once (the redelivery), until the queue is empty. Answers deliveries."""
        deliveries = 0
        for _ in range(rounds):
            messages = self.receive()
            if not messages:
                return deliveries
            deliveries += len(messages)
            answer = workers.handle_sqs(workers.MAIL, [Record(m) for m in messages])
            failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
            for m in messages:
                if m["MessageId"] in failed:
                    self.sqs.change_message_visibility(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"],
                                                       VisibilityTimeout=0)
                else:
                    self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
        raise AssertionError("the queue never drained")

    def dead_letters(self) -> list[dict[str, Any]]:
        answer = self.sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in answer.get("Messages", [])]


@pytest.fixture
def aws(local_table: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    """SES and SQS on moto; the table stays on DynamoDB Local (its client was built before the
    mock started, and talks to a loopback endpoint moto does not intercept)."""
    deps.store()
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        dlq_url = sqs.create_queue(QueueName="powerlunch-mail-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queue_url = sqs.create_queue(QueueName="powerlunch-mail", Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": workers.MAIL.max_receives})})[
            "QueueUrl"]
        boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity=SENDER)
        monkeypatch.setenv("MAIL_MODE", "ses")
        monkeypatch.setenv("WORK_MODE", "sqs")
        monkeypatch.setenv("MAIL_QUEUE_URL", queue_url)
        monkeypatch.setenv("SENDER_EMAIL", SENDER)
        monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda self, context: 0)
        for getter in (deps.settings, deps.ses_client, deps.ses_quota_client, deps.sqs_client):
            getter.cache_clear()
        faults = Faults()
        deps.ses_client().meta.events.register("before-send.sesv2.SendEmail", faults.hook)
        # moto answers the sandbox's 1 mail a second: pace at a production account's rate instead
        deps.ses_quota_client().meta.events.register("before-call.ses.GetSendQuota", _production_quota)
        yield Aws(sqs, queue_url, dlq_url, faults)
        for getter in (deps.settings, deps.ses_client, deps.ses_quota_client, deps.sqs_client):
            getter.cache_clear()


def _production_quota(**_: Any) -> Any:
    return ses_wire.quota(rate=100.0, per_day=50_000.0)


def _group_and_members(n: int) -> tuple[Group, list[Member]]:
    group, _ = groups.create_group(GroupIn(name="Faulty", timezone="Europe/Lisbon", sender_name="Faulty",
                                           reply_to="org@example.com"))
    created, _ = members.add_members(group.group_id, [
        MemberIn(email=f"m{i}@example.com", name=f"Member {i}") for i in range(n)])
    return group, sorted(created, key=lambda m: int(m.email[1:].split("@")[0]))


def _email(n: int) -> outbox.Email:
    return outbox.Email(kind="note", dedupe_key=f"note:{n}", subject=f"Note {n}", text="Hello", html="<p>Hello</p>")


def test_ses_throttling_and_failures_each_email_sent_once_or_dead_and_recorded(aws: Aws) -> None:
    group, people = _group_and_members(8)
    f = aws.faults
    # m0 clean; m1 one throttle (botocore retries); m2 four throttles (botocore gives up, SQS
    # redelivers); m3 a refusal that is not retryable (SQS redelivers); m4 two 500s; m5 SES keeps
    # refusing (dead); m6 throttles across three deliveries; m7 throttle then refusal then a 500.
    f.plan = {"m1@example.com": ["throttle"], "m2@example.com": ["throttle"] * 4,
              "m3@example.com": ["rejected"], "m4@example.com": ["error500"] * 2,
              "m6@example.com": ["throttle"] * 9, "m7@example.com": ["throttle", "rejected", "error500"]}
    f.always = {"m5@example.com"}
    for n, member in enumerate(people):
        assert outbox.queue(group, member, _email(n)) is True

    deliveries = aws.pump()

    store = deps.store().outbox
    recorded = {m.email: store.get(group.group_id, m.member_id, keys.mail_id(f"note:{n}"))
                for n, m in enumerate(people)}
    sent = aws.sent_to()
    for address, mail in recorded.items():
        assert mail is not None, (address, "the mail is no longer recorded")
        if address == "m5@example.com":
            assert mail.status == "dead" and mail.attempts == MAX_ATTEMPTS, mail
            assert mail.last_error and "MessageRejected" in mail.last_error
            assert sent[address] == 0
        else:
            assert mail.status == "sent", (address, mail.status, mail.last_error)
            assert sent[address] == 1, (address, sent[address])
    assert sum(sent.values()) == 7
    # Throttles gave their attempts back; refusals and 500s that botocore gave up on did not.
    attempts = {address: mail.attempts for address, mail in recorded.items() if mail}
    assert attempts == {"m0@example.com": 1, "m1@example.com": 1, "m2@example.com": 1, "m3@example.com": 2,
                        "m4@example.com": 1, "m5@example.com": MAX_ATTEMPTS, "m6@example.com": 1,
                        "m7@example.com": 2}
    # The dead mail is recorded and counted; its message is done, not left for the DLQ.
    assert aws.dead_letters() == []
    assert f.calls["m5@example.com"] == MAX_ATTEMPTS  # a refusal is not retried inside botocore
    assert f.calls["m6@example.com"] == 10  # 4 + 4 + (1 throttle + the send)
    total_faults = sum(f.injected.values())
    assert total_faults == 1 + 4 + 1 + 2 + MAX_ATTEMPTS + 9 + 3
    print(f"\nmail faults: {total_faults} injected {dict(f.injected)}; {deliveries} SQS deliveries; "
          f"sent once each: {sum(sent.values())}; dead and recorded: 1; lost: 0")


def test_one_sqs_message_delivered_three_times_one_after_another_sends_once(aws: Aws) -> None:
    group, people = _group_and_members(1)
    outbox.queue(group, people[0], _email(1))
    (message,) = aws.receive()
    record = Record(message)
    answers = [workers.handle_sqs(workers.MAIL, [record]) for _ in range(3)]
    assert all(a == {"batchItemFailures": []} for a in answers)
    assert aws.sent_to() == Counter({people[0].email: 1})
    mail = deps.store().outbox.get(group.group_id, people[0].member_id, keys.mail_id("note:1"))
    assert mail is not None and mail.status == "sent" and mail.attempts == 1


def test_one_sqs_message_delivered_three_times_at_once_sends_once(aws: Aws) -> None:
    group, people = _group_and_members(10)
    for n, member in enumerate(people):
        outbox.queue(group, member, _email(n))
    messages = aws.receive()
    assert len(messages) == 10
    start = threading.Barrier(3)

    def deliver(record: Record) -> dict[str, Any]:
        start.wait()
        return workers.handle_sqs(workers.MAIL, [record])

    with ThreadPoolExecutor(max_workers=3) as pool:
        for message in messages:  # each message three times at once
            start.reset()
            list(pool.map(deliver, [Record(message)] * 3))
    assert aws.sent_to() == Counter({m.email: 1 for m in people})
    for n, member in enumerate(people):
        mail = deps.store().outbox.get(group.group_id, member.member_id, keys.mail_id(f"note:{n}"))
        assert mail is not None and mail.status == "sent" and mail.attempts == 1, mail
