"""Credentials reach only what they name: a member link cannot be pointed at another group's
meetup or member, and API keys are compared in constant time."""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from chalicelib import deps, links
from chalicelib.services import groups as groups_service

MEETUP = {"title": "Breakfast", "starts_at": "2026-12-01T08:00:00", "ends_at": "2026-12-01T09:00:00",
          "timezone": "Europe/Lisbon", "online_url": "https://meet.example/x", "capacity": 5}


def test_a_validly_signed_link_mixing_groups_finds_nothing_and_changes_nothing(client: Any, org: Any,
                                                                            other_org: Any) -> None:
    mine = org.post("members", {"email": "a@example.com", "name": "A"}).data["created"][0]["member_id"]
    theirs = other_org.post(f"{other_org.base}/members", {"email": "b@example.com", "name": "B"}).data["created"][0]
    their_meetup = other_org.post(f"{other_org.base}/meetups", MEETUP).data["meetup_id"]
    ends = deps.now() + timedelta(days=60)
    # Signed with the real secret, so only the ids can be wrong: my group with their meetup,
    # their group with my member, my group with their member.
    mixed = [links.rsvp_url(org.group_id, their_meetup, mine, ends),
             links.rsvp_url(other_org.group_id, their_meetup, mine, ends),
             links.rsvp_url(org.group_id, their_meetup, theirs["member_id"], ends),
             links.lunch_url(org.group_id, theirs["member_id"])]
    for url in mixed:
        path = urlsplit(url).path
        assert client.http.get(path).status_code == 404, path
        r = client.http.post(path, headers={"Content-Type": "application/x-www-form-urlencoded"},
                             body=b"answer=going&opt_in=in&List-Unsubscribe=One-Click")
        assert r.status_code == 404, path
    # An unsubscribe link naming no member of its group (an erased member's old link) says
    # "unsubscribed" (true: no mail goes to them) and touches no one.
    path = urlsplit(links.unsubscribe_url(org.group_id, theirs["member_id"])).path
    r = client.http.post(path, headers={"Content-Type": "application/x-www-form-urlencoded"},
                         body=b"List-Unsubscribe=One-Click")
    assert r.status_code == 200 and b"b@example.com" not in r.body
    rsvps = other_org.get(f"{other_org.base}/meetups/{their_meetup}/rsvps").data["items"]
    assert rsvps == []
    assert other_org.get(f"{other_org.base}/members/{theirs['member_id']}").data["subscribed"] is True


def test_api_keys_are_compared_in_constant_time(org: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def recording(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(groups_service.hmac, "compare_digest", recording)
    assert org.get(org.base).status_code == 200
    wrong = org.api_key[:-1] + ("A" if org.api_key[-1] != "A" else "B")
    assert org.get(org.base, key=wrong).status_code == 401
    # Both the good and the wrong key went through compare_digest, hash against hash.
    assert len(compared) == 2
    assert all(len(a) == len(b) == 64 for a, b in compared)
