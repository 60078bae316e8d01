"""HTTP plumbing shared by the blueprints: one error shape, body and query parsing, headers.

Every error answer is JSON: {"error": {"code", "message", "field", "errors": [{"field", "message"}]}}.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from chalice.app import Request, Response
from pydantic import BaseModel, ValidationError

from chalicelib import errors, ids, observe

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000
JSON_TYPES = ["application/json"]
M = TypeVar("M", bound=BaseModel)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    all_headers: dict[str, str | list[str]] = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    return Response(body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                    status_code=status, headers=all_headers)


def job_accepted(job: Any) -> Response:
    """202 for work handed to a background job: where to watch it, and that it is queued."""
    return json_response({"job_id": job.job_id, "status": "queued"}, 202,
                         {"Location": f"/groups/{job.group_id}/jobs/{job.job_id}"})


def error_body(code: str, message: str, field: str | None = None,
               details: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field,
                      "errors": details if details is not None else (
                          [{"field": field, "message": message}] if field else [])}}


def error_response(exc: errors.PowerlunchError) -> Response:
    details = exc.errors if isinstance(exc, errors.InvalidInput) else None
    message = f"{exc.field}: {exc.message}" if exc.field and isinstance(exc, errors.InvalidInput) else exc.message
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return json_response(error_body(exc.code, message, exc.field, details), exc.status, headers)


def _loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "body"


def invalid_from(exc: ValidationError, prefix: str = "") -> errors.InvalidInput:
    details = [{"field": prefix + _loc(e["loc"]), "message": e["msg"]} for e in exc.errors()]
    first = details[0] if details else {"field": "body", "message": "is not valid"}
    return errors.InvalidInput(first["message"], field=first["field"], errors=details)


def api(func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap an organizer view: domain and validation errors become JSON answers."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except errors.PowerlunchError as exc:
            return error_response(exc)
        except ValidationError as exc:
            return error_response(invalid_from(exc))

    return wrapper


def raw_body(request: Request) -> bytes:
    body = request.raw_body or b""
    if isinstance(body, str):
        body = body.encode()
    if len(body) > MAX_BODY_BYTES:
        raise errors.PayloadTooLarge(f"the body is over {MAX_BODY_BYTES} bytes", field="body")
    return body


def parse_json(request: Request) -> Any:
    """The JSON body (size and syntax checked; the content type was checked by the route)."""
    body = raw_body(request)
    if not body.strip():
        raise errors.InvalidInput("a JSON body is required", field="body")
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise errors.InvalidInput("is not valid JSON", field="body") from None


def parse_model(request: Request, model: type[M]) -> M:
    data = parse_json(request)
    if not isinstance(data, dict):
        raise errors.InvalidInput("must be a JSON object", field="body")
    return model.model_validate(data)


def once(request: Request, group_id: str, produce: Callable[[], Response]) -> Response:
    """Run a creating POST at most once per `Idempotency-Key` header (when the client sends one)."""
    from chalicelib.services import idempotency

    fingerprint = b"\n".join([request.method.encode(), request.path.encode(), raw_body(request)])
    return idempotency.run_once(group_id, request.headers.get(idempotency.HEADER), fingerprint, produce)


def query(request: Request) -> dict[str, str]:
    return dict(request.query_params or {})


def page_params(request: Request) -> tuple[int, str | None]:
    """`limit` (1..200, default 50) and the opaque `cursor`."""
    params = query(request)
    raw = params.get("limit", "50")
    if not raw.isdigit() or not 1 <= int(raw) <= 200:
        raise errors.InvalidInput("must be a whole number from 1 to 200", field="limit")
    return int(raw), cursor_param(request)


def cursor_param(request: Request) -> str | None:
    """The opaque `cursor` a list gave out (its signature is checked where it is read)."""
    cursor = query(request).get("cursor") or None
    if cursor is not None and len(cursor) > 4096:
        raise errors.InvalidInput("is not a cursor this list gave out", field="cursor")
    return cursor


def page(items: list[Any], next_cursor: str | None) -> dict[str, Any]:
    return {"items": items, "next_cursor": next_cursor}


def path_id(value: str, prefix: str, field: str) -> str:
    """A path id of the right shape, or 404 before any lookup."""
    if not ids.is_id(value, prefix):
        raise errors.NotFound(f"no such {field.removesuffix('_id')}", field=field)
    return value


def rewrite_chalice_errors(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """HTTP middleware: Chalice's own 405/415/500 answers in our error shape, plus the
    security headers on every answer. Each request's log lines carry its request id and route."""
    observe.configure()
    context = getattr(event, "context", None) or {}
    request_id = context.get("requestId") or getattr(getattr(event, "lambda_context", None), "aws_request_id", None)
    with observe.invocation(kind="http", request_id=request_id, route=f"{event.method} {event.path}"):
        response = get_response(event)
        log.info("answered %d", response.status_code, extra={"status": response.status_code})
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body:
        code = {405: "method_not_allowed", 415: "unsupported_media_type",
                400: "invalid"}.get(response.status_code, "internal_error")
        message = str(body.get("Message", "")) if response.status_code < 500 else "Something went wrong on our side."
        field = "Content-Type" if response.status_code == 415 else None
        response.body = json.dumps(error_body(code, message, field))
        response.headers["Content-Type"] = "application/json; charset=utf-8"
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
