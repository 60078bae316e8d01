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
of a few dozen); bigger meetups take the pairs greedily, best first, then improve them by
swaps (a pair in for the one or two lighter pairs it displaces) until none gains. bench/
meetup_people.py measures that against the exact optimum (an integer program) at 1,000.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import rustworkx as rx

from chalicelib import matching
from chalicelib.matching import Profile

Ints = npt.NDArray[np.int64]

DEGREE = 3  # suggestions per member, and people a member is suggested to
CANDIDATES = 12  # partners kept per member (bench/meetup_people.py)
EXACT_NODES = 1500  # gadgets up to this size are matched exactly
SWAP_PASSES = 2  # improvement passes over the candidate pairs (a third gained 0.2%: bench)


@dataclass(frozen=True)
class Suggestions:
    pairs: tuple[tuple[str, str, int], ...]  # (member, member, points), ids in order
    total: int

    def of(self, member_id: str) -> list[str]:
        """Whom this member is told to look for, best first."""
        found = [(-w, b if a == member_id else a) for a, b, w in self.pairs if member_id in (a, b)]
        return [other for _, other in sorted(found)]


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
    return _improved(people, u, v, scores[u, v], degree)


def _result(people: Sequence[Profile], chosen: list[tuple[int, int, int]]) -> Suggestions:
    pairs = []
    for x, y, w in chosen:
        first, second = sorted((people[x].member_id, people[y].member_id))
        pairs.append((first, second, w))
    return Suggestions(tuple(sorted(pairs)), sum(w for _, _, w in chosen))


def _improved(people: Sequence[Profile], u: Ints, v: Ints, w: Ints, degree: int) -> Suggestions:
    """Greedy by points, then swaps: an unused pair goes in when it outweighs the lightest pair
    each full end must give up."""
    n = len(people)
    order = np.argsort(-w, kind="stable")
    us, vs, ws = u[order].tolist(), v[order].tolist(), w[order].tolist()
    used = [False] * len(us)
    at: list[set[int]] = [set() for _ in range(n)]  # each member's used pairs (indexes)

    def lightest(x: int) -> int:
        return min(at[x], key=lambda e: (ws[e], -e))

    def take(e: int) -> None:
        used[e] = True
        at[us[e]].add(e)
        at[vs[e]].add(e)

    def drop(e: int) -> None:
        used[e] = False
        at[us[e]].discard(e)
        at[vs[e]].discard(e)

    for e in range(len(us)):
        if len(at[us[e]]) < degree and len(at[vs[e]]) < degree:
            take(e)
    incident: list[list[int]] = [[] for _ in range(n)]  # each member's candidate pairs, best first
    for e in range(len(us)):
        incident[us[e]].append(e)
        incident[vs[e]].append(e)

    def refill(z: int, skip: int) -> tuple[int, int]:
        """The best unused pair that `z` could take with a seat freed: (points, pair), or (0, -1)."""
        for f in incident[z]:
            t = vs[f] if us[f] == z else us[f]
            if not used[f] and f != skip and len(at[t]) < degree:
                return ws[f], f
        return 0, -1

    for _ in range(SWAP_PASSES):
        gained = False
        for e in range(len(us)):
            if used[e]:
                continue
            x, y = us[e], vs[e]
            out = {lightest(z) for z in (x, y) if len(at[z]) >= degree}
            # each pair given up frees a seat at its other end, which may take another pair
            again = [refill(us[o] if vs[o] in (x, y) else vs[o], e) for o in out]
            refills = [f for _, f in again if f >= 0]
            if len(set(refills)) != len(refills) or any(us[f] in (x, y) or vs[f] in (x, y) for f in refills):
                refills, again = [], []
            if ws[e] + sum(w for w, _ in again) > sum(ws[o] for o in out):
                for o in out:
                    drop(o)
                take(e)
                for f in refills:
                    if len(at[us[f]]) < degree and len(at[vs[f]]) < degree:
                        take(f)
                gained = True
        if not gained:
            break
    return _result(people, [(us[e], vs[e], ws[e]) for e in range(len(us)) if used[e]])


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
