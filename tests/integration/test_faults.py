"""Faults: DynamoDB throttling gets botocore's bounded standard retries, then a clean 503.

On DynamoDB Local: a throttled answer injected before sending must mean the engine never saw
the request (moto writes such requests anyway, so it cannot show "nothing half-written")."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from chalicelib import deps


class Throttle:
    """Answers chosen DynamoDB operations with ProvisionedThroughputExceeded, counting tries."""

    def __init__(self, operations: set[str]) -> None:
        self.operations = operations
        self.calls = 0
        self.on = True
        self.sleeps: list[float] = []

    def __call__(self, request: Any, **kwargs: Any) -> AWSResponse | None:
        target = request.headers.get("X-Amz-Target", b"")
        operation = (target.decode() if isinstance(target, bytes) else target).rsplit(".", 1)[-1]
        if not self.on or operation not in self.operations:
            return None
        self.calls += 1
        body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                           "message": "The level of configured provisioned throughput was exceeded"}).encode()

        class Raw:
            def stream(self, **_: Any) -> Iterator[bytes]:
                yield body

        response = AWSResponse(request.url, 400, {"x-amzn-RequestId": "t"}, Raw())
        response._content = body  # botocore reads .content
        return response


@pytest.fixture
def org(local_org: Any) -> Any:
    return local_org


@pytest.fixture
def throttle(local_table: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    sleeps: list[float] = []
    # botocore's backoff between attempts, recorded instead of waited out.
    monkeypatch.setattr("botocore.endpoint.time.sleep", sleeps.append)

    def make(*operations: str) -> Throttle:
        t = Throttle(set(operations))
        t.sleeps = sleeps
        deps.dynamodb_client().meta.events.register_first("before-send.dynamodb", t)
        return t

    yield make


def test_a_throttled_read_is_retried_a_bounded_number_of_times_then_503(org: Any, throttle: Any) -> None:
    t = throttle("GetItem")
    r = org.get(org.base)
    assert r.status_code == 503
    assert r.data["error"]["code"] == "unavailable"
    assert t.calls == 4  # botocore standard mode: total_max_attempts 4
    assert len(t.sleeps) == 3 and all(0 <= s <= 20 for s in t.sleeps)  # jittered backoff between
    t.on = False
    assert org.get(org.base).status_code == 200


def test_a_throttled_create_writes_nothing_and_answers_503(org: Any, throttle: Any) -> None:
    org.get(org.base)  # warm the key lookup
    t = throttle("PutItem")
    r = org.post("meetups", {"title": "T", "starts_at": "2026-12-01T10:00:00", "ends_at": "2026-12-01T11:00:00",
                             "timezone": "UTC", "online_url": "https://x.example"})
    assert r.status_code == 503
    t.on = False
    assert org.get("meetups").data["items"] == []


def test_throttled_bulk_member_transactions_leave_no_half_written_members(org: Any, throttle: Any) -> None:
    t = throttle("TransactWriteItems")
    batch = [{"email": f"p{i}@example.com", "name": "P"} for i in range(60)]
    r = org.post("members", {"members": batch})
    assert r.status_code == 503 and t.calls >= 4
    t.on = False
    assert org.get("members").data["items"] == []
    assert org.post("members", {"members": batch}).status_code == 201  # a retry then works whole
