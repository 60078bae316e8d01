"""Fixtures shared by every tier: a test environment, a frozen clock, a table on moto or on
Amazon's DynamoDB Local, and the Chalice test client.

DynamoDB Local: `make test` starts one and passes DYNAMODB_LOCAL_ENDPOINT; run alone, the
`ddb_local_endpoint` fixture starts its own (in memory, on a free port) for the session.
"""

from __future__ import annotations

import os
import secrets
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Before boto3 makes any client: no real credentials, no real AWS.
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
    "SIGNING_SECRET": secrets.token_urlsafe(48),
    "MAIL_MODE": "files", "WORK_MODE": "inline", "BASE_URL": "https://lunch.example.test",
    "SENDER_EMAIL": "lunch@powerlunch.example",
})
for name in ("AWS_PROFILE", "SIGNING_SECRET_FILE", "SIGNING_SECRET_ARN", "DYNAMODB_ENDPOINT",
             "MAIL_RATE_LIMIT"):
    os.environ.pop(name, None)

from moto import mock_aws  # noqa: E402  (import moto before boto3 clients exist)
from moto.core.botocore_stubber import BotocoreStubber  # noqa: E402

from chalicelib import deps, workers  # noqa: E402

for _queue in workers.QUEUES:  # every queue of the worker map: tests run background work inline
    os.environ.pop(_queue.url_env, None)
from chalicelib.store import schema  # noqa: E402


class Clock:
    """A frozen clock the tests move by hand."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current

    def set(self, when: datetime) -> None:
        self.current = when


@pytest.fixture
def clock() -> Iterator[Clock]:
    c = Clock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    deps.set_clock(c)
    yield c
    deps.set_clock(lambda: datetime.now(UTC))


@pytest.fixture
def outbox_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    out = tmp_path / "outbox"
    monkeypatch.setenv("OUTBOX_DIR", str(out))
    return out


def _use_table(monkeypatch: pytest.MonkeyPatch, table: str, endpoint: str | None) -> None:
    monkeypatch.setenv("TABLE_NAME", table)
    if endpoint:
        monkeypatch.setenv("DYNAMODB_ENDPOINT", endpoint)
    else:
        monkeypatch.delenv("DYNAMODB_ENDPOINT", raising=False)
    deps.reset()
    schema.create_table(deps.dynamodb_client(), table)
    deps.dynamodb_client().meta.events.register("before-call.dynamodb.Scan", _refuse_scan)


def _refuse_scan(**_: Any) -> None:
    """No code path may Scan the table: every request is served by keys and Queries."""
    raise AssertionError("the app issued a DynamoDB Scan")


_MOTO_REQUEST = threading.RLock()


@pytest.fixture
def moto_table(monkeypatch: pytest.MonkeyPatch, clock: Clock, outbox_dir: Path) -> Iterator[str]:
    """A table on moto, which serves one request at a time, whole, as DynamoDB serves each
    request: moto is not thread-safe (an UpdateItem copying an item while another thread's
    request changed it raised "dictionary changed size during iteration"), and the tests
    that race requests from threads are about the app's races, not moto's."""
    process = BotocoreStubber.process_request

    def one_at_a_time(self: BotocoreStubber, request: Any) -> Any:
        with _MOTO_REQUEST:
            return process(self, request)

    monkeypatch.setattr(BotocoreStubber, "process_request", one_at_a_time)
    with mock_aws():
        _use_table(monkeypatch, "powerlunch-test", None)
        yield "powerlunch-test"
        deps.reset()


@pytest.fixture(scope="session")
def ddb_local_endpoint() -> Iterator[str]:
    endpoint = os.environ.get("DYNAMODB_LOCAL_ENDPOINT")
    if endpoint:
        yield endpoint
        return
    from scripts.dynamodb_local import DynamoDBLocal

    with DynamoDBLocal() as server:
        yield server.endpoint_url


@pytest.fixture
def local_table(monkeypatch: pytest.MonkeyPatch, clock: Clock, outbox_dir: Path,
                ddb_local_endpoint: str) -> Iterator[str]:
    """A fresh table per test on DynamoDB Local (unique name: tests never see each other)."""
    table = f"powerlunch-{uuid.uuid4().hex[:12]}"
    _use_table(monkeypatch, table, ddb_local_endpoint)
    yield table
    try:
        deps.dynamodb_client().delete_table(TableName=table)
    finally:
        deps.reset()


@pytest.fixture(params=["moto", "dynamodb_local"])
def any_table(request: pytest.FixtureRequest) -> str:
    """The same test on both engines (the store suite)."""
    if request.param == "moto":
        return str(request.getfixturevalue("moto_table"))
    return str(request.getfixturevalue("local_table"))


def _client() -> Any:
    from chalice.test import Client

    from app import app

    return Client(app, stage_name="test", project_dir=str(ROOT))


@pytest.fixture
def client(moto_table: str) -> Any:
    with _client() as c:
        yield c


@pytest.fixture
def local_client(local_table: str) -> Any:
    """The app on DynamoDB Local (the real engine), through the same test client."""
    with _client() as c:
        yield c


class Organizer:
    """An organizer of one group talking to the API through the Chalice test client."""

    def __init__(self, http: Any, group_id: str, api_key: str) -> None:
        self.http = http
        self.group_id = group_id
        self.api_key = api_key

    @property
    def base(self) -> str:
        return f"/groups/{self.group_id}"

    def call(self, method: str, path: str, body: Any = None, *, key: str | None = None,
             headers: dict[str, str] | None = None, raw: bytes | None = None) -> Any:
        import json

        h = {"Authorization": f"Bearer {key or self.api_key}", "Content-Type": "application/json",
             **(headers or {})}
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        response = self.http.request(method, path if path.startswith("/") else f"{self.base}/{path}",
                                     headers=h, body=data)
        response.data = json.loads(response.body) if response.body and response.headers.get(
            "Content-Type", "").startswith("application/json") else None
        return response

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.call("DELETE", path, **kw)


def new_organizer(http: Any, name: str = "Lisbon Founders", timezone: str = "Europe/Lisbon") -> Organizer:
    from chalicelib.models import GroupIn
    from chalicelib.services import groups

    group, key = groups.create_group(GroupIn(name=name, timezone=timezone, sender_name=name,
                                             reply_to="organizer@example.com"))
    return Organizer(http, group.group_id, key.secret)


@pytest.fixture
def org(client: Any) -> Organizer:
    return new_organizer(client.http)


@pytest.fixture
def other_org(client: Any) -> Organizer:
    return new_organizer(client.http, "Berlin Builders", "Europe/Berlin")


@pytest.fixture
def local_org(local_client: Any) -> Organizer:
    return new_organizer(local_client.http)
