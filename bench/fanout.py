"""Fan-out bench: "invite everyone" for a big group, end to end, through the workers' own code.

The table is on DynamoDB Local (Amazon's engine); SQS and SES are moto's, in this process. The
request goes through `chalice.test.Client`; a stand-in for Lambda's poller then drains every
queue through the app's handlers (mail first, as the mail worker's concurrency would). Every
call the app makes is counted with botocore hooks on its own clients; every SES send is
stamped when it leaves.

    .venv/bin/python -m bench.fanout [--members 10000] [--rate 1000] [--endpoint URL] [--json]

Figures: the request's time; the time to the last delivery; SQS and DynamoDB calls per mail
over the whole job; every mail recorded and delivered exactly once; and the most sends in any
1-second window against the send rate GetSendQuota answers (`--rate`). The same file runs on
the code before the worker map (it adapts to `outbox.handle_records`), for the baseline.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import datetime
import json
import os
import secrets
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

REGION, ACCOUNT = "us-east-1", "123456789012"
SENDER = "lunch@powerlunch.example"


class _Ok:
    status_code = 200


class Calls:
    """Counts the app's AWS calls by service and operation, and stamps SES sends."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.sends: list[float] = []
        self.lock = threading.Lock()

    def hook(self, event_name: str, **_: Any) -> None:
        _, service, op = event_name.split(".", 2)
        with self.lock:
            self.calls[f"{service}.{op}"] += 1
            if service == "sesv2" and op == "SendEmail":
                self.sends.append(time.monotonic())

    def of(self, service: str) -> int:
        return sum(n for key, n in self.calls.items() if key.startswith(service + "."))


def max_in_any_second(stamps: list[float]) -> int:
    ordered = sorted(stamps)
    return max((bisect.bisect_left(ordered, t + 1.0) - i for i, t in enumerate(ordered)), default=0)


@contextlib.contextmanager
def environment(endpoint: str, rate: float) -> Iterator[tuple[Calls, Any, dict[str, str]]]:
    import boto3
    from moto import mock_aws

    tmp = Path(tempfile.mkdtemp(prefix="fanout-"))
    table = f"powerlunch-fanout-{uuid.uuid4().hex[:8]}"
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION, "DYNAMODB_ENDPOINT": endpoint, "SIGNING_SECRET": secrets.token_urlsafe(48),
        "MAIL_MODE": "ses", "WORK_MODE": "sqs", "BASE_URL": "https://lunch.example.test",
        "SENDER_EMAIL": SENDER, "TABLE_NAME": table, "OUTBOX_DIR": str(tmp / "outbox"),
    })
    from chalicelib import deps
    from chalicelib.store import schema

    deps.reset()
    deps.dynamodb_client()  # built before moto starts: it talks to DynamoDB Local on loopback
    schema.create_table(deps.dynamodb_client(), table)
    calls = Calls()
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        urls: dict[str, str] = {}
        for name, env in _queues():
            urls[name] = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
            os.environ[env] = urls[name]
        boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity=SENDER)
        deps.settings.cache_clear()
        assert deps.settings().work_mode == "sqs"  # cached before the test client's stage variables
        for client in (deps.dynamodb_client(), deps.sqs_client(), deps.ses_client()):
            client.meta.events.register("before-call", calls.hook)
        quota = getattr(deps, "ses_quota_client", None)
        if quota is not None:
            quota().meta.events.register("before-call.ses.GetSendQuota", lambda **_: (
                _Ok(), {"Max24HourSend": 10_000_000.0, "MaxSendRate": rate, "SentLast24Hours": 0.0}))
        try:
            yield calls, sqs, urls
        finally:
            with contextlib.suppress(Exception):
                deps.dynamodb_client().delete_table(TableName=table)
            deps.reset()


def _queues() -> list[tuple[str, str]]:
    try:
        from chalicelib import workers
    except ImportError:  # the code before the worker map
        return [("powerlunch-mail", "MAIL_QUEUE_URL"), ("powerlunch-pairing", "PAIRING_QUEUE_URL"),
                ("powerlunch-rsvp", "RSVP_QUEUE_URL")]
    return [(q.name, q.url_env) for q in workers.QUEUES]


class Record:
    def __init__(self, message: dict[str, Any]) -> None:
        self.message = message

    def to_dict(self) -> dict[str, Any]:
        return {"messageId": self.message["MessageId"], "body": self.message["Body"],
                "receiptHandle": self.message["ReceiptHandle"]}


def _handler(name: str) -> Any:
    try:
        from chalicelib import workers
    except ImportError:
        from chalicelib.services import outbox, pairing, rsvp  # noqa: F401  (they register workers)

        return lambda records: outbox.handle_records(name, records)
    queue = next(q for q in workers.QUEUES if q.name == name)
    return lambda records: workers.handle_sqs(queue, records)


def drain(sqs: Any, urls: dict[str, str]) -> int:
    """The poller: the mail queue until empty, then one batch of each other queue, again until
    all are empty (mail goes out before a job's next page is recorded); answers the batches."""
    handlers = {name: _handler(name) for name in urls}
    batches = 0

    def poll(name: str) -> bool:
        nonlocal batches
        messages = sqs.receive_message(QueueUrl=urls[name], MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return False
        batches += 1
        answer = handlers[name]([Record(m) for m in messages])
        failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            sqs.delete_message_batch(QueueUrl=urls[name], Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start:start + 10])])
        for m in messages:
            if m["MessageId"] in failed:
                sqs.change_message_visibility(QueueUrl=urls[name], ReceiptHandle=m["ReceiptHandle"],
                                              VisibilityTimeout=0)
        return True

    while True:
        handled = False
        while poll("powerlunch-mail"):
            handled = True
        for name in urls:
            if name != "powerlunch-mail" and poll(name):
                handled = True
        if not handled:
            return batches


def run(endpoint: str, n_members: int, rate: float, *, request_only: bool = False) -> dict[str, Any]:
    from chalice.test import Client

    from chalicelib import deps
    from chalicelib.models import GroupIn, MeetupIn, MemberIn
    from chalicelib.services import groups, meetups, members

    with environment(endpoint, rate) as (calls, sqs, urls):
        group, key = groups.create_group(GroupIn(name="Fan-out", timezone="Europe/Lisbon", sender_name="Fan-out",
                                                 reply_to="org@example.com"))
        for start in range(0, n_members, 500):
            members.add_members(group.group_id, [MemberIn(email=f"m{i}@example.com", name=f"Member {i}")
                                                 for i in range(start, min(n_members, start + 500))])
        start_at = deps.now().replace(microsecond=0, second=0) + datetime.timedelta(days=10)
        meetup = meetups.create_meetup(group.group_id, MeetupIn(
            title="Big night", starts_at=start_at.replace(tzinfo=None), ends_at=start_at.replace(tzinfo=None)
            + datetime.timedelta(hours=2), timezone="UTC", venue={"name": "Hall", "address": "Rua 1"}))
        from app import app

        headers = {"Authorization": f"Bearer {key.secret}", "Content-Type": "application/json"}
        calls.calls.clear()
        with Client(app, stage_name="test", project_dir=str(ROOT)) as client:
            t0 = time.monotonic()
            answer = client.http.post(f"/groups/{group.group_id}/meetups/{meetup.meetup_id}/invitations",
                                      headers=headers, body=b"{}")
            request_s = time.monotonic() - t0
            assert answer.status_code == 202, answer.body
            request_calls = dict(calls.calls)
            if request_only:  # the baseline at 10,000: moto's SQS scans its queue per message received
                return {"members": n_members, "request_s": round(request_s, 3), "request_calls": request_calls}
            batches = drain(sqs, urls)
            last_delivery_s = (max(calls.sends) - t0) if calls.sends else 0.0
        from email.utils import parseaddr

        from moto.ses.models import ses_backends

        sent: Counter[str] = Counter()
        for message in ses_backends[ACCOUNT][REGION].sent_messages:
            sent.update({parseaddr(a)[1] for a in message.destinations})
        expected = {f"m{i}@example.com" for i in range(n_members)}
        mails = len(calls.sends)
        return {
            "members": n_members, "rate": rate, "request_s": round(request_s, 3),
            "request_calls": request_calls, "last_delivery_s": round(last_delivery_s, 1),
            "batches": batches, "sent": sum(sent.values()),
            "exactly_once": set(sent) == expected and set(sent.values()) == {1},
            "sqs_calls_per_mail": round(calls.of("sqs") / max(mails, 1), 3),
            "dynamodb_calls_per_mail": round(calls.of("dynamodb") / max(mails, 1), 3),
            "max_sends_in_any_second": max_in_any_second(calls.sends),
            "calls": dict(calls.calls),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=1000.0, help="MaxSendRate that GetSendQuota answers")
    parser.add_argument("--endpoint", help="a running DynamoDB Local (default: start one)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--request-only", action="store_true", help="time the request, deliver nothing")
    args = parser.parse_args(argv)
    if args.endpoint:
        figures = run(args.endpoint, args.members, args.rate, request_only=args.request_only)
    else:
        from scripts.dynamodb_local import DynamoDBLocal

        with DynamoDBLocal() as server:
            figures = run(server.endpoint_url, args.members, args.rate, request_only=args.request_only)
    print(json.dumps(figures, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
