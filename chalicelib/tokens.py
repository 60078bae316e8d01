"""Signed, salted, expiring links for member pages.

A token names one purpose, one group, one member, one resource and an expiry. It is signed
with HMAC-SHA256 by itsdangerous, with one salt per purpose, so a token minted for one page
is refused by every other page. The expiry travels inside the signed payload; the clock is
passed in by the caller, never read here.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha256
from typing import Any, Final, Literal, get_args

from itsdangerous import BadData, URLSafeSerializer

Purpose = Literal["rsvp", "lunch", "pairing", "unsubscribe", "reconnect", "settings", "welcome", "introduce", "offer",
                  "met"]
PURPOSES: Final[tuple[Purpose, ...]] = get_args(Purpose)

MIN_SECRET_LENGTH: Final = 32
# Placeholders people paste from examples; refusing them keeps a demo secret out of production.
_KNOWN_DEFAULTS: Final = frozenset(
    {
        "changeme",
        "change-me",
        "change_me",
        "secret",
        "dev",
        "development",
        "test",
        "password",
        "insecure",
        "powerlunch",
        "signing-secret",
        "your-secret-here",
        "replace-me",
    }
)


@dataclass(frozen=True)
class Claims:
    """What a valid token says: who may do what on which resource, until when (aware UTC)."""

    purpose: Purpose
    group_id: str
    member_id: str
    resource_id: str
    expires_at: datetime


class TokenError(Exception):
    """Base of the errors raised when a token cannot be used."""


class TokenInvalid(TokenError):
    """Raised when a token is tampered with, malformed, made for another purpose or with
    another secret. Pages answer 403."""


class TokenExpired(TokenError):
    """Raised when a token's signature is good but its expires_at has passed. Pages answer 410
    and can use the claims to say what the link was for."""

    def __init__(self, claims: Claims) -> None:
        super().__init__(
            f"{claims.purpose} link expired at {claims.expires_at.isoformat()}"
        )
        self.claims = claims


def _check_secret(secret: str) -> None:
    if not secret or not secret.strip():
        raise ValueError("the signing secret is empty")
    if secret.strip().lower() in _KNOWN_DEFAULTS or any(
        d in secret.lower()
        for d in ("changeme", "change-me", "change_me", "replace-me")
    ):
        raise ValueError(
            "the signing secret is a known placeholder; generate a random one"
        )
    if len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(
            f"the signing secret must be at least {MIN_SECRET_LENGTH} characters"
        )
    if len(set(secret)) < 8:
        raise ValueError(
            "the signing secret is not random enough (too few distinct characters)"
        )


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


class Signer:
    """Makes and reads member-link tokens. Secrets rotate: given several, newest first, it
    signs with the newest and accepts a token signed with any of them (docs/DEPLOY.md)."""

    def __init__(self, secret: str | Sequence[str]) -> None:
        secrets = [secret] if isinstance(secret, str) else list(secret)
        if not secrets:
            raise ValueError("no signing secret")
        if len(set(secrets)) != len(secrets):
            raise ValueError("a signing secret is listed twice")
        for each in secrets:
            _check_secret(each)
        # One serializer set per secret, so a token is re-spelt (below) with the secret that
        # signed it: itsdangerous's own key list would re-sign with the newest and refuse it.
        self._by_secret = [
            {
                purpose: URLSafeSerializer(
                    each,
                    salt=f"powerlunch.{purpose}",
                    signer_kwargs={"digest_method": sha256},
                )
                for purpose in PURPOSES
            }
            for each in secrets
        ]
        self._serializers = self._by_secret[0]

    def _serializer(self, purpose: str) -> URLSafeSerializer:
        try:
            return self._serializers[purpose]  # type: ignore[index]
        except KeyError:
            raise ValueError(f"unknown token purpose {purpose!r}") from None

    def _verified(self, purpose: str, token: str) -> tuple[URLSafeSerializer, Any]:
        """The payload and the serializer of the secret that signed it, newest secret first."""
        self._serializer(purpose)  # an unknown purpose is a ValueError, as before
        failure: Exception | None = None
        for serializers in self._by_secret:
            serializer = serializers[purpose]  # type: ignore[index]
            try:
                return serializer, serializer.loads(token)
            except (BadData, UnicodeError, ValueError, TypeError) as exc:
                failure = exc
        raise TokenInvalid("the link is not valid") from failure

    def make(
        self,
        purpose: Purpose,
        *,
        group_id: str,
        member_id: str,
        resource_id: str,
        expires_at: datetime,
    ) -> str:
        """A URL-path-safe token; expires_at is kept to the whole second (rounded down)."""
        _require_aware(expires_at, "expires_at")
        for name, value in (
            ("group_id", group_id),
            ("member_id", member_id),
            ("resource_id", resource_id),
        ):
            if not value:
                raise ValueError(f"{name} must not be empty")
        payload = [group_id, member_id, resource_id, int(expires_at.timestamp())]
        token = self._serializer(purpose).dumps(payload)
        assert isinstance(token, str)
        return token

    def read(self, purpose: Purpose, token: str, *, now: datetime) -> Claims:
        """The claims of a token made for this purpose; raises TokenInvalid or TokenExpired."""
        _require_aware(now, "now")
        serializer, payload = self._verified(purpose, token)
        if not (
            isinstance(payload, list)
            and len(payload) == 4
            and all(isinstance(part, str) and part for part in payload[:3])
            and isinstance(payload[3], int)
            and not isinstance(payload[3], bool)
        ):
            raise TokenInvalid("the link is not valid")
        # base64 leaves spare bits in its last character, so a signature can be spelt in more
        # than one way. Only the exact token we would make is accepted: one link, one spelling.
        if not hmac.compare_digest(str(serializer.dumps(payload)), token):
            raise TokenInvalid("the link is not valid")
        group_id, member_id, resource_id, expires = payload
        try:
            expires_at = datetime.fromtimestamp(expires, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise TokenInvalid("the link is not valid") from exc
        claims = Claims(
            purpose=purpose,
            group_id=group_id,
            member_id=member_id,
            resource_id=resource_id,
            expires_at=expires_at,
        )
        if now >= expires_at:
            raise TokenExpired(claims)
        return claims
