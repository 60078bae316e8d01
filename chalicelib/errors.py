"""The one small hierarchy of domain errors; `routes.http` turns each into an HTTP answer."""

from __future__ import annotations


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
