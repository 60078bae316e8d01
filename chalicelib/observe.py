"""What operators see: JSON log lines with the work's context, and counts as CloudWatch metrics.

    observe.configure()                                    # once per process (idempotent)
    with observe.invocation(kind="mail.deliver", request_id=context.aws_request_id):
        for record in records:
            with observe.context(message_id=record_id):
                log.info("mail sent", extra={"mail_id": mail_id})
                observe.count("MailSent")
    # leaving `invocation` prints the counts as Embedded Metric Format lines, even on error

Logs: one JSON object per line with `level`, `message`, `logger`, `timestamp` (UTC ISO), the
context (`request_id`, `message_id`, `kind`, and any other field given to `context`), the
`extra=` fields and `exception`. Anything shaped like an email address, a member-link token or
an API key is redacted from the message, the exception and every field, so logs can be read and
kept without holding personal data or credentials.

Metrics: `count` adds up in the process; `flush` prints one EMF line per dimension set to stdout,
where CloudWatch Logs turns it into metrics in the "powerlunch" namespace (no API call, no IAM
permission, nothing on the request's path). A count with dimensions is also published without
them, so the namespace-wide series the alarms watch holds every count whatever dimensions a
caller picks.

Why the stdlib and not Powertools' Logger/Metrics: measured with `import app` done first (so
logging, json, boto3 and jmespath are already loaded), importing Powertools and building a
Logger and Metrics adds a median 12.6 ms to every cold start on a quiet machine (min 9.1 ms,
20 runs; about 30 ms under load), on a cold start already 10x over its budget, and 1.0 MB zipped
to a package at 23.9 of its 25 MB. This module adds 1.7 ms and does the part this app needs.
Figures and method: bench/RESULTS.md, "Logging library".
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final

from chalicelib import deps

NAMESPACE: Final = "powerlunch"
# The metric names the app emits; the alarms in infra/build_template.py watch two of them.
MAIL_SENT: Final = "MailSent"
MAIL_THROTTLED: Final = "MailThrottled"
MAIL_DEAD: Final = "MailDead"
JOBS_FINISHED: Final = "JobsFinished"
ROUNDS_RUN: Final = "RoundsRun"
RSVPS: Final = "Rsvps"
JOBS_OVERDUE: Final = "JobsOverdue"
# SES's reports (services/bounces.py): bounces by bounce_type (Permanent suppresses the member,
# Transient and Undetermined are only counted), complaints (each suppresses the member).
MAIL_BOUNCED: Final = "MailBounced"
MAIL_COMPLAINED: Final = "MailComplained"
METRICS: Final = (MAIL_SENT, MAIL_THROTTLED, MAIL_DEAD, JOBS_FINISHED, ROUNDS_RUN, RSVPS, JOBS_OVERDUE,
                  MAIL_BOUNCED, MAIL_COMPLAINED)

# Chalice's own logger (named after the app) logs view errors with tracebacks through a handler
# of its own that does not propagate to the root logger.
_APP_LOGGERS: Final = ("powerlunch",)

# ---------------------------------------------------------------------------------------------
# Redaction

# The same shape as mail/sender.py's (which scrubs SES errors before they are stored).
_ADDRESS = re.compile(r"[^\s<>,;:\"'()\[\]]+@[^\s<>,;:\"'()\[\]]+")
# Member links put the token in the path: /rsvp/<token>, /lunch/<token>, ...
_LINK = re.compile(r"/(rsvp|unsubscribe|lunch|pairing)/[^\s/?#\"'<>]+")
# itsdangerous tokens (payload.signature, the HMAC-SHA256 signature is 43 characters) and API
# keys (pl.key_<id>.<43 random characters>): a dotted run ending in 32+ URL-safe characters.
_TOKEN = re.compile(r"(?<![A-Za-z0-9_\-.])[A-Za-z0-9_\-.]*\.[A-Za-z0-9_-]{32,}")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[^\s\"',;]+")
# Fields whose whole value is withheld, whatever it looks like.
_SECRET_KEYS = re.compile(r"(?i)e-?mail|token|secret|password|authorization|api_?key|cookie|signature")
REDACTED: Final = "<redacted>"
_MAX_DEPTH = 6


def redact(text: str) -> str:
    """`text` without email addresses, member-link tokens, API keys or bearer credentials."""
    text = _ADDRESS.sub("<address>", text)
    text = _LINK.sub(r"/\1/<token>", text)
    text = _BEARER.sub(r"\1 <token>", text)
    return _TOKEN.sub("<token>", text)


def _clean(value: Any, depth: int = 0) -> Any:
    """A JSON-ready copy of `value` with every string redacted and secret-named keys withheld."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return redact(value)
    if depth < _MAX_DEPTH:
        if isinstance(value, Mapping):
            return {str(k): REDACTED if _SECRET_KEYS.search(str(k)) else _clean(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [_clean(v, depth + 1) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return redact(str(value))


# ---------------------------------------------------------------------------------------------
# Context

_CONTEXT: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "observe_context", default=MappingProxyType({})
)


def current() -> dict[str, str]:
    """The context fields in force here (a copy)."""
    return dict(_CONTEXT.get())


@contextlib.contextmanager
def context(
    *, kind: str | None = None, message_id: str | None = None, request_id: str | None = None, **fields: str | None
) -> Iterator[None]:
    """Every log line inside carries these fields (None leaves a field as the outer context set it).
    Nests: an inner `context(message_id=...)` keeps the outer `kind` and `request_id`."""
    given = {"kind": kind, "message_id": message_id, "request_id": request_id, **fields}
    token = _CONTEXT.set({**_CONTEXT.get(), **{k: str(v) for k, v in given.items() if v is not None}})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


@contextlib.contextmanager
def invocation(
    *, kind: str | None = None, message_id: str | None = None, request_id: str | None = None, **fields: str | None
) -> Iterator[None]:
    """One unit of work (a request, a Lambda invocation): sets the context and flushes the metrics
    when it ends, also when it raises. Usable as `with` or as a decorator."""
    try:
        with context(kind=kind, message_id=message_id, request_id=request_id, **fields):
            yield
    finally:
        flush()


# ---------------------------------------------------------------------------------------------
# Logs

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRS: Final = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# The Lambda runtime's log filter stamps every record with the invocation's request id.
_LAMBDA_REQUEST_ID: Final = "aws_request_id"
_CORE: Final = ("level", "message", "logger", "timestamp")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line, redacted (see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "level": record.levelname,
            "message": redact(record.getMessage()),
            "logger": record.name,
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        }
        ctx = dict(_CONTEXT.get())
        lambda_id = getattr(record, _LAMBDA_REQUEST_ID, None)
        if lambda_id and "request_id" not in ctx:
            ctx["request_id"] = str(lambda_id)
        extra = {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRS and k != _LAMBDA_REQUEST_ID}
        for key, value in _clean({**ctx, **extra}).items():
            if key not in _CORE:
                line[key] = value
        if record.exc_info:
            line["exception_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            line["exception"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            line["exception"] = redact(record.exc_text)
        if record.stack_info:
            line["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(line, ensure_ascii=False, separators=(",", ":"), default=str)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time (tests swap it). Outside Lambda only: stdout
    stays for what a program prints (the operator CLI's JSON, the metric lines)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


_lock = threading.Lock()
_configured = False


def configure(level: str | None = None) -> None:
    """Install the JSON formatter on the root logger (and Chalice's app logger), once per process;
    later calls only set the level. `level` defaults to the LOG_LEVEL setting."""
    global _configured
    root = logging.getLogger()
    wanted = (level or deps.settings().log_level).upper()
    if logging.getLevelName(root.level) != wanted:  # setLevel clears every logger's cache: not per request
        root.setLevel(wanted)
    if _configured:
        return
    with _lock:
        if _configured:
            return
        formatter = JsonFormatter()
        if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and root.handlers:
            # In Lambda the runtime's own handler on the root logger ships the lines (with the
            # request id filter); give it our format rather than adding a second copy of each line.
            for handler in root.handlers:
                handler.setFormatter(formatter)
        else:
            handler = _StderrHandler()
            handler.setFormatter(formatter)
            root.addHandler(handler)
        for name in _APP_LOGGERS:
            for handler in logging.getLogger(name).handlers:
                if type(handler) is logging.StreamHandler:  # Chalice's, not a test runner's capture
                    handler.setFormatter(formatter)
        _configured = True


# ---------------------------------------------------------------------------------------------
# Metrics (CloudWatch Embedded Metric Format)

_Dimensions = tuple[tuple[str, str], ...]
_counts: dict[_Dimensions, dict[str, float]] = {}
_RESERVED_KEYS: Final = frozenset({"_aws", *METRICS})


def count(name: str, value: float = 1, **dimensions: str) -> None:
    """Add `value` to the metric `name` (unit Count) until the next `flush`. Dimensions are for low-
    cardinality labels such as a kind or an answer, never ids: each value makes its own series."""
    if not name or name in dimensions:
        raise ValueError(f"bad metric name {name!r}")
    for key, dim in dimensions.items():
        if key in _RESERVED_KEYS or not isinstance(dim, str) or not dim:
            raise ValueError(f"bad metric dimension {key}={dim!r}")
    key_set = tuple(sorted(dimensions.items()))
    with _lock:
        metrics = _counts.setdefault(key_set, {})
        metrics[name] = metrics.get(name, 0) + value


def pending() -> dict[str, float]:
    """What `flush` would publish now, summed over dimensions, by metric name (for tests)."""
    totals: dict[str, float] = {}
    with _lock:
        for metrics in _counts.values():
            for name, value in metrics.items():
                totals[name] = totals.get(name, 0) + value
    return totals


def flush() -> list[dict[str, Any]]:
    """Print the counts as EMF lines (one per dimension set) to stdout and forget them; answers
    the documents printed."""
    with _lock:
        taken = dict(_counts)
        _counts.clear()
    stamp = int(time.time() * 1000)
    documents: list[dict[str, Any]] = []
    for dims, metrics in taken.items():
        names = [k for k, _ in dims]
        directive = {
            "Namespace": NAMESPACE,
            # With dimensions, also the empty set: the namespace-wide series gets every count.
            "Dimensions": [names, []] if names else [[]],
            "Metrics": [{"Name": name, "Unit": "Count"} for name in metrics],
        }
        documents.append({"_aws": {"Timestamp": stamp, "CloudWatchMetrics": [directive]}, **dict(dims), **metrics})
    for document in documents:
        sys.stdout.write(json.dumps(document, separators=(",", ":")) + "\n")
    if documents:
        sys.stdout.flush()
    return documents
