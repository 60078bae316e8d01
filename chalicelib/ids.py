"""Time-sortable ids (ULID layout: 48-bit milliseconds + 80 random bits, Crockford base32)."""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def b32(value: int, length: int) -> str:
    """`value` as `length` Crockford base32 digits (the id alphabet)."""
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_id(prefix: str, *, now_ms: int | None = None) -> str:
    """A new id like `mem_01hx...`: sorts by creation time, unguessable enough to be opaque."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    return f"{prefix}_{b32(ms, 10)}{b32(secrets.randbits(80), 16)}"


def is_id(value: str, prefix: str) -> bool:
    """True when `value` has the shape of an id with this prefix (cheap check before a lookup)."""
    head, _, body = value.partition("_")
    return head == prefix and len(body) == 26 and all(c in _ALPHABET for c in body)
