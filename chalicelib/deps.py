"""The one place that builds clients and reads secrets. Cached per process; tests call `reset()`.

Everything is built on first use, not at import: Chalice sets stage variables per call, and
the HTTP functions' cold start should not pay for clients they do not use.
"""

from __future__ import annotations

import functools
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
def signing_secret() -> str:
    """The link-signing secret: from SIGNING_SECRET, a local file, or Secrets Manager."""
    s = settings()
    if s.signing_secret:
        secret = s.signing_secret
    elif s.signing_secret_file:
        path = Path(s.signing_secret_file)
        if not path.exists():
            raise RuntimeError(f"signing secret file {path} is missing: run `make run` to create it")
        secret = path.read_text().strip()
    elif s.signing_secret_arn:
        import boto3

        client = boto3.client("secretsmanager", region_name=s.region, config=_boto_config())
        secret = client.get_secret_value(SecretId=s.signing_secret_arn)["SecretString"]
    else:
        raise RuntimeError("no signing secret: set SIGNING_SECRET, SIGNING_SECRET_FILE or SIGNING_SECRET_ARN")
    check_secret(secret)
    return secret


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
    for getter in (settings, dynamodb_client, ses_client, ses_quota_client, sqs_client, signing_secret,
                   store):
        getter.cache_clear()
    from chalicelib.mail import sender

    sender.forget_quota()
