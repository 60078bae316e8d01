"""The one place that builds clients and reads secrets. Cached per process; tests call `reset()`.

Everything is built on first use, not at import: Chalice sets stage variables per call, and
the HTTP functions' cold start should not pay for clients they do not use.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalicelib.config import Settings

if TYPE_CHECKING:
    from chalicelib.store import Store

# A bounded number of attempts with botocore's standard retry mode (jittered backoff on
# throttling and transaction conflicts); after that the request answers 503.
_RETRIES = {"mode": "standard", "total_max_attempts": 4}

_clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """The current instant (aware UTC). Tests replace the clock with `set_clock`."""
    return _clock()


def set_clock(clock: Callable[[], datetime]) -> None:
    global _clock
    _clock = clock


@functools.cache
def settings() -> Settings:
    return Settings.from_env()


def _boto_config(**extra: Any) -> Any:
    from botocore.config import Config

    return Config(retries=_RETRIES, connect_timeout=3, read_timeout=10, **extra)  # type: ignore[arg-type]


@functools.cache
def dynamodb_client() -> Any:
    import boto3

    s = settings()
    kwargs: dict[str, Any] = {"region_name": s.region, "config": _boto_config()}
    if s.dynamodb_endpoint:
        # DynamoDB Local: any credentials do, and real ones are never sent to it.
        kwargs.update(endpoint_url=s.dynamodb_endpoint, aws_access_key_id="local",
                      aws_secret_access_key="local")  # noqa: S106
    return boto3.client("dynamodb", **kwargs)


@functools.cache
def ses_client() -> Any:
    import boto3

    return boto3.client("sesv2", region_name=settings().region, config=_boto_config())


@functools.cache
def ses_quota_client() -> Any:
    """SES (v1) for GetSendQuota: the account's send rate and daily quota."""
    import boto3

    return boto3.client("ses", region_name=settings().region, config=_boto_config())


@functools.cache
def sqs_client() -> Any:
    import boto3

    return boto3.client("sqs", region_name=settings().region, config=_boto_config())


@functools.cache
def signing_secrets() -> tuple[str, ...]:
    """The link-signing secrets, newest first: links are signed with the first and accepted
    with any (rotation, docs/DEPLOY.md). From SIGNING_SECRET (comma-separated), a local file
    (one a line) or Secrets Manager (one string, or a JSON list of strings)."""
    s = settings()
    if s.signing_secret:
        source = "SIGNING_SECRET"
        found = parse_secrets(s.signing_secret, source, separator=",")
    elif s.signing_secret_file:
        path = Path(s.signing_secret_file)
        if not path.exists():
            raise RuntimeError(f"signing secret file {path} is missing: run `make run` to create it")
        source = f"signing secret file {path}"
        found = parse_secrets(path.read_text(), source, separator="\n")
    elif s.signing_secret_arn:
        import boto3

        client = boto3.client("secretsmanager", region_name=s.region, config=_boto_config())
        source = "the secret SIGNING_SECRET_ARN names"
        found = parse_secrets(client.get_secret_value(SecretId=s.signing_secret_arn)["SecretString"],
                              source, separator=None)
    else:
        raise RuntimeError("no signing secret: set SIGNING_SECRET, SIGNING_SECRET_FILE or SIGNING_SECRET_ARN")
    for number, secret in enumerate(found, 1):
        try:
            check_secret(secret)
        except RuntimeError as exc:  # which one, never what it is
            raise RuntimeError(f"{source}, secret {number} of {len(found)}: {exc}") from None
    return found


def signing_secret() -> str:
    """The newest link-signing secret: what new links (and store cursors) are signed with."""
    return signing_secrets()[0]


def parse_secrets(text: str, source: str, *, separator: str | None) -> tuple[str, ...]:
    """Secrets, newest first, from one of the three sources. `separator` None: Secrets
    Manager, whose string is one secret or a JSON list of them."""
    if separator is None:
        stripped = text.strip()
        if stripped.startswith("{"):
            raise RuntimeError(f"{source} is a JSON object: give one secret or a JSON list of strings")
        if stripped.startswith("["):
            try:
                listed = json.loads(stripped)
            except ValueError:
                raise RuntimeError(f"{source} starts with '[' but is not a JSON list of strings") from None
            if not isinstance(listed, list) or not all(isinstance(x, str) for x in listed):
                raise RuntimeError(f"{source} must be one secret or a JSON list of strings, newest first")
            parts = [x.strip() for x in listed]
        else:
            parts = [stripped]
    else:
        parts = [x.strip() for x in text.split(separator)]
    found = tuple(x for x in parts if x)
    if not found:
        raise RuntimeError(f"{source} holds no signing secret")
    if len(set(found)) != len(found):
        raise RuntimeError(f"{source} lists a signing secret twice")
    return found


_KNOWN_DEFAULTS = {"secret", "changeme", "change-me", "default", "development", "dev", "test"}


def check_secret(secret: str) -> None:
    """Refuse an empty, short or well-known secret: links signed with it could be forged."""
    if len(secret) < 32 or secret.lower() in _KNOWN_DEFAULTS or len(set(secret)) < 8:
        raise RuntimeError("the signing secret must be at least 32 random characters")


@functools.cache
def store() -> Store:
    from chalicelib.store import Store

    return Store(dynamodb_client(), settings().table_name, signing_secret())


def reset() -> None:
    """Forget every cached client and setting (tests, and a new stage in one process)."""
    for getter in (settings, dynamodb_client, ses_client, ses_quota_client, sqs_client, signing_secrets,
                   store):
        getter.cache_clear()
    from chalicelib.mail import sender

    sender.forget_quota()
