"""`Idempotency-Key` for organizer POSTs that create things (as Stripe does it): the first
request's 2xx answer is kept for a day and replayed to any retry with the same key; the same
key with another request is refused; a failed attempt releases the key so a retry can run."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

from chalice.app import Response

from chalicelib import deps, errors

LIFETIME = timedelta(hours=24)
HEADER = "Idempotency-Key"


def run_once(group_id: str, key: str | None, request_fingerprint: bytes,
             produce: Callable[[], Response]) -> Response:
    """Answer `produce()` once per key; a retry gets the stored answer, marked replayed."""
    if key is None:
        return produce()
    if not 1 <= len(key) <= 255 or not key.isprintable() or not key.isascii():
        raise errors.InvalidInput("must be 1 to 255 printable ASCII characters", field=HEADER)
    repo = deps.store().idempotency
    fingerprint = hashlib.sha256(request_fingerprint).hexdigest()
    now = deps.now()
    existing = repo.reserve(group_id, key, fingerprint, now, now + LIFETIME)
    if existing is not None:
        if existing.get("fingerprint") not in (None, fingerprint):
            raise errors.InvalidInput("was already used with a different request", field=HEADER)
        if existing.get("state") != "done":
            raise errors.Conflict("a request with this key is still being handled; retry shortly",
                                  field=HEADER)
        headers = {str(k): str(v) for k, v in dict(existing.get("headers") or {}).items()}
        headers["Idempotent-Replayed"] = "true"
        return Response(body=str(existing["body"]), status_code=int(existing["http_status"]),
                        headers=headers)  # type: ignore[arg-type]
    try:
        response = produce()
    except BaseException:
        repo.release(group_id, key)
        raise
    if 200 <= response.status_code < 400:  # a console form's answer is a redirect: kept too
        body = response.body if isinstance(response.body, str) else str(response.body or "")
        kept = {"Content-Type": str(response.headers.get("Content-Type", "application/json"))}
        if response.headers.get("Location"):
            kept["Location"] = str(response.headers["Location"])
        repo.complete(group_id, key, response.status_code, body, kept)
    else:
        repo.release(group_id, key)
    return response
