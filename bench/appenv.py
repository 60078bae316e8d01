"""Point the app at a fresh table on a running DynamoDB Local for one benchmark, then put the
process back as it was (benchmarks also run inside the test session)."""

from __future__ import annotations

import contextlib
import os
import secrets
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def on_dynamodb_local(endpoint: str | None, run: Callable[[str], T]) -> T:
    """`run(endpoint)` on the DynamoDB Local given (`--endpoint`), or on one started for this
    run and stopped after it."""
    if endpoint:
        return run(endpoint)
    from scripts.dynamodb_local import DynamoDBLocal

    with DynamoDBLocal() as server:
        return run(server.endpoint_url)


@contextlib.contextmanager
def app_table(endpoint: str, outbox_dir: Path, prefix: str) -> Iterator[str]:
    """Settings as in AWS (WORK_MODE=sqs: callers record the messages), mail as .eml files, a
    new table; answers the table name. Environment, cached clients and the table are undone."""
    from chalicelib import deps

    table = f"{prefix}-{uuid.uuid4().hex[:10]}"
    wanted = {
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "DYNAMODB_ENDPOINT": endpoint,
        "SIGNING_SECRET": secrets.token_urlsafe(48), "MAIL_MODE": "files", "WORK_MODE": "sqs",
        "BASE_URL": "https://lunch.example.test", "SENDER_EMAIL": "lunch@powerlunch.example",
        "TABLE_NAME": table, "OUTBOX_DIR": str(outbox_dir),
        # Never reached: the benchmarks replace the dispatch to SQS with a recorder.
        "MAIL_QUEUE_URL": "http://127.0.0.1:9/unused", "PAIRING_QUEUE_URL": "http://127.0.0.1:9/unused",
        "RSVP_QUEUE_URL": "http://127.0.0.1:9/unused", "JOBS_QUEUE_URL": "http://127.0.0.1:9/unused",
    }
    dropped = ("AWS_PROFILE", "SIGNING_SECRET_FILE", "SIGNING_SECRET_ARN")
    saved = {k: os.environ.get(k) for k in (*wanted, *dropped)}
    os.environ.update(wanted)
    for name in dropped:
        os.environ.pop(name, None)
    deps.reset()
    try:
        yield table
    finally:
        with contextlib.suppress(Exception):
            deps.dynamodb_client().delete_table(TableName=table)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        deps.reset()
