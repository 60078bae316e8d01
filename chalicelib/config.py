"""Settings from the environment, read when first needed (Chalice sets stage variables per call)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

MailMode = Literal["ses", "files"]
WorkMode = Literal["sqs", "inline"]

# What a deployed function must be given (tests/deploy checks every function of the packaged
# template has each), besides one URL variable per queue of the worker map (workers.QUEUES,
# read here as every *_QUEUE_URL). Everything else `from_env` reads is optional
# (MAIL_RATE_LIMIT), local-only (DYNAMODB_ENDPOINT, OUTBOX_DIR, SIGNING_SECRET,
# SIGNING_SECRET_FILE) or set by the Lambda runtime (AWS_REGION).
AWS_VARIABLES: tuple[str, ...] = (
    "TABLE_NAME", "BASE_URL", "MAIL_MODE", "SENDER_EMAIL", "WORK_MODE", "SIGNING_SECRET_ARN",
    "LOG_LEVEL", "SES_CONFIGURATION_SET",
)
QUEUE_URL_SUFFIX = "_QUEUE_URL"
# The SNS topic SES publishes bounces and complaints to (app.py subscribes; the template makes
# `${AWS::StackName}-ses-events` and points the subscription at it instead of this name).
SES_EVENTS_TOPIC: Final = "powerlunch-ses-events"


@dataclass(frozen=True)
class Settings:
    table_name: str
    base_url: str
    region: str
    dynamodb_endpoint: str | None
    mail_mode: MailMode
    outbox_dir: str
    sender_email: str
    work_mode: WorkMode
    mail_rate_limit: float | None
    signing_secret: str | None
    signing_secret_file: str | None
    signing_secret_arn: str | None
    log_level: str
    # Every SES send names it, so SES publishes its bounces and complaints (services/bounces.py).
    ses_configuration_set: str | None = None
    # Each queue's URL by its variable's name (workers.Queue.url_env), e.g. MAIL_QUEUE_URL.
    queue_urls: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        e = dict(os.environ if env is None else env)
        mail_mode = e.get("MAIL_MODE", "files")
        work_mode = e.get("WORK_MODE", "inline")
        if mail_mode not in ("ses", "files"):
            raise ValueError(f"MAIL_MODE must be 'ses' or 'files', not {mail_mode!r}")
        if work_mode not in ("sqs", "inline"):
            raise ValueError(f"WORK_MODE must be 'sqs' or 'inline', not {work_mode!r}")
        return cls(
            table_name=e.get("TABLE_NAME", "powerlunch"),
            base_url=e.get("BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
            region=e.get("AWS_REGION") or e.get("AWS_DEFAULT_REGION") or "us-east-1",
            dynamodb_endpoint=e.get("DYNAMODB_ENDPOINT") or None,
            mail_mode=mail_mode,  # type: ignore[arg-type]
            outbox_dir=e.get("OUTBOX_DIR", ".local/outbox"),
            sender_email=e.get("SENDER_EMAIL", "lunch@powerlunch.example"),
            work_mode=work_mode,  # type: ignore[arg-type]
            mail_rate_limit=_positive(e, "MAIL_RATE_LIMIT"),
            signing_secret=e.get("SIGNING_SECRET") or None,
            signing_secret_file=e.get("SIGNING_SECRET_FILE") or None,
            signing_secret_arn=e.get("SIGNING_SECRET_ARN") or None,
            log_level=e.get("LOG_LEVEL", "INFO"),
            ses_configuration_set=e.get("SES_CONFIGURATION_SET") or None,
            queue_urls={k: v for k, v in e.items() if k.endswith(QUEUE_URL_SUFFIX) and v},
        )


def _positive(env: Mapping[str, str], name: str) -> float | None:
    """An optional positive number, e.g. MAIL_RATE_LIMIT (mails a second; below SES's own)."""
    raw = env.get(name)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be above 0, not {raw!r}")
    return value
