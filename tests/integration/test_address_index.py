"""The address index that SES bounces and complaints read (GSI1 on the email guards), on moto
and on DynamoDB Local: an address's members in every group, none once erased, and the
one-off backfill of guards written before the index."""

from __future__ import annotations

from chalicelib import deps
from chalicelib.store import keys
from chalicelib.store.schema import GSI1PK, GSI1SK
from tests.integration.test_store import group, member


def test_an_address_finds_its_members_in_every_group_and_no_one_else(any_table: str) -> None:
    store = deps.store().members
    a, b = group("A"), group("B")
    ana_a, ana_b = member(a.group_id, "ana@example.com"), member(b.group_id, "ana@example.com")
    bo = member(a.group_id, "bo@example.com")
    store.create_many(a.group_id, [ana_a, bo])
    store.create_many(b.group_id, [ana_b])
    found = store.with_address("ana@example.com")
    assert sorted(m.member_id for m in found) == sorted([ana_a.member_id, ana_b.member_id])
    assert [m.member_id for m in store.with_address("bo@example.com")] == [bo.member_id]
    assert store.with_address("nobody@example.com") == []

    store.delete(a.group_id, ana_a.member_id)
    assert [m.member_id for m in store.with_address("ana@example.com")] == [ana_b.member_id]


def test_backfill_indexes_an_old_guard_once(any_table: str) -> None:
    store = deps.store().members
    g = group()
    old = member(g.group_id, "old@example.com")
    store.create_many(g.group_id, [old])
    deps.store().db.update(keys.email_guard(g.group_id, old.email), "REMOVE #a, #b",
                           names={"#a": GSI1PK, "#b": GSI1SK})
    assert store.with_address(old.email) == []
    assert store.index_address(old) is True
    assert store.index_address(old) is False  # already indexed: unchanged
    assert [m.member_id for m in store.with_address(old.email)] == [old.member_id]
