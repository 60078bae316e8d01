"""Rotating the link-signing secret through HTTP: links signed with the previous secret keep
working (RSVP page and answer, List-Unsubscribe one-click), links signed with a removed secret
get the 403 page, and new links are signed with the newest secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from chalicelib import deps
from chalicelib.tokens import Signer, TokenInvalid
from tests.api.test_rsvp_api import invite, link_in, new_meetup, new_members, statuses

OLD = "old-Rq4Vn8Lx2Tb6Wm1Zc9Kd3Hs7Pf0Gy5Ja"
NEW = "new-Yt2Mb7Qw5Xn1Lc8Vr4Dk6Hz0Js3Fp9Ga"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def use_secrets(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    """What an operator does: change the configured list (here SIGNING_SECRET) and restart."""
    monkeypatch.setenv("SIGNING_SECRET", value)
    deps.settings.cache_clear()
    deps.signing_secrets.cache_clear()


@pytest.fixture
def old_links(org: Any, client: Any, outbox_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """One member invited while only OLD signed links: their RSVP and unsubscribe links."""
    use_secrets(monkeypatch, OLD)
    meetup = new_meetup(org)
    (member,) = new_members(org, client, outbox_dir, 1)
    assert invite(org, meetup, [member]).status_code == 202
    (message,) = member.mails("rsvp_invite")
    unsubscribe = urlsplit(message["List-Unsubscribe"].strip("<>")).path
    return member, meetup, member.link, unsubscribe


def token_of(path: str) -> str:
    return path.rsplit("/", 1)[1]


def test_previous_secrets_links_work_after_rotation_and_new_ones_use_the_newest(
        org: Any, old_links: Any, monkeypatch: pytest.MonkeyPatch, clock: Any) -> None:
    member, meetup, rsvp, unsubscribe = old_links
    Signer(OLD).read("rsvp", token_of(rsvp), now=clock())  # signed with OLD indeed
    use_secrets(monkeypatch, f"{NEW},{OLD}")

    page = member.page(rsvp)
    assert page.status_code == 200 and "Founders" in page.body.decode()
    assert member.answer("going", link=rsvp).status_code in (200, 303)
    assert statuses(org, meetup) == {member.name: "going"}

    # The next email's links are signed with NEW, and OLD alone would refuse them.
    later = new_meetup(org, title="Second lunch", starts_at="2026-11-20T12:30:00", ends_at="2026-11-20T14:00:00")
    assert invite(org, later, [member]).status_code == 202
    (second,) = [m for m in member.mails("rsvp_invite") if "Second lunch" in str(m["Subject"])]
    fresh = link_in(second)
    Signer(NEW).read("rsvp", token_of(fresh), now=clock())
    with pytest.raises(TokenInvalid):
        Signer(OLD).read("rsvp", token_of(fresh), now=clock())

    done = member.http.post(unsubscribe, headers=FORM, body=b"List-Unsubscribe=One-Click")
    assert done.status_code == 200 and b"unsubscribed" in done.body
    assert deps.store().members.require(org.group_id, member.member_id).subscribed is False


def test_links_signed_with_a_removed_secret_get_the_403_page_and_change_nothing(
        org: Any, old_links: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    member, meetup, rsvp, unsubscribe = old_links
    use_secrets(monkeypatch, NEW)  # OLD removed

    page = member.page(rsvp)
    assert page.status_code == 403 and "This link doesn" in page.body.decode()
    assert member.answer("going", link=rsvp).status_code == 403
    assert "going" not in statuses(org, meetup).values()

    refused = member.http.post(unsubscribe, headers=FORM, body=b"List-Unsubscribe=One-Click")
    assert refused.status_code == 403
    assert deps.store().members.require(org.group_id, member.member_id).subscribed is True


def test_a_list_kept_in_secrets_manager_is_read_newest_first(moto_table: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    arn = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="powerlunch/link-signing-secret", SecretString=f'["{NEW}", "{OLD}"]')["ARN"]
    monkeypatch.delenv("SIGNING_SECRET")
    monkeypatch.setenv("SIGNING_SECRET_ARN", arn)
    deps.settings.cache_clear()
    deps.signing_secrets.cache_clear()
    try:
        assert deps.signing_secrets() == (NEW, OLD)
        assert deps.signing_secret() == NEW
    finally:
        deps.settings.cache_clear()
        deps.signing_secrets.cache_clear()
