"""The one small hierarchy of domain errors; `routes.http` turns each into an HTTP answer."""

from __future__ import annotations

from typing import Any


class PowerlunchError(Exception):
    """Base: every error a caller may see. `status` and `code` shape the HTTP answer."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(PowerlunchError):
    """Raised when a body, path or query value fails validation; `field` names it."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None,
                 errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message, field=field)
        self.errors = errors or ([{"field": field, "message": message}] if field else [])


class Unauthorized(PowerlunchError):
    """Raised when the bearer key is missing, malformed, unknown or revoked."""

    status = 401
    code = "unauthorized"


class Forbidden(PowerlunchError):
    """Raised when a member link is tampered with or made for another purpose."""

    status = 403
    code = "forbidden"


class NotFound(PowerlunchError):
    """Raised when a resource does not exist in the caller's group (other groups' look the same)."""

    status = 404
    code = "not_found"


class MethodNotAllowed(PowerlunchError):
    """Raised when a path exists but not for this method."""

    status = 405
    code = "method_not_allowed"


class Conflict(PowerlunchError):
    """Raised when the request clashes with the current state (e.g. a cancelled meetup)."""

    status = 409
    code = "conflict"


class Gone(PowerlunchError):
    """Raised when a member link has expired."""

    status = 410
    code = "gone"


class PayloadTooLarge(PowerlunchError):
    """Raised when a body is over the 1 MB limit."""

    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(PowerlunchError):
    """Raised when a body is not in a content type the route accepts."""

    status = 415
    code = "unsupported_media_type"


class Unavailable(PowerlunchError):
    """Raised when DynamoDB keeps throttling or conflicting after bounded retries."""

    status = 503
    code = "unavailable"


class AlreadyExists(Conflict):
    """Raised by the store when a conditional create finds the item already there."""

    code = "already_exists"


class StaleWrite(Conflict):
    """Raised by the store when a guarded update lost a race; callers re-read and retry."""

    code = "stale_write"


def field_message(error: dict[str, Any]) -> str:
    """One of pydantic's errors (an item of ValidationError.errors()) in the words a form or a
    CSV report says beside the field: "is required", "is too long (at most 200 characters)"."""
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "string_too_short":
        return "is required" if ctx.get("min_length") == 1 else f"needs at least {ctx.get('min_length')} characters"
    if kind == "string_too_long":
        return f"is too long (at most {ctx.get('max_length')} characters)"
    if kind.startswith("datetime") or kind.startswith("date_"):
        return "is not a date and time"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "must be a whole number"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}"
    if kind == "missing":
        return "is required"
    if kind == "value_error" and "email" in str(error.get("msg", "")).lower():
        return "is not an email address"
    if kind == "string_pattern_mismatch":
        return "is not valid"
    return str(error.get("msg", "is not valid")).removeprefix("Value error, ")
