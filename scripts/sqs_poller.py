"""Plays Lambda's SQS poller against real queues (moto's, in tests and benches): for each queue of
the worker map, receive a batch, hand it to the app's own handler (`workers.handle_sqs`, as
app.py does), delete what succeeded and leave the failed to come back. Failed messages come
back after their visibility timeout, which a Retry outcome sets (ChangeMessageVisibility);
`release_failed` makes the rest visible at once, as a short visibility timeout would.

    queues = SqsQueues.create(sqs_client)   # every queue of chalicelib/workers.py, with DLQs
    queues.set_env(monkeypatch.setenv)      # the app sends to them (WORK_MODE=sqs)
    queues.drain()                          # until every queue is empty
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalicelib import workers


class Record:
    """What Chalice hands an SQS handler: `to_dict()` with the message id, body and receipt."""

    def __init__(self, message: dict[str, Any]) -> None:
        self.message = message

    def to_dict(self) -> dict[str, Any]:
        return {"messageId": self.message["MessageId"], "body": self.message["Body"],
                "receiptHandle": self.message["ReceiptHandle"],
                "attributes": self.message.get("Attributes", {})}


@dataclass
class SqsQueues:
    sqs: Any
    urls: dict[str, str]  # queue name -> URL
    dead_letter_urls: dict[str, str]
    deliveries: Counter[str] = field(default_factory=Counter)  # receives per queue
    delayed: Counter[str] = field(default_factory=Counter)  # messages a Retry sent back

    @classmethod
    def create(cls, sqs: Any, *, visibility_timeout: int = 30) -> SqsQueues:
        urls, dlqs = {}, {}
        for queue in workers.QUEUES:
            dlq = sqs.create_queue(QueueName=f"{queue.name}-dlq")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            urls[queue.name] = sqs.create_queue(QueueName=queue.name, Attributes={
                "VisibilityTimeout": str(visibility_timeout),
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": queue.max_receives}),
            })["QueueUrl"]
            dlqs[queue.name] = dlq
        return cls(sqs, urls, dlqs)

    def set_env(self, setenv: Callable[[str, str], None]) -> None:
        setenv("WORK_MODE", "sqs")
        for queue in workers.QUEUES:
            setenv(queue.url_env, self.urls[queue.name])

    def receive(self, queue: workers.Queue, limit: int | None = None) -> list[dict[str, Any]]:
        answer = self.sqs.receive_message(QueueUrl=self.urls[queue.name],
                                          MaxNumberOfMessages=min(10, limit or queue.batch_size),
                                          AttributeNames=["ApproximateReceiveCount"])
        return list(answer.get("Messages", []))

    def poll_once(self, queue: workers.Queue, *, release_failed: bool = True) -> int:
        """One batch of one queue through the app's handler; answers how many were received."""
        messages = self.receive(queue)
        if not messages:
            return 0
        self.deliveries[queue.name] += len(messages)
        answer = workers.handle_sqs(queue, [Record(m) for m in messages])
        failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(QueueUrl=self.urls[queue.name], Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start:start + 10])])
        if release_failed:
            for m in messages:
                if m["MessageId"] in failed:
                    self.sqs.change_message_visibility(QueueUrl=self.urls[queue.name],
                                                       ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
        return len(messages)

    def drain(self, *, max_batches: int = 100_000, release_failed: bool = True) -> int:
        """Poll until every queue is empty; answers the batches handled. The mail queue is
        drained first each time round, then one batch of each other queue: what a job's page
        queued goes out before its next page is recorded, as the mail worker's concurrency
        would have it (and the mail queue never holds more than a page)."""
        batches = 0
        while batches < max_batches:
            handled = 0
            while self.poll_once(workers.MAIL, release_failed=release_failed):
                handled += 1
            for queue in workers.QUEUES:
                if queue is not workers.MAIL and self.poll_once(queue, release_failed=release_failed):
                    handled += 1
            if not handled:
                return batches
            batches += handled
        raise AssertionError("the queues never drained")

    def bodies(self, queue: workers.Queue) -> list[dict[str, Any]]:
        """Every message waiting on a queue (received and left invisible: for assertions)."""
        found: list[dict[str, Any]] = []
        while True:
            answer = self.sqs.receive_message(QueueUrl=self.urls[queue.name], MaxNumberOfMessages=10,
                                              VisibilityTimeout=300)
            messages = answer.get("Messages", [])
            if not messages:
                return found
            found.extend(json.loads(m["Body"]) for m in messages)

    def dead_letters(self, queue: workers.Queue) -> list[dict[str, Any]]:
        answer = self.sqs.receive_message(QueueUrl=self.dead_letter_urls[queue.name], MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in answer.get("Messages", [])]
