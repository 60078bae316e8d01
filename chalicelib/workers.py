"""The map of background work: every queue, what it carries, and who handles it.

One table, read by everything that needs to know:
- `app.py` wires each queue to `handle_sqs(queue, event)`, explicitly, one function a queue;
- `infra/build_template.py` generates the queues, their dead-letter queues and the URL
  variables from `QUEUES`;
- the tests clear every `url_env` named here;
- `send` and `send_many` put work on the queue its kind belongs to (SQS in AWS, in batches of
  10), or run it inline (locally and in tests) through the same `run` as a queue's records.

A message body is `{"kind": ..., <ids>}`: ids and numbers only, never whole objects. Each
handler is idempotent, because SQS delivers at least once.
"""

from __future__ import annotations

import importlib
import json
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib import deps, errors, observe

log = logging.getLogger(__name__)

Body = dict[str, Any]


@dataclass(frozen=True)
class Queue:
    """One SQS queue and the Lambda function that consumes it.

    `visibility_timeout` is at least 6x the function's timeout (AWS's advice for Lambda event
    sources: a batch still running is never handed to a second worker); `max_receives` is
    how many deliveries a message gets before the dead-letter queue takes it."""

    name: str
    function: str
    logical_id: str
    url_env: str
    batch_size: int
    visibility_timeout: int
    max_receives: int = 5


@dataclass(frozen=True)
class Work:
    """One kind of message: its queue, and its handler as "module:function" (imported when
    first run, so a function pays only for the services its work touches). A `batched`
    handler takes every body of its kind in an SQS batch at once and answers one outcome
    each; the others take one body."""

    queue: Queue
    handler: str
    batched: bool = False


MAIL = Queue("powerlunch-mail", "mail_worker", "MailQueue", "MAIL_QUEUE_URL", batch_size=10,
             visibility_timeout=180,
             # Throttled sends come back with a delay (not a failed attempt): room for those.
             max_receives=20)
PAIRING = Queue("powerlunch-pairing", "pairing_worker", "PairingQueue", "PAIRING_QUEUE_URL",
                batch_size=1, visibility_timeout=720)
RSVP = Queue("powerlunch-rsvp", "rsvp_worker", "RsvpQueue", "RSVP_QUEUE_URL", batch_size=5,
             visibility_timeout=180)
JOBS = Queue("powerlunch-jobs", "jobs_worker", "JobsQueue", "JOBS_QUEUE_URL", batch_size=1,
             visibility_timeout=720)

QUEUES: tuple[Queue, ...] = (MAIL, PAIRING, RSVP, JOBS)

WORK: Mapping[str, Work] = {
    # One recorded email to one member.
    "mail.deliver": Work(MAIL, "chalicelib.services.outbox:deliver_batch", batched=True),
    # Plan a lunch round, save its pairs and record the intros.
    "lunch.round": Work(PAIRING, "chalicelib.services.pairing:run_round_work"),
    # A round done a week ago: follow-ups, then pause who ignored three pairings.
    "lunch.followups": Work(PAIRING, "chalicelib.services.followups:follow_up_work"),
    # A programme with rounds whose good matches are due a reconnect: suggest they catch up.
    "lunch.reconnects": Work(PAIRING, "chalicelib.services.followups:reconnect_work"),
    # Members a decline left alone in a round: pair them among themselves, fresh intros.
    "lunch.rematch": Work(PAIRING, "chalicelib.services.pairing:rematch_work"),
    # A round's pairs three days on: remind whoever has not answered while a partner confirmed.
    "lunch.nudges": Work(PAIRING, "chalicelib.services.pairs:nudge_work"),
    # A full meetup just started: pair who is still on its waitlist for a lunch, once.
    "lunch.waitlist": Work(PAIRING, "chalicelib.services.waitlist_lunch:waitlist_work"),
    # A round held for review 48 hours without approval: expired, nothing sent, organizer told.
    "lunch.review_expiry": Work(PAIRING, "chalicelib.services.review:expire_work"),
    # An introduction 14 days without two yeses: closed, the connector told it didn't work out.
    "intros.expire": Work(PAIRING, "chalicelib.services.intros:expire_work"),
    # A connector whose introductions were accepted last month: one thank-you naming them.
    "intros.thanks": Work(PAIRING, "chalicelib.services.intros:thanks_work"),
    # Seats freed at a meetup: promote from its waitlist, in order.
    "rsvp.promote": Work(RSVP, "chalicelib.services.rsvp:promote_work"),
    # A meetup about a day away: remind everyone going.
    "rsvp.reminders": Work(RSVP, "chalicelib.services.rsvp:remind_work"),
    # A meetup about 48 hours away with 6 or more going: people to meet there, to who opted in.
    "rsvp.meetup_people": Work(RSVP, "chalicelib.services.meetup_people:suggest_work"),
    # A day after a meetup with suggestions: "did you meet them?" to each member who got some.
    "rsvp.meetup_met": Work(RSVP, "chalicelib.services.meetup_people:ask_work"),
    # Someone asked for a console sign-in link: mail one if their address organizes a group.
    "console.signin": Work(JOBS, "chalicelib.services.console:signin_work"),
    # One page of an invitation job (meetup or lunch programme), then the next page's message.
    "job.invite": Work(JOBS, "chalicelib.services.jobs:invite_page_work"),
    # One page of a CSV import's checked rows: create those members, then the next page's message.
    "job.import": Work(JOBS, "chalicelib.services.imports:import_page_work"),
}


class Retry(Exception):
    """Returned (not raised) by a batched handler for a message that should come back later
    without counting as a failure of its work: SES throttling, say."""

    def __init__(self, after_seconds: int) -> None:
        super().__init__(f"retry in {after_seconds} s")
        self.after_seconds = after_seconds


Outcome = BaseException | None  # None: done; Retry: back in a while; any other: failed


def _handler(kind: str) -> Callable[..., Any]:
    module, _, name = WORK[kind].handler.partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def message(kind: str, **ids: Any) -> Body:
    if kind not in WORK:
        raise ValueError(f"no such kind of work: {kind}")
    return {"kind": kind, **ids}


# ---------------------------------------------------------------- running work


def run(bodies: Sequence[Body], message_ids: Sequence[str | None] | None = None) -> list[Outcome]:
    """Run a batch of messages (any kinds): one outcome per body, in order. Log lines name
    each message's kind (and SQS message id, where one message is handled at a time)."""
    ids = list(message_ids) if message_ids is not None else [None] * len(bodies)
    outcomes: list[Outcome] = [None] * len(bodies)
    by_kind: dict[str, list[int]] = {}
    for index, body in enumerate(bodies):
        kind = body.get("kind") if isinstance(body, dict) else None
        if not isinstance(kind, str) or kind not in WORK:  # poison: fails, and in time goes to the DLQ
            log.error("message of unknown kind", extra={"kind": str(kind)})
            outcomes[index] = ValueError(f"no such kind of work: {kind}")
            continue
        by_kind.setdefault(kind, []).append(index)
    for kind, indexes in by_kind.items():
        handler = _handler(kind)
        if WORK[kind].batched:
            with observe.context(kind=kind):
                try:
                    answers = handler([bodies[i] for i in indexes])
                except Exception as exc:  # the whole batch failed: each message comes back
                    log.exception("work failed")
                    answers = [exc] * len(indexes)
            for i, answer in zip(indexes, answers, strict=True):
                outcomes[i] = answer
            continue
        for i in indexes:
            with observe.context(kind=kind, message_id=ids[i]):
                try:
                    handler(bodies[i])
                except Exception as exc:
                    log.exception("work failed")
                    outcomes[i] = exc
    return outcomes


def handle_sqs(queue: Queue, records: Sequence[Any]) -> dict[str, list[dict[str, str]]]:
    """An SQS batch for `queue`: run its messages; the failed ones go back (partial batch
    response), a Retry after its delay (ChangeMessageVisibility)."""
    observe.configure()
    with observe.invocation(kind=queue.name):
        return _handle_sqs(queue, records)


def _handle_sqs(queue: Queue, records: Sequence[Any]) -> dict[str, list[dict[str, str]]]:
    datas = [r.to_dict() for r in records]
    bodies: list[Body] = []
    for data in datas:
        try:
            bodies.append(json.loads(data["body"]))
        except ValueError:
            log.error("message that is not JSON", extra={"message_id": data.get("messageId")})
            bodies.append({})  # fails as of no kind
    failures: list[dict[str, str]] = []
    outcomes = run(bodies, [d.get("messageId") for d in datas])
    for data, outcome in zip(datas, outcomes, strict=True):
        if outcome is None:
            continue
        if isinstance(outcome, Retry) and data.get("receiptHandle"):
            _delay(queue, data["receiptHandle"], outcome.after_seconds)
        failures.append({"itemIdentifier": data["messageId"]})
    return {"batchItemFailures": failures}


def _delay(queue: Queue, receipt_handle: str, seconds: int) -> None:
    url = _url(queue)
    try:
        deps.sqs_client().change_message_visibility(
            QueueUrl=url, ReceiptHandle=receipt_handle, VisibilityTimeout=max(0, min(seconds, 43_200)))
    except Exception:  # the message comes back after its visibility timeout instead
        log.warning("could not delay a message", exc_info=True)


def backoff(tries: int, *, base: int = 2, cap: int = 900) -> int:
    """Seconds to wait before the next try, after `tries` so far: exponential, full jitter."""
    return random.randint(1, min(cap, base * 2 ** min(tries, 20)))


# ---------------------------------------------------------------- sending work


def _url(queue: Queue) -> str:
    url = deps.settings().queue_urls.get(queue.url_env)
    if not url:
        raise RuntimeError(f"no queue URL configured: set {queue.url_env}")
    return url


def send(kind: str, **ids: Any) -> None:
    """Hand one unit of work on: its queue in AWS, run inline locally and in tests."""
    send_many(kind, [ids])


def send_many(kind: str, many: Sequence[Mapping[str, Any]]) -> int:
    """Hand many units of one kind on, in SendMessageBatch calls of 10; answers how many."""
    bodies = [message(kind, **ids) for ids in many]
    if not bodies:
        return 0
    if deps.settings().work_mode == "inline":
        for outcome in run(bodies):
            if outcome is not None and not isinstance(outcome, Retry):
                # Inline, the caller's request must not fail for its background work: what
                # failed is recorded by its handler (a mail stays queued for the sweep).
                log.warning("inline work failed", extra={"kind": kind})
        return len(bodies)
    url = _url(WORK[kind].queue)
    client = deps.sqs_client()
    for start in range(0, len(bodies), 10):
        entries = [{"Id": str(i), "MessageBody": json.dumps(body, separators=(",", ":"))}
                   for i, body in enumerate(bodies[start:start + 10])]
        for attempt in range(5):
            answer = client.send_message_batch(QueueUrl=url, Entries=entries)
            failed = {f["Id"] for f in answer.get("Failed", [])}
            entries = [e for e in entries if e["Id"] in failed]
            if not entries:
                break
            time.sleep(0.05 * 2**attempt)
        else:
            raise errors.Unavailable("The queue is busy; try again in a moment.")
    return len(bodies)
