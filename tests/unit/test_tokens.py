from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta, timezone

import pytest

from chalicelib.tokens import (
    PURPOSES,
    Claims,
    Purpose,
    Signer,
    TokenExpired,
    TokenInvalid,
)

SECRET = "k3Jx9-vQ2mWz7_TbL4nRp8sYc1dHf6gA0eUo5iNx"
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=30)


def make(signer: Signer, purpose: Purpose = "rsvp", **overrides: object) -> str:
    kwargs: dict[str, object] = {
        "group_id": "grp_01JQ0000000000000000000000",
        "member_id": "mem_01JQ0000000000000000000001",
        "resource_id": "mtg_01JQ0000000000000000000002",
        "expires_at": LATER,
    }
    kwargs.update(overrides)
    return signer.make(purpose, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("purpose", PURPOSES)
def test_every_purpose_round_trips(purpose: Purpose) -> None:
    signer = Signer(SECRET)
    token = make(signer, purpose)
    assert signer.read(purpose, token, now=NOW) == Claims(
        purpose=purpose,
        group_id="grp_01JQ0000000000000000000000",
        member_id="mem_01JQ0000000000000000000001",
        resource_id="mtg_01JQ0000000000000000000002",
        expires_at=LATER,
    )


def test_unsubscribe_may_name_the_group_as_resource() -> None:
    signer = Signer(SECRET)
    token = make(signer, "unsubscribe", resource_id="grp_01JQ0000000000000000000000")
    claims = signer.read("unsubscribe", token, now=NOW)
    assert claims.resource_id == claims.group_id


@pytest.mark.parametrize("made_for", PURPOSES)
def test_a_token_is_refused_for_every_other_purpose(made_for: Purpose) -> None:
    signer = Signer(SECRET)
    token = make(signer, made_for)
    for other in PURPOSES:
        if other != made_for:
            with pytest.raises(TokenInvalid):
                signer.read(other, token, now=NOW)


def test_token_is_url_path_safe_and_short() -> None:
    token = make(Signer(SECRET))
    assert set(token) <= set(string.ascii_letters + string.digits + "-_.")
    assert len(token) < 200


def test_every_single_byte_change_is_refused() -> None:
    signer = Signer(SECRET)
    token = make(signer)
    raw = token.encode("ascii")
    refused = 0
    for i in range(len(raw)):
        for b in range(256):
            if b == raw[i]:
                continue
            changed = raw[:i] + bytes([b]) + raw[i + 1 :]
            with pytest.raises(TokenInvalid):
                signer.read("rsvp", changed.decode("latin-1"), now=NOW)
            refused += 1
    assert refused == len(raw) * 255


def test_truncated_extended_and_junk_tokens_are_refused() -> None:
    signer = Signer(SECRET)
    token = make(signer)
    for bad in (
        token[:-1],
        token + "A",
        token[1:],
        "",
        ".",
        "a.b",
        "x" * 500,
        token.replace(".", ""),
    ):
        with pytest.raises(TokenInvalid):
            signer.read("rsvp", bad, now=NOW)


def test_a_token_from_another_secret_is_refused() -> None:
    token = make(Signer("another-secret-of-sufficient-length-1234567"))
    with pytest.raises(TokenInvalid):
        Signer(SECRET).read("rsvp", token, now=NOW)


def test_expiry_uses_the_embedded_expires_at_with_a_frozen_clock() -> None:
    signer = Signer(SECRET)
    expires_at = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)
    token = make(signer, expires_at=expires_at)
    # made long ago or just now makes no difference: only expires_at counts
    assert (
        signer.read("rsvp", token, now=expires_at - timedelta(seconds=1)).expires_at
        == expires_at
    )
    for now in (
        expires_at,
        expires_at + timedelta(seconds=1),
        expires_at + timedelta(days=400),
    ):
        with pytest.raises(TokenExpired) as caught:
            signer.read("rsvp", token, now=now)
        assert caught.value.claims.expires_at == expires_at
        assert caught.value.claims.member_id == "mem_01JQ0000000000000000000001"


def test_expiry_compares_instants_across_offsets() -> None:
    signer = Signer(SECRET)
    berlin_noon = datetime(2026, 4, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    token = make(signer, expires_at=berlin_noon)
    assert signer.read("rsvp", token, now=datetime(2026, 4, 1, 9, 59, tzinfo=UTC))
    with pytest.raises(TokenExpired):
        signer.read("rsvp", token, now=datetime(2026, 4, 1, 10, 0, tzinfo=UTC))


def test_an_expired_tampered_token_is_invalid_not_expired() -> None:
    signer = Signer(SECRET)
    token = make(signer, expires_at=NOW - timedelta(days=1))
    with pytest.raises(TokenInvalid):
        signer.read(
            "rsvp", token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), now=NOW
        )


def test_naive_datetimes_are_refused() -> None:
    signer = Signer(SECRET)
    with pytest.raises(ValueError):
        make(signer, expires_at=datetime(2026, 4, 1, 12, 0))
    token = make(signer)
    with pytest.raises(ValueError):
        signer.read("rsvp", token, now=datetime(2026, 4, 1, 12, 0))


def test_empty_ids_are_refused() -> None:
    with pytest.raises(ValueError):
        make(Signer(SECRET), member_id="")


@pytest.mark.parametrize(
    "secret",
    [
        "",
        " " * 40,
        "short",
        "x" * 31,
        "a" * 64,
        "changeme",
        "changeme-changeme-changeme-changeme-changeme",
        "please-replace-me-with-a-real-secret-value",
    ],
)
def test_weak_or_default_secrets_are_refused(secret: str) -> None:
    with pytest.raises(ValueError):
        Signer(secret)


def test_unknown_purpose_is_refused() -> None:
    signer = Signer(SECRET)
    with pytest.raises(ValueError):
        signer.make(
            "admin",  # type: ignore[arg-type]
            group_id="g",
            member_id="m",
            resource_id="r",
            expires_at=LATER,
        )
