"""The console's store (store/console.py, store/delivery.py) on moto and on DynamoDB Local: a
sign-in link is used once (and, on DynamoDB Local, once of 8 concurrent uses), and reads past its TTL as expired before
TTL deletes it; sessions read as ended after their expiry or deletion; organizers and their
index change together, never down to none; the delivery log counts and lists per group."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib import deps, errors
from chalicelib.models import Group
from chalicelib.store.console import SessionRecord, SigninRefused
from chalicelib.store.outbox import Mail

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
TOKEN = "t" * 43


def group(group_id: str = "grp_a") -> Group:
    made = Group(group_id=group_id, name="G", timezone="Europe/Lisbon", sender_name="G", created_at=NOW)
    deps.store().groups.create(made)
    return made


def test_a_signin_link_is_used_once(any_table: str) -> None:
    repo = deps.store().console
    repo.add_signin(TOKEN, "host@example.com", NOW, NOW + timedelta(minutes=15))
    assert repo.signin_state(TOKEN, NOW)[0] == "ok"
    assert repo.use_signin(TOKEN, NOW) == "host@example.com"
    with pytest.raises(SigninRefused) as again:
        repo.use_signin(TOKEN, NOW)
    assert again.value.state == "used"


def test_a_signin_link_is_used_once_under_concurrent_uses(local_table: str) -> None:
    """DynamoDB Local only: moto does not make concurrent conditional writes atomic."""
    repo = deps.store().console
    repo.add_signin(TOKEN, "host@example.com", NOW, NOW + timedelta(minutes=15))

    def use(_: int) -> str:
        try:
            return repo.use_signin(TOKEN, NOW + timedelta(minutes=1))
        except SigninRefused as exc:
            return exc.state

    with ThreadPoolExecutor(8) as pool:
        outcomes = Counter(pool.map(use, range(8)))
    assert outcomes == Counter({"host@example.com": 1, "used": 7})
    assert repo.signin_state(TOKEN, NOW)[0] == "used"


def test_a_signin_link_past_its_expiry_is_refused_before_ttl_deletes_it(any_table: str) -> None:
    repo = deps.store().console
    repo.add_signin(TOKEN, "host@example.com", NOW, NOW + timedelta(minutes=15))
    late = NOW + timedelta(minutes=15)
    assert repo.signin_state(TOKEN, late)[0] == "expired"
    with pytest.raises(SigninRefused) as refused:
        repo.use_signin(TOKEN, late)
    assert refused.value.state == "expired"
    with pytest.raises(SigninRefused) as unknown:
        repo.use_signin("u" * 43, NOW)
    assert unknown.value.state == "invalid"
    assert repo.use_signin(TOKEN, late - timedelta(seconds=1)) == "host@example.com"


def test_sessions_end_at_their_expiry_and_when_deleted(any_table: str) -> None:
    repo = deps.store().console
    made = group()
    repo.add_session("s" * 43, SessionRecord(email="host@example.com", group_id="grp_a", created_at=NOW,
                                             expires_at=NOW + timedelta(hours=12)))
    assert repo.get_session("s" * 43, NOW) is not None
    assert repo.get_session("s" * 43, NOW + timedelta(hours=12)) is None
    session, found, loaded = repo.session_and_group("s" * 43, made.group_id, NOW, ("lunch_program",))
    assert session is not None and found == made and loaded == {"lunch_program": None}
    repo.end_session("s" * 43)
    assert repo.get_session("s" * 43, NOW) is None
    with pytest.raises(errors.Unauthorized):
        repo.choose_group("s" * 43, "grp_a", NOW)


def test_organizers_and_their_index_change_together_never_to_none(any_table: str) -> None:
    repo = deps.store().console
    group("grp_a")
    group("grp_b")
    assert repo.add_organizer("grp_a", "host@example.com") is True
    assert repo.add_organizer("grp_a", "host@example.com") is False
    assert repo.add_organizer("grp_b", "host@example.com") is True
    assert repo.add_organizer("grp_a", "co@example.com") is True
    assert repo.groups_of("host@example.com") == ["grp_a", "grp_b"]
    with pytest.raises(errors.NotFound):
        repo.add_organizer("grp_none", "host@example.com")
    a = deps.store().groups.require("grp_a")
    assert a.organizers == ["host@example.com", "co@example.com"]
    assert repo.remove_organizer(a, "host@example.com") is True
    assert repo.groups_of("host@example.com") == ["grp_b"]
    stale = a  # read before the removal: its list changed since
    with pytest.raises(errors.Conflict):
        repo.remove_organizer(stale, "co@example.com")
    fresh = deps.store().groups.require("grp_a")
    with pytest.raises(errors.Conflict):
        repo.remove_organizer(fresh, "co@example.com")  # the last one
    assert deps.store().groups.require("grp_a").organizers == ["co@example.com"]


def mail(group_id: str, member_id: str, created: datetime, n: int) -> Any:
    return Mail(mail_id=f"m{n}", group_id=group_id, member_id=member_id, kind="k", dedupe_key=f"d{n}",
                created_at=created, attempts=5)


def test_the_delivery_log_counts_lists_and_forgets_per_group(any_table: str) -> None:
    log = deps.store().delivery
    mails = [mail("grp_a", "mem_1", NOW, 1), mail("grp_a", "mem_2", NOW, 2), mail("grp_b", "mem_3", NOW, 3),
             mail("grp_a", "mem_1", NOW - timedelta(days=40), 4)]
    for one in mails:
        log.note(one, "recorded")
    log.note(mails[0], "sent")
    log.died(mails[1], "550 <x@example.com> unknown", NOW + timedelta(hours=1))
    assert log.read("grp_a", NOW).totals() == Counter()  # tallied, not written yet
    log.flush()
    log.flush()  # a second flush adds nothing
    log.problem("grp_a", "mem_1", "bounced", NOW)
    read = log.read("grp_a", NOW + timedelta(hours=2))
    assert read.totals() == Counter({"recorded": 2, "sent": 1, "dead": 1})  # the 40-day-old one is past
    assert [(d.member_id, d.error) for d in read.dead] == [("mem_2", "550 <x@example.com> unknown")]
    assert [(p.member_id, p.flag) for p in read.problems] == [("mem_1", "bounced")]
    assert log.read("grp_b", NOW).totals() == Counter({"recorded": 1})
    assert log.erase("grp_a", "mem_2") == 1 and log.erase("grp_a", "mem_1") == 1
    after = log.read("grp_a", NOW + timedelta(hours=2))
    assert after.dead == [] and after.problems == [] and after.totals()["dead"] == 1
