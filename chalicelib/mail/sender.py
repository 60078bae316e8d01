"""Sending a composed message: SES raw send in AWS, an .eml file locally."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib import deps


class SendFailed(Exception):
    """Raised when the mail service refused or failed a send; the outbox retries it."""


class SendThrottled(SendFailed):
    """Raised when SES said the account's maximum send rate was exceeded: try again shortly,
    and do not count it as a failed attempt."""


class QuotaExhausted(SendFailed):
    """Raised when SES's 24-hour sending quota is used up (or sending is paused): the mail
    waits, queued, until the quota has room again."""


# SESv2 error codes: the rate (429) and the daily quota / a paused account.
_THROTTLED = {"TooManyRequestsException", "Throttling", "ThrottlingException"}
_HOLD = {"LimitExceededException", "SendingPausedException"}
QUOTA_CACHE_SECONDS = 300


@dataclass(frozen=True)
class Quota:
    """SES's limits as last read: mails a second, mails a day, and how many went in the last day."""

    max_send_rate: float
    max_24_hour_send: float
    sent_last_24_hours: float
    read_at: float


_quota: Quota | None = None


def send_quota(now: float) -> Quota:
    """GetSendQuota, cached for a few minutes per process (every worker calls it per batch)."""
    global _quota
    if _quota is None or now - _quota.read_at > QUOTA_CACHE_SECONDS:
        answer = deps.ses_quota_client().get_send_quota()
        _quota = Quota(float(answer.get("MaxSendRate", 1)), float(answer.get("Max24HourSend", 200)),
                       float(answer.get("SentLast24Hours", 0)), now)
    return _quota


def note_sent(count: int) -> None:
    """Count our own sends into the cached quota between reads."""
    global _quota
    if _quota is not None:
        _quota = Quota(_quota.max_send_rate, _quota.max_24_hour_send,
                       _quota.sent_last_24_hours + count, _quota.read_at)


def forget_quota() -> None:
    global _quota
    _quota = None


# SES names the addresses it refused ("... failed the check in region US-EAST-1: a@b.c"):
# the error is logged and stored, so it must not carry them.
_ADDRESS = re.compile(r"[^\s<>,;:\"'()\[\]]+@[^\s<>,;:\"'()\[\]]+")


def _redacted(text: str) -> str:
    return _ADDRESS.sub("<address>", text)


def send_raw(raw: bytes, *, to_email: str, from_email: str, name_hint: str,
             cc_emails: Sequence[str] = ()) -> str:
    """Hand one message to the mail service; answers where it went (SES message id or path).
    `cc_emails` are the message's Cc addresses: SES delivers to the envelope it is given."""
    settings = deps.settings()
    if settings.mail_mode == "files":
        return _write_eml(Path(settings.outbox_dir), raw, name_hint)
    from botocore.exceptions import BotoCoreError, ClientError

    request: dict[str, Any] = {"FromEmailAddress": from_email, "Destination": {"ToAddresses": [to_email]},
                               "Content": {"Raw": {"Data": raw}}}
    if cc_emails:
        request["Destination"]["CcAddresses"] = list(cc_emails)
    if settings.ses_configuration_set:  # SES publishes this mail's bounces and complaints through it
        request["ConfigurationSetName"] = settings.ses_configuration_set
    try:
        answer = deps.ses_client().send_email(**request)
    except (ClientError, BotoCoreError) as exc:
        # `from None`: the chained botocore error would print the addresses in the traceback.
        text = type(exc).__name__ + ": " + _redacted(str(exc))[:200]
        code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""
        if code in _HOLD or "daily message quota" in text.lower():
            raise QuotaExhausted(text) from None
        if code in _THROTTLED:
            raise SendThrottled(text) from None
        raise SendFailed(text) from None
    return str(answer.get("MessageId", ""))


def _write_eml(folder: Path, raw: bytes, name_hint: str) -> str:
    """Write atomically (temp file + rename) so a reader never sees half a message."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name_hint}.eml"
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    with os.fdopen(fd, "wb") as handle:
        handle.write(raw)
    os.replace(tmp, target)
    return str(target)
