"""People to meet at a meetup: a mutual, spread-out choice of suggestions. Pure: no I/O.

Each member going is suggested at most `degree` others, always both ways (if Ana is told to
look for Ben, Ben is told to look for Ana), so nobody is named to more than `degree` people.
That is a b-matching; this one maximises the total lunch score (matching.py's points) of the
pairs suggested, exactly on a candidate graph: each member's best CANDIDATES partners.

Exact by reduction to one maximum weight matching (rustworkx): every member becomes `degree`
seats, every candidate pair (u, v) of points w a path seat(u) - a - b - seat(v) where a-b
weighs w and a seat edge w too. A matching earns w from a pair left out (a-b) and 2w from a
pair suggested (both seat edges), so its best is the sum of w plus the best b-matching.
That matching is cubic, so it runs while the gadget has at most EXACT_NODES nodes (a meetup
of a few dozen). Bigger meetups take `degree` maximum weight matchings in turn on the sparse
candidate graph, each on the pairs the earlier ones left (so nobody is in more than `degree`),
then pair whoever still has room. bench/meetup_people.py measures that against the exact
optimum (an integer program) at 1,000 going: 99.4% of it on each member's best 40, in half a
second; greedy plus swaps on the best 12 reached 93.5%.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import numpy.typing as npt
import rustworkx as rx

from chalicelib import matching
from chalicelib.matching import Profile

Ints = npt.NDArray[np.int64]

DEGREE = 3  # suggestions per member, and people a member is suggested to
CANDIDATES = 30  # partners kept per member: 20 reached 98.7% of the best-40 optimum, 30 99.4% (bench)
EXACT_NODES = 1500  # gadgets up to this size are matched exactly


@dataclass(frozen=True)
class Suggestions:
    pairs: tuple[tuple[str, str, int], ...]  # (member, member, points), ids in order
    total: int

    def of(self, member_id: str) -> list[str]:
        """Whom this member is told to look for, best first."""
        return [other for _, other in sorted(self._by_member.get(member_id, ()))]

    @cached_property
    def _by_member(self) -> dict[str, list[tuple[int, str]]]:
        """(-points, other) per member: one pass over the pairs, not one per member asked."""
        found: dict[str, list[tuple[int, str]]] = {}
        for a, b, w in self.pairs:
            found.setdefault(a, []).append((-w, b))
            found.setdefault(b, []).append((-w, a))
        return found


def points_matrix(people: Sequence[Profile], forbidden: Iterable[frozenset[str]]) -> Ints:
    """Lunch points of every two members (-1 for themselves and for forbidden pairs). Everyone
    is in one room: city and availability do not apply."""
    room = [replace(p, availability=frozenset(), city="meetup", virtual=False) for p in people]
    banned = matching._banned_positions(room, forbidden)
    block = matching._encode(room, list(range(len(room))), banned)
    scores: Ints = np.rint(matching._score_rows(block, 0, len(room))).astype(np.int64)
    return scores


def suggest(people: Sequence[Profile], forbidden: Iterable[frozenset[str]], *, degree: int = DEGREE,
            candidates: int | None = CANDIDATES) -> Suggestions:
    """The suggestions for one meetup: pairs that score, each member in at most `degree`,
    total points the most possible among each member's best `candidates` (None: all pairs)."""
    n = len(people)
    if n < 2:
        return Suggestions((), 0)
    scores = points_matrix(people, forbidden)
    u, v = candidate_pairs(scores, candidates)
    if n * degree + 2 * len(u) <= EXACT_NODES:
        return _exact(people, u, v, scores[u, v], degree)
    return _layered(people, u, v, scores[u, v], degree)


def _result(people: Sequence[Profile], chosen: list[tuple[int, int, int]]) -> Suggestions:
    pairs = []
    for x, y, w in chosen:
        first, second = sorted((people[x].member_id, people[y].member_id))
        pairs.append((first, second, w))
    return Suggestions(tuple(sorted(pairs)), sum(w for _, _, w in chosen))


def _layered(people: Sequence[Profile], u: Ints, v: Ints, w: Ints, degree: int) -> Suggestions:
    """`degree` maximum weight matchings in turn (rustworkx; fast on a sparse graph), each on the
    candidate pairs the earlier ones left, so each member is in at most one pair per round; then
    any two members who still have room and score together are paired, best first."""
    n, weight = len(people), w.tolist()
    free = np.ones(len(u), dtype=bool)  # candidate pairs not yet taken
    for _ in range(degree):
        graph = rx.PyGraph(multigraph=False)
        graph.add_nodes_from(range(n))
        left = np.flatnonzero(free)
        graph.add_edges_from(list(zip(u[left].tolist(), v[left].tolist(), left.tolist(), strict=True)))
        taken = [graph.get_edge_data(x, y) for x, y in rx.max_weight_matching(
            graph, max_cardinality=False, weight_fn=weight.__getitem__, verify_optimum=False)]
        free[taken] = False
    room = (degree - np.bincount(u[~free], minlength=n) - np.bincount(v[~free], minlength=n)).tolist()
    us, vs = u.tolist(), v.tolist()
    for e in np.flatnonzero(free)[np.argsort(-w[free], kind="stable")].tolist():
        if room[us[e]] > 0 and room[vs[e]] > 0:
            room[us[e]] -= 1
            room[vs[e]] -= 1
            free[e] = False
    chosen = np.flatnonzero(~free)
    return _result(people, list(zip(u[chosen].tolist(), v[chosen].tolist(), w[chosen].tolist(), strict=True)))


def candidate_pairs(scores: Ints, candidates: int | None) -> tuple[Ints, Ints]:
    """Pairs (u < v) that score, each member's best `candidates` of them (None: all)."""
    n = len(scores)
    keep = scores > 0
    if candidates is not None and candidates < n - 1:
        best = np.argsort(-scores, axis=1, kind="stable")[:, :candidates]
        top = np.zeros_like(keep)
        top[np.arange(n)[:, None], best] = True
        keep &= top | top.T
    u, v = np.nonzero(np.triu(keep, 1))
    return u.astype(np.int64), v.astype(np.int64)


def _exact(people: Sequence[Profile], u: Ints, v: Ints, w: Ints, degree: int) -> Suggestions:
    n, m = len(people), len(u)
    graph = rx.PyGraph()
    graph.add_nodes_from(range(n * degree + 2 * m))
    seat = np.arange(n * degree).reshape(n, degree)
    a, b = n * degree + 2 * np.arange(m), n * degree + 2 * np.arange(m) + 1
    edges = [(int(x), int(y), int(weight)) for x, y, weight in zip(a, b, w, strict=True)]
    for k in range(degree):
        edges += [(int(s), int(x), int(weight)) for s, x, weight in zip(seat[u, k], a, w, strict=True)]
        edges += [(int(s), int(y), int(weight)) for s, y, weight in zip(seat[v, k], b, w, strict=True)]
    graph.add_edges_from(edges)
    mate = dict.fromkeys(range(n * degree + 2 * m), -1)
    for x, y in rx.max_weight_matching(graph, max_cardinality=False, weight_fn=int, verify_optimum=False):
        mate[x], mate[y] = y, x
    seated = [e for e in range(m) if 0 <= mate[int(a[e])] < n * degree and 0 <= mate[int(b[e])] < n * degree]
    return _result(people, [(int(u[e]), int(v[e]), int(w[e])) for e in seated])
