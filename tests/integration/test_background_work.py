"""Background work as it runs in AWS: the table on DynamoDB Local (Amazon's engine), SQS and SES
on moto, and every queue of the worker map drained by a stand-in for Lambda's poller that calls
the app's own handlers (scripts/sqs_poller.py).

- Inviting 2,000 members through the API answers 202 with a job that the jobs worker and the
  mail worker then finish: one mail per subscribed member, and a retry adds nothing.
- SES throttling half the sends: every mail still goes once, and no throttle counts as an attempt.
- SES's daily quota used up: mail stays queued (not dead, not lost) and goes after the reset.
- Pacing: send times reserved from many threads at once never come closer than 1/rate.
"""

from __future__ import annotations

import itertools
import json
import random
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib import deps, workers
from chalicelib.models import GroupIn, MemberIn, MemberPatch
from chalicelib.services import groups, members, outbox, schedules
from chalicelib.store import keys
from scripts.sqs_poller import SqsQueues
from tests.integration import ses_wire

ACCOUNT, REGION = "123456789012", "us-east-1"
SENDER = "lunch@powerlunch.example"
N_INVITED = 2000


@dataclass
class SesFaults:
    """What SES answers: `throttle` of the sends (seeded) get 429, and while `quota_used_up`
    every send gets the daily-quota refusal. GetSendQuota answers `rate` a second."""

    throttle: float = 0.0
    quota_used_up: bool = False
    rate: float = 1000.0
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    injected: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send_hook(self, request: Any, **_: Any) -> Any:
        with self.lock:
            if self.quota_used_up:
                fault = ("quota", 400, "LimitExceededException", "Daily message quota exceeded.")
            elif self.rng.random() < self.throttle:
                fault = ("throttle", 429, "TooManyRequestsException", "Maximum sending rate exceeded.")
            else:
                return None  # on to moto
            self.injected[fault[0]] += 1
        _, status, code, message = fault
        return ses_wire.error(request, status, code, message)

    def quota_hook(self, **_: Any) -> Any:
        return ses_wire.quota(rate=self.rate, per_day=1_000_000.0)


@dataclass
class Aws:
    queues: SqsQueues
    ses: SesFaults

    def sent_to(self) -> Counter[str]:
        from moto.ses.models import ses_backends

        sent: Counter[str] = Counter()
        for message in ses_backends[ACCOUNT][REGION].sent_messages:
            sent.update({parseaddr(address)[1] for address in message.destinations})
        return sent


@pytest.fixture
def aws(local_table: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    """SES and SQS on moto, the table on DynamoDB Local (its client is built before the mock
    starts, and talks to a loopback endpoint moto does not intercept)."""
    deps.store()
    with mock_aws():
        queues = SqsQueues.create(boto3.client("sqs", region_name=REGION))
        boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity=SENDER)
        queues.set_env(monkeypatch.setenv)
        monkeypatch.setenv("MAIL_MODE", "ses")
        monkeypatch.setenv("SENDER_EMAIL", SENDER)
        monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda self, context: 0)
        for getter in (deps.settings, deps.ses_client, deps.ses_quota_client, deps.sqs_client):
            getter.cache_clear()
        ses = SesFaults()
        deps.ses_client().meta.events.register("before-send.sesv2.SendEmail", ses.send_hook)
        deps.ses_quota_client().meta.events.register("before-call.ses.GetSendQuota", ses.quota_hook)
        yield Aws(queues, ses)
        for getter in (deps.settings, deps.ses_client, deps.ses_quota_client, deps.sqs_client):
            getter.cache_clear()


def _group(n: int) -> tuple[str, list[Any]]:
    group, _ = groups.create_group(GroupIn(name="Fan-out", timezone="Europe/Lisbon", sender_name="Fan-out",
                                           reply_to="org@example.com"))
    people: list[Any] = []
    for start in range(0, n, 500):
        created, _ = members.add_members(group.group_id, [
            MemberIn(email=f"m{i}@example.com", name=f"Member {i}") for i in range(start, min(n, start + 500))])
        people += created
    return group.group_id, sorted(people, key=lambda m: int(m.email[1:].split("@")[0]))


def test_inviting_2000_members_is_a_job_that_sends_one_mail_each_and_a_retry_adds_nothing(
        aws: Aws, local_client: Any, outbox_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAIL_MODE", "files")  # .eml files: moto's SES would be most of the time
    deps.settings.cache_clear()
    # Read now, before the test client's calls set the "test" stage's variables (inline work).
    assert deps.settings().work_mode == "sqs"
    group_id, people = _group(N_INVITED)
    key = groups.create_key(group_id).secret
    for member in people[:100]:  # 100 unsubscribed: skipped
        members.update_member(group_id, member.member_id, MemberPatch(subscribed=False))
    meetup = local_client.http.post(f"/groups/{group_id}/meetups", headers=_headers(key), body=json.dumps({
        "title": "Big night", "starts_at": "2026-11-20T19:00:00", "ends_at": "2026-11-20T22:00:00",
        "timezone": "Europe/Lisbon", "venue": {"name": "Hall", "address": "Rua 1"}}))
    assert meetup.status_code == 201, meetup.body
    path = f"/groups/{group_id}/meetups/{json.loads(meetup.body)['meetup_id']}/invitations"
    headers = {**_headers(key), "Idempotency-Key": "invite-everyone-1"}

    answer = local_client.http.post(path, headers=headers, body=b"{}")

    assert answer.status_code == 202, answer.body
    job = json.loads(answer.body)
    assert set(job) == {"job_id", "status"} and job["status"] == "queued"
    # The request recorded the job and handed on its first page: no mail yet.
    assert aws.queues.deliveries == Counter() and not _delivered(outbox_dir)
    status = _job(local_client, key, group_id, job["job_id"])
    assert status["status"] == "queued" and status["recorded"] == 0

    aws.queues.drain()

    status = _job(local_client, key, group_id, job["job_id"])
    assert {k: status[k] for k in ("status", "total", "recorded", "sent", "skipped", "failed")} == {
        "status": "done", "total": N_INVITED, "recorded": N_INVITED - 100, "sent": N_INVITED - 100, "skipped": 100,
        "failed": 0}
    sent = _delivered(outbox_dir)
    assert sent == Counter({m.email: 1 for m in people[100:]})

    retried = local_client.http.post(path, headers=headers, body=b"{}")
    assert retried.status_code == 202 and json.loads(retried.body) == job
    assert retried.headers.get("Idempotent-Replayed") == "true"
    again = local_client.http.post(path, headers=_headers(key), body=b"{}")  # no key: a new job
    assert again.status_code == 202
    aws.queues.drain()
    second = _job(local_client, key, group_id, json.loads(again.body)["job_id"])
    assert (second["status"], second["recorded"], second["skipped"]) == ("done", 0, N_INVITED)
    assert _delivered(outbox_dir) == sent  # nothing went twice


def _delivered(folder: Path) -> Counter[str]:
    """Recipients of the .eml files written (the local stand-in for SES)."""
    sent: Counter[str] = Counter()
    for path in folder.glob("*.eml") if folder.exists() else []:
        with path.open("rb") as handle:
            for line in handle:
                if line.startswith(b"To:"):
                    sent[parseaddr(line[3:].decode().strip())[1]] += 1
                    break
    return sent


def _headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}


def _job(client: Any, key: str, group_id: str, job_id: str) -> dict[str, Any]:
    r = client.http.get(f"/groups/{group_id}/jobs/{job_id}", headers=_headers(key))
    assert r.status_code == 200, r.body
    return dict(json.loads(r.body))


def _note(n: int) -> outbox.Email:
    return outbox.Email(kind="note", dedupe_key=f"note:{n}", subject=f"Note {n}", text="Hello", html="<p>Hi</p>")


def _mails(group_id: str, people: list[Any]) -> list[Any]:
    return [deps.store().outbox.get(group_id, m.member_id, keys.mail_id(f"note:{n}")) for n, m in enumerate(people)]


def test_ses_throttling_half_the_sends_still_sends_every_mail_once(aws: Aws) -> None:
    aws.ses.throttle = 0.5
    group_id, people = _group(60)
    group = deps.store().groups.require(group_id)
    delays: list[int] = []
    deps.sqs_client().meta.events.register(
        "provide-client-params.sqs.ChangeMessageVisibility",
        lambda params, **_: delays.append(int(params["VisibilityTimeout"])))
    outbox.queue_many(group, [(m, _note(n)) for n, m in enumerate(people)])

    aws.queues.drain()

    assert aws.ses.injected["throttle"] > 60  # botocore's own retries included
    assert aws.sent_to() == Counter({m.email: 1 for m in people})
    for mail in _mails(group_id, people):
        # A throttled send gave its attempt back: every mail went on its first counted attempt.
        assert mail is not None and mail.status == "sent" and mail.attempts == 1, mail
    assert delays and all(d >= 1 for d in delays)  # throttled messages came back after a backoff
    assert aws.queues.dead_letters(workers.MAIL) == []


def test_a_used_up_daily_quota_keeps_mail_queued_until_the_reset(aws: Aws, clock: Any) -> None:
    aws.ses.quota_used_up = True
    group_id, people = _group(12)
    group = deps.store().groups.require(group_id)
    outbox.queue_many(group, [(m, _note(n)) for n, m in enumerate(people)])

    aws.queues.drain()

    assert not aws.sent_to() and aws.ses.injected["quota"] >= 1
    for mail in _mails(group_id, people):
        assert mail is not None and (mail.status, mail.attempts) == ("queued", 0), mail  # not dead, not lost
    assert aws.queues.dead_letters(workers.MAIL) == []
    assert schedules.run_hourly(clock.advance(minutes=30))["mail_requeued"] == 0  # still held

    aws.ses.quota_used_up = False  # the quota has room again
    clock.advance(hours=1)
    assert schedules.run_hourly(deps.now())["mail_requeued"] == 12
    aws.queues.drain()

    assert aws.sent_to() == Counter({m.email: 1 for m in people})
    assert all(m is not None and m.status == "sent" for m in _mails(group_id, people))


def test_send_times_reserved_from_many_workers_at_once_are_never_closer_than_one_over_the_rate(
        local_table: str) -> None:
    rate = 14.0
    repo = deps.store().outbox
    start = 1_000_000.0
    barrier = threading.Barrier(8)

    def reserve(worker: int) -> list[float]:
        barrier.wait()
        times: list[float] = []
        for batch in range(6):
            count = 1 + (worker + batch) % 10
            first = repo.reserve_send_times(count, rate, start + batch * 0.3)
            times += [first + i / rate for i in range(count)]
        return times

    with ThreadPoolExecutor(max_workers=8) as pool:
        every = sorted(t for times in pool.map(reserve, range(8)) for t in times)
    gaps = [b - a for a, b in itertools.pairwise(every)]
    assert len(every) == sum(1 + (w + b) % 10 for w in range(8) for b in range(6))
    assert min(gaps) >= 1 / rate - 1e-6, min(gaps)
    # No 1-second window holds more than the rate (the 15th send is a full second after the 1st).
    assert max(sum(1 for t in every if s <= t < s + 1 - 1e-6) for s in every) <= rate
