"""Settings from the environment, read when first needed (Chalice sets stage variables per call)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

MailMode = Literal["ses", "files"]
WorkMode = Literal["sqs", "inline"]

# What a deployed function must be given (tests/deploy checks every function of the packaged
# template has each). Everything else `from_env` reads is local-only (DYNAMODB_ENDPOINT,
# OUTBOX_DIR, SIGNING_SECRET, SIGNING_SECRET_FILE) or set by the Lambda runtime (AWS_REGION).
AWS_VARIABLES: tuple[str, ...] = (
    "TABLE_NAME", "BASE_URL", "MAIL_MODE", "SENDER_EMAIL", "WORK_MODE",
    "MAIL_QUEUE_URL", "PAIRING_QUEUE_URL", "RSVP_QUEUE_URL", "SIGNING_SECRET_ARN", "LOG_LEVEL",
)


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
    mail_queue_url: str | None
    pairing_queue_url: str | None
    rsvp_queue_url: str | None
    signing_secret: str | None
    signing_secret_file: str | None
    signing_secret_arn: str | None
    log_level: str

    def queue_url(self, queue_name: str) -> str | None:
        """The URL of one of the app's queues, by the name app.py consumes it under."""
        return {"powerlunch-mail": self.mail_queue_url, "powerlunch-pairing": self.pairing_queue_url,
                "powerlunch-rsvp": self.rsvp_queue_url}.get(queue_name)

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
            mail_queue_url=e.get("MAIL_QUEUE_URL") or None,
            pairing_queue_url=e.get("PAIRING_QUEUE_URL") or None,
            rsvp_queue_url=e.get("RSVP_QUEUE_URL") or None,
            signing_secret=e.get("SIGNING_SECRET") or None,
            signing_secret_file=e.get("SIGNING_SECRET_FILE") or None,
            signing_secret_arn=e.get("SIGNING_SECRET_ARN") or None,
            log_level=e.get("LOG_LEVEL", "INFO"),
        )
