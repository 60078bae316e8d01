"""Time-sortable ids (ULID layout: 48-bit milliseconds + 80 random bits, Crockford base32)."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Sequence

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


def hash_int(text: str, bits: int) -> int:
    """The first `bits` bits of SHA-256(text): stable ids and seeds derived from other ids."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest(), "big") >> (256 - bits)


# A lunch pair's id is derived from its round's (lpr_ + the round id's body + 8 digits from the
# members), so a round's pairs sort together and a rerun writes the same ids.


def pair_prefix(round_id: str) -> str:
    """What every pair id of this round starts with."""
    return "lpr_" + round_id.removeprefix("lrd_")


def pair_id(round_id: str, member_ids: Sequence[str]) -> str:
    key = round_id + ":" + ",".join(sorted(member_ids))
    return pair_prefix(round_id) + b32(hash_int(key, 40), 8)


def waitlist_round(meetup_id: str) -> str:
    """The round-like id a meetup's waitlist lunches are paired under: one per meetup, so
    their pair ids are fixed and the pairing pages read them as any round's."""
    return "lrd_" + meetup_id.removeprefix("mtp_")


def round_of_pair(pair_id: str) -> str:
    return "lrd_" + pair_id.removeprefix("lpr_")[:26]
