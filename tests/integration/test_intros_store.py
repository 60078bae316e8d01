"""The introductions' store on moto and on Amazon's DynamoDB Local: an offer's limits hold in
its one transaction (5 open per connector, 2 a week to anyone, one per two people per 6
months), also when offers race; a retry is the same offer; closing frees the connector's place
once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import deps, errors
from chalicelib.store.intros import Intro

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
WEEK, HALF_YEAR = timedelta(days=7), timedelta(days=183)


def intro(connector: str, a: str, b: str, at: datetime = T0, n: int = 0) -> Intro:
    return Intro(intro_id=f"int_{connector}_{a}_{b}_{n}", group_id="grp_a", connector_id=connector,
                 member_ids=sorted((a, b)), note="You two should talk about climate software.",
                 created_at=at, expires_at=at + timedelta(days=14))


def offer(one: Intro) -> Intro:
    return deps.store().intros.offer(one, six_months_ago=one.created_at - HALF_YEAR,
                                     week_ago=one.created_at - WEEK)


def open_count(connector: str) -> int:
    return deps.store().intros.records("grp_a", [connector])[connector].open


def test_the_limits_in_one_transaction(any_table: str) -> None:
    store = deps.store().intros
    first = offer(intro("c", "m1", "m2"))
    assert offer(intro("c", "m1", "m2")) == first  # a retry: the same offer, counted once
    assert open_count("c") == 1
    with pytest.raises(errors.Conflict, match="6 months"):
        offer(intro("d", "m2", "m1"))  # someone else, the same two
    offer(intro("c", "m1", "m3"))
    with pytest.raises(errors.Conflict, match="2 introductions this week"):
        offer(intro("c", "m1", "m4"))  # m1's third this week
    for a, b in (("m5", "m6"), ("m7", "m8"), ("m9", "m10")):
        offer(intro("c", a, b))
    with pytest.raises(errors.Conflict, match="5 introductions waiting"):
        offer(intro("c", "m11", "m12"))
    assert open_count("c") == 5
    assert store.close(first, "declined", T0 + timedelta(hours=1))
    assert not store.close(first, "declined", T0 + timedelta(hours=2))  # once
    assert open_count("c") == 4
    offer(intro("c", "m11", "m12"))
    later = T0 + WEEK + timedelta(minutes=1)  # m1's week is over; the two are still guarded
    offer(intro("d", "m1", "m4", at=later))
    with pytest.raises(errors.Conflict, match="6 months"):
        offer(intro("e", "m1", "m2", at=later))
    offer(intro("e", "m2", "m1", at=T0 + HALF_YEAR + timedelta(days=1), n=1))  # six months on


def test_racing_offers_never_pass_a_connectors_five(local_table: str) -> None:
    for n in range(3):
        offer(intro("c", f"a{n}", f"b{n}"))

    def attempt(n: int) -> bool:
        try:
            offer(intro("c", f"x{n}", f"y{n}"))
        except errors.Conflict:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        made = sum(pool.map(attempt, range(8)))
    assert made <= 2  # a lost race (a transaction conflict) is a refusal too
    assert open_count("c") == 3 + made
    assert len(list(deps.store().intros.of_group("grp_a"))) == 3 + made
    assert sum(attempt(n) for n in range(10, 14)) == 2 - made  # then exactly up to five
    assert open_count("c") == 5


def test_racing_offers_to_one_person_never_pass_two_a_week(local_table: str) -> None:
    def attempt(n: int) -> bool:
        try:
            offer(intro(f"c{n}", "popular", f"other{n}"))
        except errors.Conflict:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        made = sum(pool.map(attempt, range(8)))
    assert made <= 2
    offers = [i for i in deps.store().intros.of_group("grp_a") if "popular" in i.member_ids]
    assert len(offers) == made
    assert sum(attempt(n) for n in range(10, 14)) == 2 - made
