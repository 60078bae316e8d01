"""The public pages' store (signups, daily limits) on moto and on Amazon's DynamoDB Local:
a limit is never passed, even by concurrent requests, a day's counter starts afresh, and a
signup past its expiry reads as gone although TTL has not deleted it yet."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

from chalicelib import deps, ids
from chalicelib.store import keys
from chalicelib.store.public import Signup
from chalicelib.store.schema import TTL_ATTRIBUTE

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DAY = date(2026, 11, 2)


def test_a_daily_limit_counts_to_its_limit_and_no_further(any_table: str) -> None:
    repo = deps.store().public
    assert [repo.count("grp_a", "addr_x#confirm", DAY, 3) for _ in range(5)] == [1, 2, 3, None, None]
    assert repo.count("grp_a", "addr_x#confirm", DAY + timedelta(days=1), 3) == 1  # a new day
    assert repo.count("grp_a", "addr_y#confirm", DAY, 3) == 1  # another address
    assert repo.count("grp_a", "GROUP", DAY, 0) is None  # a cap of 0 sends nothing
    item = deps.store().db.get(keys.daily_limit("grp_a", "addr_x#confirm", DAY))
    assert item is not None and item[TTL_ATTRIBUTE] == int(datetime(2026, 11, 4, tzinfo=UTC).timestamp())


def test_concurrent_requests_never_pass_a_limit(local_table: str) -> None:
    repo = deps.store().public
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda _: repo.count("grp_a", "GROUP", DAY, 5), range(24)))
    assert sorted(g for g in got if g is not None) == [1, 2, 3, 4, 5]
    assert got.count(None) == 19


def test_a_signup_reads_until_it_expires_and_is_written_once(any_table: str) -> None:
    repo = deps.store().public
    signup = Signup(signup_id=ids.new_id("sgn"), group_id="grp_a", email="a@example.com", name="A",
                    lunch=True, virtual=True, created_at=T0, expires_at=T0 + timedelta(days=7))
    repo.add_signup(signup)
    repo.add_signup(signup.model_copy(update={"name": "retried"}))  # a retry finds its own item
    assert repo.get_signup("grp_a", signup.signup_id, T0 + timedelta(days=6)) == signup
    assert repo.get_signup("grp_a", signup.signup_id, T0 + timedelta(days=7)) is None
    assert repo.get_signup("grp_a", "sgn_missing", T0) is None
    assert deps.store().db.get(keys.signup("grp_a", signup.signup_id)) is not None  # TTL's job, later
