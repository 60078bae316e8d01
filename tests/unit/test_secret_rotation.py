"""Signing-secret rotation: sign with the newest secret, accept any listed one, refuse one removed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chalicelib import deps
from chalicelib.tokens import Signer, TokenExpired, TokenInvalid

OLD = "old-k3Jx9vQ2mWz7TbL4nRp8sYc1dHf6gA0e"
NEW = "new-Zq8Lm3Vt6Ws1Xb9Nc4Rd7Fg2Hj5Kp0Yu"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def token(signer: Signer, **over: object) -> str:
    kwargs: dict[str, object] = {"group_id": "grp_1", "member_id": "mem_1", "resource_id": "mtg_1",
                                 "expires_at": NOW + timedelta(days=1), **over}
    return signer.make("rsvp", **kwargs)  # type: ignore[arg-type]


def test_new_links_are_signed_with_the_newest_secret_only() -> None:
    made = token(Signer([NEW, OLD]))
    assert Signer(NEW).read("rsvp", made, now=NOW).member_id == "mem_1"
    with pytest.raises(TokenInvalid):
        Signer(OLD).read("rsvp", made, now=NOW)


def test_a_link_signed_with_the_previous_secret_still_reads() -> None:
    old_link = token(Signer(OLD))
    claims = Signer([NEW, OLD]).read("rsvp", old_link, now=NOW)
    assert (claims.group_id, claims.member_id, claims.resource_id) == ("grp_1", "mem_1", "mtg_1")


def test_a_link_signed_with_a_removed_secret_is_invalid() -> None:
    old_link = token(Signer(OLD))
    with pytest.raises(TokenInvalid):
        Signer([NEW]).read("rsvp", old_link, now=NOW)


def test_an_old_secrets_expired_link_is_still_told_apart_from_a_forged_one() -> None:
    expired = token(Signer(OLD), expires_at=NOW - timedelta(seconds=1))
    with pytest.raises(TokenExpired):
        Signer([NEW, OLD]).read("rsvp", expired, now=NOW)


def test_an_old_secrets_link_is_still_refused_for_another_purpose_and_when_tampered() -> None:
    old_link = token(Signer(OLD))
    both = Signer([NEW, OLD])
    with pytest.raises(TokenInvalid):
        both.read("unsubscribe", old_link, now=NOW)
    flipped = old_link[:-2] + ("A" if old_link[-2] != "A" else "B") + old_link[-1]
    with pytest.raises(TokenInvalid):
        both.read("rsvp", flipped, now=NOW)


@pytest.mark.parametrize("secrets", [[], [NEW, NEW], [NEW, "short"], [NEW, "changeme" * 5], [NEW, "a" * 64]])
def test_every_listed_secret_passes_the_checks(secrets: list[str]) -> None:
    with pytest.raises(ValueError):
        Signer(secrets)


def test_secrets_manager_value_is_one_secret_or_a_json_list_newest_first() -> None:
    assert deps.parse_secrets(f" {NEW}\n", "s", separator=None) == (NEW,)
    assert deps.parse_secrets(f'["{NEW}", "{OLD}"]', "s", separator=None) == (NEW, OLD)
    for bad in ('["' + NEW + '", 3]', "[not json", '{"a": 1}', "[]", f'["{NEW}", "{NEW}"]'):
        with pytest.raises(RuntimeError):
            deps.parse_secrets(bad, "the secret", separator=None)


def _secrets_from(monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[str, ...]:
    for name in ("SIGNING_SECRET", "SIGNING_SECRET_FILE", "SIGNING_SECRET_ARN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    deps.settings.cache_clear()
    deps.signing_secrets.cache_clear()
    try:
        return deps.signing_secrets()
    finally:
        deps.settings.cache_clear()
        deps.signing_secrets.cache_clear()


def test_env_is_comma_separated_and_the_file_one_a_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert _secrets_from(monkeypatch, SIGNING_SECRET=f"{NEW}, {OLD}") == (NEW, OLD)
    path = tmp_path / "signing-secret"
    path.write_text(f"{NEW}\n\n{OLD}\n")
    assert _secrets_from(monkeypatch, SIGNING_SECRET_FILE=str(path)) == (NEW, OLD)
    path.write_text(f"{NEW}\n")  # the file `make run` writes: one secret
    assert _secrets_from(monkeypatch, SIGNING_SECRET_FILE=str(path)) == (NEW,)


def test_a_weak_old_secret_is_refused_and_named_by_position_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(RuntimeError) as refused:
        _secrets_from(monkeypatch, SIGNING_SECRET=f"{NEW},changeme")
    assert "secret 2 of 2" in str(refused.value) and "changeme" not in str(refused.value)
    with pytest.raises(RuntimeError):
        _secrets_from(monkeypatch, SIGNING_SECRET=" , ")
