"""Sending a composed message: SES raw send in AWS, an .eml file locally."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from chalicelib import deps


class SendFailed(Exception):
    """Raised when the mail service refused or failed a send; the outbox retries it."""


# SES names the addresses it refused ("... failed the check in region US-EAST-1: a@b.c"):
# the error is logged and stored, so it must not carry them.
_ADDRESS = re.compile(r"[^\s<>,;:\"'()\[\]]+@[^\s<>,;:\"'()\[\]]+")


def _redacted(text: str) -> str:
    return _ADDRESS.sub("<address>", text)


def send_raw(raw: bytes, *, to_email: str, from_email: str, name_hint: str) -> str:
    """Hand one message to the mail service; answers where it went (SES message id or path)."""
    settings = deps.settings()
    if settings.mail_mode == "files":
        return _write_eml(Path(settings.outbox_dir), raw, name_hint)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = deps.ses_client().send_email(
            FromEmailAddress=from_email, Destination={"ToAddresses": [to_email]},
            Content={"Raw": {"Data": raw}})
    except (ClientError, BotoCoreError) as exc:
        # `from None`: the chained botocore error would print the addresses in the traceback.
        raise SendFailed(type(exc).__name__ + ": " + _redacted(str(exc))[:200]) from None
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
