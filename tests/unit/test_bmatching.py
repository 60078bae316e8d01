"""People to meet at a meetup: the b-matching (chalicelib/bmatching.py) against exhaustive search."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib import bmatching
from chalicelib.matching import Profile
from tests.api.test_meetup_people import _best

TAGS = ("ai", "design", "python", "sales", "climate")
PHRASES = ("python code reviews", "fundraising", "design critiques", "")


@st.composite
def rooms(draw: st.DrawFn) -> tuple[list[Profile], frozenset[frozenset[str]]]:
    size = draw(st.integers(0, 11))
    people = [Profile(member_id=f"m{i:02d}", name=f"P{i}", rounds_joined=3,
                      interests=draw(st.frozensets(st.sampled_from(TAGS), max_size=3)),
                      asks=(draw(st.sampled_from(PHRASES)),), offers=(draw(st.sampled_from(PHRASES)),),
                      city=draw(st.sampled_from(["lisbon", "porto", None])))  # a meetup ignores the city
              for i in range(size)]
    pairs = list(itertools.combinations([p.member_id for p in people], 2))
    blocked = draw(st.frozensets(st.sampled_from(pairs), max_size=4)) if pairs else frozenset()
    return people, frozenset(frozenset(p) for p in blocked)


def _check(people: list[Profile], chosen: bmatching.Suggestions, blocked: frozenset[frozenset[str]]) -> None:
    for p in people:
        assert len(chosen.of(p.member_id)) <= bmatching.DEGREE
        for other in chosen.of(p.member_id):
            assert p.member_id in chosen.of(other)  # mutual
            assert frozenset((p.member_id, other)) not in blocked
    assert all(w > 0 for _, _, w in chosen.pairs)


@settings(max_examples=30, deadline=None)
@given(rooms())
def test_suggestions_are_mutual_capped_never_blocked_and_exactly_the_best(
        room: tuple[list[Profile], frozenset[frozenset[str]]]) -> None:
    people, blocked = room
    chosen = bmatching.suggest(people, blocked, candidates=None)
    _check(people, chosen, blocked)
    scores = bmatching.points_matrix(people, blocked) if people else None
    edges = [(x, y, int(scores[x, y])) for x in range(len(people)) for y in range(x + 1, len(people))
             if scores is not None and scores[x, y] > 0]
    assert chosen.total == _best(len(people), edges)


def test_a_big_room_keeps_the_rules_on_the_fast_path() -> None:
    from bench.generate import generate

    people, history = generate(300, seed=4)
    chosen = bmatching.suggest(people, history.blocked)
    assert len(people) * bmatching.DEGREE + 2 * len(chosen.pairs) > bmatching.EXACT_NODES  # not the exact path
    _check(people, chosen, history.blocked)
    assert len(chosen.pairs) > 300
    # the matchings in turn come within 1% of the exact b-matching on the same candidate graph
    scores = bmatching.points_matrix(people, history.blocked)
    u, v = bmatching.candidate_pairs(scores, bmatching.CANDIDATES)
    edges = list(zip(u.tolist(), v.tolist(), scores[u, v].tolist(), strict=True))
    assert chosen.total >= 0.99 * _best(len(people), edges)
