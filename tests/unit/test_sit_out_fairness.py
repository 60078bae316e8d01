"""Who sits out (issue 11, part 4), on the pure matcher: sit-outs rotate to whoever sat out least
over the recent rounds; on an equal score, whoever kept their recent lunches is paired first."""

from __future__ import annotations

from collections import Counter

import pytest

from chalicelib.matching import History, Profile, plan_round


def person(n: int, **fields: object) -> Profile:
    return Profile(member_id=f"m{n:02d}", name=f"Person{n}", city="lisbon", **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(4))
def test_sit_outs_rotate_to_whoever_sat_out_least(seed: int) -> None:
    """Five members, ten rounds, one sits out each round: each sits out exactly twice, and each
    round it is someone with the fewest sit-outs so far."""
    sat: Counter[str] = Counter()
    met: dict[frozenset[str], int] = {}
    last: str | None = None
    for number in range(10):
        people = [person(n, sat_outs=sat[f"m{n:02d}"], sat_out_last=f"m{n:02d}" == last) for n in range(5)]
        plan = plan_round(people, History(recent_pairs=met), odd_rule="sit_out", repeat_window=None,
                          seed=seed * 100 + number)
        (out,) = plan.sat_out
        assert sat[out] == min(sat[p.member_id] for p in people), (number, out, sat)
        sat[out] += 1
        last = out
        met = {pair: ago + 1 for pair, ago in met.items()}
        met.update({frozenset(p.member_ids): 1 for p in plan.pairs})
    assert sorted(sat.values()) == [2, 2, 2, 2, 2]


def test_more_sit_outs_outrank_the_last_one() -> None:
    """Someone who sat out twice lately is owed more than someone who sat out only last time."""
    people = [person(0, sat_outs=2), person(1, sat_outs=1, sat_out_last=True), person(2)]
    for seed in range(6):
        plan = plan_round(people, History(recent_pairs={}), odd_rule="sit_out", repeat_window=None, seed=seed)
        assert plan.sat_out == ("m02",)
    people = [person(0, sat_outs=2), person(1, sat_outs=1, sat_out_last=True), person(2, sat_outs=3)]
    for seed in range(6):
        plan = plan_round(people, History(recent_pairs={}), odd_rule="sit_out", repeat_window=None, seed=seed)
        assert plan.sat_out == ("m01",)


@pytest.mark.parametrize("seed", range(8))
def test_on_an_equal_score_whoever_missed_lunches_sits_out(seed: int) -> None:
    people = [person(0), person(1, missed=2), person(2), person(3, missed=1), person(4)]
    plan = plan_round(people, History(recent_pairs={}), odd_rule="sit_out", repeat_window=None, seed=seed)
    assert plan.sat_out == ("m01",)
    # With a trio the one who kept their lunches is the one added.
    plan = plan_round(people[:3], History(recent_pairs={}), odd_rule="trio", repeat_window=None, seed=seed)
    assert [len(p.member_ids) for p in plan.pairs] == [3]


@pytest.mark.parametrize("seed", range(8))
def test_a_better_score_still_wins_over_kept_lunches(seed: int) -> None:
    """Kept lunches only break ties: the member who missed one but shares an interest is paired."""
    people = [person(0, interests=frozenset({"climate"})), person(1, missed=1, interests=frozenset({"climate"})),
              person(2)]
    plan = plan_round(people, History(recent_pairs={}), odd_rule="sit_out", repeat_window=None, seed=seed)
    assert plan.sat_out == ("m02",)
    assert [p.member_ids for p in plan.pairs] == [("m00", "m01")]


@pytest.mark.parametrize("seed", range(4))
def test_sit_outs_come_before_kept_lunches(seed: int) -> None:
    """Fairness first: a member who sat out last time is paired even when they missed lunches."""
    people = [person(0, missed=3, sat_out_last=True, sat_outs=1), person(1), person(2)]
    plan = plan_round(people, History(recent_pairs={}), odd_rule="sit_out", repeat_window=None, seed=seed)
    assert "m00" not in plan.sat_out


def test_a_paused_member_is_neither_paired_nor_sitting_out() -> None:
    people = [person(0), person(1), person(2, paused=True)]
    plan = plan_round(people, History(recent_pairs={}), odd_rule="sit_out", repeat_window=None, seed=1)
    assert [p.member_ids for p in plan.pairs] == [("m00", "m01")] and plan.sat_out == ()
