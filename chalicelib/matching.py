"""Lunch pairing: profiles + history + seed in, a frozen plan of pairs out.

Pure: no boto3, no clock, no I/O. The pairing worker saves the plan and queues the mail.

How a round is planned:
1. Members are blocked by city (or "virtual"): pairs never cross blocks.
2. Within a block every pair is scored in row chunks with numpy; infeasible pairs (no common
   slot, repeated within the window, blocked) are masked, and each member keeps its top-k
   candidates (more for whoever sat out last time). Small blocks keep every feasible pair.
3. The matching maximises, in this order: members who sat out last time and get paired,
   members paired, total score. This is one maximum weight matching with integer weights
   (a bonus per sat-out member and per paired member, each larger than everything below it).
   Blocks up to `EXACT_LIMIT` members are solved exactly with rustworkx; larger ones are
   cut into neighbourhoods that are solved exactly, then improved by re-solving overlapping
   neighbourhoods, which never lowers the total.
4. Members still unpaired in a block are re-paired among themselves using every feasible
   pair, then the odd-count rule applies: one trio per programme, or sit-outs.
Ties are broken by a seeded shuffle of the members sorted by id, so the same inputs and seed
give the same pairs whatever the input order.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import rustworkx as rx

GOALS = ("find_job", "hiring", "mentor", "be_mentored", "give_intros", "learn", "meet_peers")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_PARTS = ("breakfast", "lunch", "coffee", "after_work")
SLOTS = tuple(f"{day}-{part}" for day in DAYS for part in DAY_PARTS)

# Scores are kept in integer points (score = points / 10) so the matching is exact.
POINTS_PER_SHARED_INTEREST = 10
MAX_SHARED_INTERESTS = 5
GOAL_POINTS: Mapping[tuple[str, str], int] = {
    ("find_job", "hiring"): 30,
    ("be_mentored", "mentor"): 30,
    ("find_job", "give_intros"): 20,
    ("meet_peers", "meet_peers"): 5,
}
ASK_OFFER_POINTS = 15  # an ask that one word of the other's offer answers
ASK_OFFER_EXTRA_POINTS = 5  # ... and a little more when two or more words match
NEWCOMER_POINTS = 20
NEWCOMER_MAX_ROUNDS = 1
WELL_CONNECTED_MIN = 10
POINTS_PER_SCORE = 10

TOP_K = 40  # candidates kept per member in large blocks
SAT_OUT_TOP_K = 160  # whoever sat out last time keeps more, so they find a partner
DENSE_LIMIT = 600  # blocks up to this size keep every feasible pair
EXACT_LIMIT = 1200  # blocks up to this size are matched exactly in one piece
WINDOW = 900  # members per neighbourhood when a block is too big to solve in one piece
REFINE_SWEEPS = 2  # overlapping-neighbourhood passes over a big block
CHUNK_ROWS = 512  # rows scored at once: bounds memory to CHUNK_ROWS x block size

STOP_WORDS = frozenset(
    "a an and are as at be by can for from get how i in into is it looking me my need of on "
    "or our some someone the their to want wants with would you your about help advice".split()
)


@dataclass(frozen=True)
class Profile:
    member_id: str
    name: str
    headline: str = ""
    city: str | None = None
    virtual: bool = False
    interests: frozenset[str] = frozenset()
    goals: frozenset[str] = frozenset()
    offers: str = ""
    asks: str = ""
    availability: frozenset[str] = frozenset()
    rounds_joined: int = 0
    connections: int = 0
    sat_out_last: bool = False


@dataclass(frozen=True)
class History:
    recent_pairs: Mapping[frozenset[str], int]
    blocked: frozenset[frozenset[str]] = frozenset()


@dataclass(frozen=True)
class PlannedPair:
    member_ids: tuple[str, ...]
    score: float
    reasons: tuple[str, ...]
    slot: str | None


@dataclass(frozen=True)
class Plan:
    pairs: tuple[PlannedPair, ...]
    sat_out: tuple[str, ...]
    total_score: float


IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]


# ---------------------------------------------------------------- scoring, one pair at a time


def words(text: str) -> frozenset[str]:
    """Content words of a short ask or offer: lower-cased, stop words out, plural 's' off."""
    found = set()
    for word in re.findall(r"[a-z0-9+#]+", text.lower()):
        if word in STOP_WORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        found.add(word)
    return frozenset(found)


def is_newcomer(profile: Profile) -> bool:
    return profile.rounds_joined <= NEWCOMER_MAX_ROUNDS


def is_well_connected(profile: Profile) -> bool:
    return profile.connections >= WELL_CONNECTED_MIN


def block_of(profile: Profile) -> str | None:
    """The block a member is paired within: "virtual", "city:<name>", or None (no city)."""
    if profile.virtual:
        return "virtual"
    return f"city:{profile.city}" if profile.city else None


def forbidden_pairs(history: History, repeat_window: int | None) -> frozenset[frozenset[str]]:
    """Pairs the round must not make: blocked ones and those seen within the repeat window."""
    recent = {
        pair
        for pair, rounds_ago in history.recent_pairs.items()
        if repeat_window is None or rounds_ago <= repeat_window
    }
    return frozenset(recent) | history.blocked


def can_pair(a: Profile, b: Profile, forbidden: frozenset[frozenset[str]]) -> bool:
    """The hard rules: same block, a common slot when both gave any, not forbidden."""
    if a.member_id == b.member_id:
        return False
    block = block_of(a)
    if block is None or block != block_of(b):
        return False
    if a.availability and b.availability and not (a.availability & b.availability):
        return False
    return frozenset((a.member_id, b.member_id)) not in forbidden


def first_name(profile: Profile) -> str:
    parts = profile.name.split()
    return parts[0] if parts else profile.member_id


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _shorten(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _ask_offer_points(ask: str, offer: str) -> int:
    overlap = len(words(ask) & words(offer))
    if overlap == 0:
        return 0
    return ASK_OFFER_POINTS + (ASK_OFFER_EXTRA_POINTS if overlap >= 2 else 0)


def pair_points(a: Profile, b: Profile) -> int:
    """The soft score of a pair in integer points (the numpy scorer computes the same)."""
    return _explain(a, b)[0]


def _explain(a: Profile, b: Profile) -> tuple[int, list[str]]:
    name_a, name_b = first_name(a), first_name(b)
    points = 0
    reasons: list[str] = []
    shared = sorted(a.interests & b.interests)
    if shared:
        points += POINTS_PER_SHARED_INTEREST * min(len(shared), MAX_SHARED_INTERESTS)
        tags = [tag.replace("_", " ").replace("-", " ") for tag in shared[:3]]
        reasons.append(f"{name_a} and {name_b} are both into {_join(tags)}.")
    for (goal_x, goal_y), goal_points in GOAL_POINTS.items():
        for first, second in ((a, b), (b, a)) if goal_x != goal_y else ((a, b),):
            if goal_x in first.goals and goal_y in second.goals:
                points += goal_points
                reasons.append(_goal_sentence(goal_x, goal_y, first_name(first), first_name(second)))
    for asker, giver in ((a, b), (b, a)):
        ask_points = _ask_offer_points(asker.asks, giver.offers)
        if ask_points:
            points += ask_points
            reasons.append(
                f'{first_name(asker)} asked for "{_shorten(asker.asks)}" and '
                f'{first_name(giver)} offers "{_shorten(giver.offers)}".'
            )
    for new, known in ((a, b), (b, a)):
        if is_newcomer(new) and is_well_connected(known):
            points += NEWCOMER_POINTS
            reasons.append(f"{first_name(new)} is new here and {first_name(known)} knows many people in the group.")
            break
    if not reasons:
        where = "both meet virtually" if a.virtual else f"both in {str(a.city).title()}"
        reasons.append(f"{name_a} and {name_b} are {where} and have not been paired recently.")
    return points, reasons


def _goal_sentence(goal_x: str, goal_y: str, name_x: str, name_y: str) -> str:
    if (goal_x, goal_y) == ("find_job", "hiring"):
        return f"{name_y} is hiring and {name_x} is looking for a job."
    if (goal_x, goal_y) == ("find_job", "give_intros"):
        return f"{name_x} is looking for a job and {name_y} likes to make introductions."
    if (goal_x, goal_y) == ("be_mentored", "mentor"):
        return f"{name_x} would like a mentor and {name_y} offers mentoring."
    return f"{name_x} and {name_y} both want to meet peers."


def suggest_slot(members: Sequence[Profile]) -> str | None:
    """First common slot, lunches first; None when anyone gave no availability."""
    if any(not member.availability for member in members):
        return None
    common = frozenset(SLOTS).intersection(*(member.availability for member in members))
    ordered = sorted(common, key=lambda slot: (not slot.endswith("-lunch"), SLOTS.index(slot)))
    return ordered[0] if ordered else None


# ---------------------------------------------------------------- candidate graph, vectorised


@dataclass
class _Block:
    """One city (or the virtual members) encoded as matrices for chunked scoring."""

    members: list[int]  # positions in the seeded order
    interests: FloatArray
    goals: FloatArray
    asks: FloatArray
    offers: FloatArray
    slots: FloatArray
    no_slots: npt.NDArray[np.bool_]
    newcomer: npt.NDArray[np.bool_]
    connected: npt.NDArray[np.bool_]
    forbidden: list[list[int]]  # per local member: local ids it must not meet


_GOAL_MATRIX = np.zeros((len(GOALS), len(GOALS)), dtype=np.float32)
for (_x, _y), _points in GOAL_POINTS.items():
    _GOAL_MATRIX[GOALS.index(_x), GOALS.index(_y)] = _points
    _GOAL_MATRIX[GOALS.index(_y), GOALS.index(_x)] = _points


def _one_hot(rows: Sequence[frozenset[str]]) -> FloatArray:
    vocabulary = {item: col for col, item in enumerate(sorted(frozenset().union(*rows)))}
    matrix = np.zeros((len(rows), max(1, len(vocabulary))), dtype=np.float32)
    for row, items in enumerate(rows):
        for item in items:
            matrix[row, vocabulary[item]] = 1.0
    return matrix


def _encode(people: list[Profile], members: list[int], banned_at: Mapping[int, list[int]]) -> _Block:
    rows = [people[i] for i in members]
    ask_words = [words(p.asks) for p in rows]
    offer_words = [words(p.offers) for p in rows]
    shared_vocabulary = _one_hot(ask_words + offer_words)
    local = {position: row for row, position in enumerate(members)}
    banned = [[local[other] for other in banned_at.get(position, ()) if other in local] for position in members]
    return _Block(
        members=members,
        interests=_one_hot([p.interests for p in rows]),
        goals=_one_hot_fixed([p.goals for p in rows], GOALS),
        asks=shared_vocabulary[: len(rows)],
        offers=shared_vocabulary[len(rows) :],
        slots=_one_hot_fixed([p.availability for p in rows], SLOTS),
        no_slots=np.array([not p.availability for p in rows], dtype=bool),
        newcomer=np.array([is_newcomer(p) for p in rows], dtype=bool),
        connected=np.array([is_well_connected(p) for p in rows], dtype=bool),
        forbidden=banned,
    )


def _banned_positions(people: list[Profile], forbidden: frozenset[frozenset[str]]) -> dict[int, list[int]]:
    """Forbidden pairs as positions in the seeded order, both directions."""
    position = {p.member_id: i for i, p in enumerate(people)}
    banned: dict[int, list[int]] = {}
    for pair in forbidden:
        ends = [position.get(member_id) for member_id in pair]
        if len(ends) == 2 and ends[0] is not None and ends[1] is not None:
            banned.setdefault(ends[0], []).append(ends[1])
            banned.setdefault(ends[1], []).append(ends[0])
    return banned


def _one_hot_fixed(rows: Sequence[frozenset[str]], columns: tuple[str, ...]) -> FloatArray:
    index = {item: col for col, item in enumerate(columns)}
    matrix = np.zeros((len(rows), len(columns)), dtype=np.float32)
    for row, items in enumerate(rows):
        for item in items:
            if item in index:
                matrix[row, index[item]] = 1.0
    return matrix


def _score_rows(block: _Block, start: int, stop: int) -> FloatArray:
    """Points of rows start:stop against the whole block; -1 where a pair is infeasible."""
    rows = slice(start, stop)
    shared = block.interests[rows] @ block.interests.T
    points = np.minimum(shared, MAX_SHARED_INTERESTS) * POINTS_PER_SHARED_INTEREST
    points += block.goals[rows] @ _GOAL_MATRIX @ block.goals.T
    for asks, offers in ((block.asks[rows], block.offers), (block.offers[rows], block.asks)):
        overlap = asks @ offers.T
        points += (overlap >= 1) * np.float32(ASK_OFFER_POINTS) + (overlap >= 2) * np.float32(ASK_OFFER_EXTRA_POINTS)
    newcomer_pair = (block.newcomer[rows, None] & block.connected[None, :]) | (
        block.connected[rows, None] & block.newcomer[None, :]
    )
    points += newcomer_pair * np.float32(NEWCOMER_POINTS)
    slots_ok = (block.slots[rows] @ block.slots.T > 0) | block.no_slots[rows, None] | block.no_slots[None, :]
    points[~slots_ok] = -1.0
    local_rows = np.arange(stop - start)
    points[local_rows, local_rows + start] = -1.0
    for row in range(start, stop):
        if block.forbidden[row]:
            points[row - start, block.forbidden[row]] = -1.0
    return points


def _candidate_edges(block: _Block, priority: npt.NDArray[np.bool_]) -> tuple[IntArray, IntArray, IntArray]:
    """Undirected edges (local ids u < v, points) of the block's candidate graph."""
    size = len(block.members)
    dense = size <= DENSE_LIMIT
    sources: list[IntArray] = []
    targets: list[IntArray] = []
    weights: list[IntArray] = []
    for start in range(0, size, CHUNK_ROWS):
        stop = min(size, start + CHUNK_ROWS)
        points = _score_rows(block, start, stop)
        if dense:
            rows, cols = np.nonzero(points >= 0)
            keep = cols > rows + start
            rows, cols = rows[keep], cols[keep]
        else:
            rows, cols = _top_k(points, priority[start:stop])
        sources.append((rows + start).astype(np.int64))
        targets.append(cols.astype(np.int64))
        weights.append(points[rows, cols].astype(np.int64))
    u = np.concatenate(sources) if sources else np.zeros(0, np.int64)
    v = np.concatenate(targets) if targets else np.zeros(0, np.int64)
    w = np.concatenate(weights) if weights else np.zeros(0, np.int64)
    low, high = np.minimum(u, v), np.maximum(u, v)
    key = low * size + high
    key, first = np.unique(key, return_index=True)
    return low[first], high[first], w[first]


def _top_k(points: FloatArray, priority: npt.NDArray[np.bool_]) -> tuple[IntArray, IntArray]:
    size = points.shape[1]
    k = min(TOP_K, size - 1)
    best = np.argpartition(-points, k - 1, axis=1)[:, :k] if k > 0 else np.zeros((len(points), 0), np.int64)
    rows = np.repeat(np.arange(len(points)), best.shape[1])
    cols = best.ravel()
    extra_rows: list[IntArray] = []
    extra_cols: list[IntArray] = []
    for row in np.flatnonzero(priority):
        k_row = min(SAT_OUT_TOP_K, size - 1)
        extra = np.argpartition(-points[row], k_row - 1)[:k_row]
        extra_rows.append(np.full(len(extra), row, dtype=np.int64))
        extra_cols.append(extra.astype(np.int64))
    if extra_rows:
        rows = np.concatenate([rows, *extra_rows])
        cols = np.concatenate([cols, *extra_cols])
    feasible = points[rows, cols] >= 0
    return rows[feasible], cols[feasible]


# ---------------------------------------------------------------- matching


def _weights(
    u: IntArray, v: IntArray, points: IntArray, priority: npt.NDArray[np.bool_], size: int
) -> IntArray:
    """Integer weights whose maximum is lexicographic: sat-out members, paired members, points."""
    top = int(points.max()) if len(points) else 0
    per_member = (top + 1) * (size // 2 + 1)  # more than all the points a matching can hold
    per_sat_out = per_member * (size + 1) + 1  # more than all the coverage and points together
    sat_out = priority[u].astype(np.int64) + priority[v].astype(np.int64)
    return points + 2 * per_member + per_sat_out * sat_out


def _exact(size: int, u: IntArray, v: IntArray, w: IntArray) -> list[tuple[int, int]]:
    graph: rx.PyGraph[None, int] = rx.PyGraph(multigraph=False)
    graph.add_nodes_from([None] * size)
    graph.add_edges_from(list(zip(u.tolist(), v.tolist(), w.tolist(), strict=True)))
    matching = rx.max_weight_matching(graph, weight_fn=int, verify_optimum=False)
    return sorted((min(x, y), max(x, y)) for x, y in matching)


def match_block(size: int, u: IntArray, v: IntArray, w: IntArray, seed: int) -> list[tuple[int, int]]:
    """Maximum weight matching of one block: exact when small, neighbourhoods when big."""
    if size <= EXACT_LIMIT:
        return _exact(size, u, v, w)
    rng = random.Random(seed)
    adjacency = _adjacency(size, u, v, w)
    mate = np.full(size, -1, dtype=np.int64)
    unassigned = np.ones(size, dtype=bool)
    order = list(range(size))
    rng.shuffle(order)
    for start in order:  # cut the block into neighbourhoods and solve each exactly
        if not unassigned[start]:
            continue
        window = _grow(start, adjacency, mate, unassigned, WINDOW)
        unassigned[window] = False
        _solve_window(window, u, v, w, mate, size)
    for _ in range(REFINE_SWEEPS):  # re-solve overlapping neighbourhoods: never worse
        rng.shuffle(order)
        fresh = np.ones(size, dtype=bool)
        for start in order:
            if not fresh[start]:
                continue
            window = _grow(start, adjacency, mate, np.ones(size, dtype=bool), WINDOW, fresh)
            fresh[window] = False
            _solve_window(window, u, v, w, mate, size)
    return sorted((int(x), int(mate[x])) for x in range(size) if mate[x] > x)


def _adjacency(size: int, u: IntArray, v: IntArray, w: IntArray) -> list[list[int]]:
    """Neighbours of each node, best edge first."""
    ends = np.concatenate([u, v])
    others = np.concatenate([v, u])
    order = np.lexsort((others, -np.concatenate([w, w]), ends))
    ends, others = ends[order], others[order]
    bounds = np.searchsorted(ends, np.arange(size + 1))
    flat = others.tolist()
    return [flat[bounds[i] : bounds[i + 1]] for i in range(size)]


def _grow(
    start: int,
    adjacency: list[list[int]],
    mate: IntArray,
    allowed: npt.NDArray[np.bool_],
    limit: int,
    prefer: npt.NDArray[np.bool_] | None = None,
) -> IntArray:
    """A neighbourhood around `start`: best neighbours first, always with their partners."""
    taken: dict[int, None] = {}
    frontier = [start]
    depth = 0
    while frontier and len(taken) < limit:
        next_frontier: list[int] = []
        for node in frontier:
            for member in (node, int(mate[node])):
                if member >= 0 and member not in taken and allowed[member]:
                    taken[member] = None
                    next_frontier.append(member)
            if len(taken) >= limit:
                break
        frontier = []
        width = 12 if depth == 0 else 6
        for node in next_frontier:
            neighbours = [n for n in adjacency[node] if n not in taken and allowed[n]]
            if prefer is not None:
                neighbours.sort(key=lambda n: not prefer[n])
            frontier.extend(neighbours[:width])
        depth += 1
    return np.fromiter(taken, dtype=np.int64, count=len(taken))


def _solve_window(window: IntArray, u: IntArray, v: IntArray, w: IntArray, mate: IntArray, size: int) -> None:
    inside = np.zeros(size, dtype=bool)
    inside[window] = True
    # a member whose partner is outside the window keeps that partner
    partners = mate[window]
    inside[window[(partners >= 0) & ~inside[np.maximum(partners, 0)]]] = False
    nodes = np.flatnonzero(inside)
    keep = inside[u] & inside[v]
    local = np.full(size, -1, dtype=np.int64)
    local[nodes] = np.arange(len(nodes))
    pairs = _exact(len(nodes), local[u[keep]], local[v[keep]], w[keep])
    mate[nodes] = -1
    for x, y in pairs:
        mate[nodes[x]] = nodes[y]
        mate[nodes[y]] = nodes[x]


# ---------------------------------------------------------------- the round


def plan_round(
    profiles: Sequence[Profile],
    history: History,
    *,
    odd_rule: Literal["trio", "sit_out"],
    repeat_window: int | None,
    seed: int,
) -> Plan:
    """Pair the members of one programme for one round; same inputs and seed, same plan."""
    if odd_rule not in ("trio", "sit_out"):
        raise ValueError(f"unknown odd_rule {odd_rule!r}")
    people = sorted(profiles, key=lambda p: p.member_id)
    if len({p.member_id for p in people}) != len(people):
        raise ValueError("member ids must be unique")
    random.Random(seed).shuffle(people)  # the seed breaks ties; ids make it order-independent
    forbidden = forbidden_pairs(history, repeat_window)
    banned_at = _banned_positions(people, forbidden)
    blocks: dict[str, list[int]] = {}
    alone: list[int] = []
    for position, person in enumerate(people):
        key = block_of(person)
        if key is None:
            alone.append(position)
        else:
            blocks.setdefault(key, []).append(position)

    pairs: list[tuple[int, ...]] = []
    unpaired: list[int] = list(alone)
    for key in sorted(blocks):
        members = blocks[key]
        block = _encode(people, members, banned_at)
        priority = np.array([people[i].sat_out_last for i in members], dtype=bool)
        u, v, points = _candidate_edges(block, priority)
        matched = match_block(len(members), u, v, _weights(u, v, points, priority, len(members)), seed)
        paired = {x for pair in matched for x in pair}
        leftovers = [i for i in range(len(members)) if i not in paired]
        if len(leftovers) > 1:  # re-pair the leftovers using every feasible pair among them
            sub = _encode(people, [members[i] for i in leftovers], banned_at)
            sub_priority = priority[leftovers]
            su, sv, spoints = _candidate_edges_dense(sub)
            for x, y in _exact(len(leftovers), su, sv, _weights(su, sv, spoints, sub_priority, len(leftovers))):
                matched.append((leftovers[x], leftovers[y]))
                paired.update((leftovers[x], leftovers[y]))
        pairs.extend((members[x], members[y]) for x, y in matched)
        unpaired.extend(members[i] for i in range(len(members)) if i not in paired)

    if odd_rule == "trio":
        pairs, unpaired = _make_trio(people, pairs, unpaired, forbidden)
    planned = [_planned(people, pair) for pair in pairs]
    planned.sort(key=lambda pair: pair.member_ids)
    total = sum(round(pair.score * POINTS_PER_SCORE) for pair in planned) / POINTS_PER_SCORE
    return Plan(
        pairs=tuple(planned),
        sat_out=tuple(sorted(people[i].member_id for i in unpaired)),
        total_score=total,
    )


def _candidate_edges_dense(block: _Block) -> tuple[IntArray, IntArray, IntArray]:
    size = len(block.members)
    points = _score_rows(block, 0, size)
    rows, cols = np.nonzero(points >= 0)
    keep = cols > rows
    rows, cols = rows[keep], cols[keep]
    return rows.astype(np.int64), cols.astype(np.int64), points[rows, cols].astype(np.int64)


def _make_trio(
    people: list[Profile],
    pairs: list[tuple[int, ...]],
    unpaired: list[int],
    forbidden: frozenset[frozenset[str]],
) -> tuple[list[tuple[int, ...]], list[int]]:
    """Add one unpaired member to one pair where the hard rules hold with both: one per round."""
    best: tuple[tuple[bool, int, int, int], int, int] | None = None
    for extra in unpaired:
        newcomer = people[extra]
        for index, pair in enumerate(pairs):
            a, b = people[pair[0]], people[pair[1]]
            if not (can_pair(newcomer, a, forbidden) and can_pair(newcomer, b, forbidden)):
                continue
            if (a.availability and b.availability and newcomer.availability) and suggest_slot(
                [a, b, newcomer]
            ) is None:
                continue  # a trio needs one slot all three can make
            gain = pair_points(newcomer, a) + pair_points(newcomer, b)
            key = (newcomer.sat_out_last, gain, -extra, -index)
            if best is None or key > best[0]:
                best = (key, extra, index)
    if best is None:
        return pairs, unpaired
    _, extra, index = best
    pairs = list(pairs)
    pairs[index] = (*pairs[index], extra)
    return pairs, [i for i in unpaired if i != extra]


def _planned(people: list[Profile], pair: tuple[int, ...]) -> PlannedPair:
    members = sorted((people[i] for i in pair), key=lambda p: p.member_id)
    points = 0
    reasons: list[str] = []
    for first in range(len(members)):
        for second in range(first + 1, len(members)):
            pair_points_, pair_reasons = _explain(members[first], members[second])
            points += pair_points_
            reasons.extend(reason for reason in pair_reasons if reason not in reasons)
    return PlannedPair(
        member_ids=tuple(p.member_id for p in members),
        score=points / POINTS_PER_SCORE,
        reasons=tuple(reasons),
        slot=suggest_slot(members),
    )
