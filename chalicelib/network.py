"""The group's relationship network, as pure code: lunches in, graph, layout and SVG out.

No I/O and no clock: services/insights.py reads the members and pairs and hands them here.

- An edge is two members who met at a lunch (`feedback.pair_met`; a partner reported as a
  no-show met nobody there). Its weight is how many lunches they met at.
- A node is a member who met someone; its size is how many lunches they met at. Members who
  never met anyone are listed apart, so the organizer can reach out to them.
- An introduction both said yes to (`introductions`: status "connected", met or not) is an
  edge of its own kind, "intro": drawn dashed in another colour, with who introduced them.
  It counts as a link for connectors and layout, not as a lunch.
- Connectors are the members with the highest betweenness: most shortest paths between two
  others run through them (Brandes). Up to BETWEENNESS_PIVOTS members it is exact; above, it is
  estimated from that many sources drawn with the seed (Brandes & Pich, 2007), because the
  exact figure for 5,000 members takes seconds (rustworkx: ~4-8 s on one core).
- The layout is rustworkx's force layout (`spring_layout`, fixed seed) of the LAYOUT_CORE
  busiest members; everyone else is placed, breadth first, among the partners placed before
  them. The full force layout is O(n²) per step: over 15 s for 5,000 members.
- Big groups: the picture (and the JSON's `nodes` and `edges`) holds at most DRAWN_NODES
  members, the most connected (the connectors, AROUND_CONNECTOR partners of each, then whoever
  is linked to the most of those already chosen: see _most_connected), and at most DRAWN_EDGES of
  the links between them, the strongest first; only they are laid out. Connectors and the
  never-met list are worked out on the whole group; the counts of the whole group are kept
  (`Network.totals`), so the page and the JSON can say what was left out. Each drawn member
  costs ~270 bytes of HTML and ~160 of JSON, each drawn link ~16 of HTML and ~120 of JSON: without
  the cap 20,000 members who met made 3.0 MB of HTML and 12.9 MB of JSON (Lambda answers at most 6 MB).
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html import escape

import numpy as np
import numpy.typing as npt
import rustworkx as rx

from chalicelib.feedback import no_shows, pair_met
from chalicelib.models import LunchPair
from chalicelib.store.intros import ORGANIZER, Intro

SEED = 13
CONNECTORS = 5  # connectors named on the page and in the JSON
BETWEENNESS_PIVOTS = 200  # exact betweenness up to this many members; sampled above
LAYOUT_CORE = 400  # members placed by the force layout; the rest among their partners
LAYOUT_ITERATIONS = 60
DRAWN_NODES = 1500  # members drawn (and in the JSON's nodes): the most connected
DRAWN_EDGES = 6000  # links drawn between them (and in the JSON's edges): the strongest
AROUND_CONNECTOR = 20  # partners of each connector drawn with them
NEVER_MET_LISTED = 1000  # never-met members in GET /network; all of them: GET /network/never-met
SVG_SIZE = 1000  # the viewBox is SVG_SIZE square; the <svg> scales to its container's width
MARGIN = 36  # around the chart: room for the largest circle (see `radius`)
LUNCH_COLOUR = "#8a94a6"  # grey, solid: a lunch
INTRO_COLOUR = "#7b3fb0"  # purple, dashed: an introduction both accepted
MEETUP_COLOUR = "#2e8b57"  # green, dotted: two who said they met at a meetup
INTRO_DASH = "9 6"
TITLE_CHARS = 60  # a name in a hover title is cut to this many characters
INTRO_TITLES = 300  # introductions drawn with a title naming the three people; the rest drawn untitled

Edge = tuple[str, str]
Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Meetings:
    """Who met whom: lunches per pair of members (ids sorted), lunches per member; and meetups
    per pair of members who said they met at one (services/meetup_people.met_pairs)."""

    edges: dict[Edge, int]
    lunches: dict[str, int]
    meetups: dict[Edge, int] = field(default_factory=dict)


@dataclass(frozen=True)
class IntroEdge:
    """Two members connected through an introduction both said yes to (a < b), and who made it."""

    a: str
    b: str
    connector_id: str  # a member id, or ORGANIZER
    connector_name: str


@dataclass(frozen=True)
class Node:
    member_id: str
    name: str
    lunches: int  # lunches at which they met someone (0: only introduced so far)
    partners: int  # distinct members they met
    betweenness: float  # normalized to 0..1
    x: float  # in the SVG's viewBox
    y: float
    connector: bool


@dataclass(frozen=True)
class Totals:
    """The whole group's network, whatever was drawn."""

    members: int = 0  # current members
    nodes: int = 0  # members who met someone or were introduced
    edges: int = 0  # links of every kind (a lunch pair, an introduction, a meetup pair: one each)
    lunch_pairs: int = 0  # pairs who met at lunch
    lunches: int = 0  # meetings at lunch, pair by pair (a pair who met twice: 2)
    intros: int = 0  # introductions both said yes to
    meetup_pairs: int = 0  # pairs who said they met at a meetup


@dataclass(frozen=True)
class Network:
    nodes: tuple[Node, ...]  # the drawn members (at most DRAWN_NODES), by lunches then name
    edges: tuple[tuple[str, str, int], ...]  # drawn lunch links (a, b, lunches), a < b, by (a, b)
    connectors: tuple[str, ...]  # member ids, highest betweenness first (always drawn)
    never_met: tuple[tuple[str, str], ...]  # (member id, name) by name: all of them
    sampled: bool  # betweenness estimated from BETWEENNESS_PIVOTS sources
    intro_edges: tuple[IntroEdge, ...] = ()  # drawn accepted introductions, by (a, b)
    meetup_edges: tuple[tuple[str, str, int], ...] = ()  # drawn (a, b, meetups): said they met at a meetup
    totals: Totals = field(default_factory=Totals)

    @property
    def drawn_edges(self) -> int:
        return len(self.edges) + len(self.intro_edges) + len(self.meetup_edges)

    @property
    def cut(self) -> bool:
        """Some members or links who met were left out of the picture."""
        return len(self.nodes) < self.totals.nodes or self.drawn_edges < self.totals.edges

    def out(self, never_met: int | None = None) -> dict[str, object]:
        """The JSON answer of GET /groups/{group_id}/network: the drawn graph, the first
        `never_met` (NEVER_MET_LISTED) never-met members, and the whole group's counts."""
        never_met = NEVER_MET_LISTED if never_met is None else never_met
        names = {n.member_id: n.name for n in self.nodes}
        t = self.totals
        return {
            "nodes": [{"member_id": n.member_id, "name": n.name, "lunches": n.lunches,
                       "partners": n.partners, "betweenness": round(n.betweenness, 6),
                       "connector": n.connector, "x": round(n.x, 1), "y": round(n.y, 1)}
                      for n in self.nodes],
            "edges": [{"a": a, "b": b, "kind": "lunch", "lunches": w, "connector_id": None}
                      for a, b, w in self.edges]
            + [{"a": e.a, "b": e.b, "kind": "intro", "lunches": 0, "connector_id": e.connector_id}
               for e in self.intro_edges]
            + [{"a": a, "b": b, "kind": "meetup", "lunches": 0, "connector_id": None}
               for a, b, _ in self.meetup_edges],
            "connectors": [{"member_id": m, "name": names[m]} for m in self.connectors],
            "never_met": [{"member_id": m, "name": name} for m, name in self.never_met[:never_met]],
            "betweenness_sampled": self.sampled,
            "truncated": self.cut or len(self.never_met) > never_met,
            "totals": {"members": t.members, "nodes": t.nodes, "edges": t.edges,
                       "never_met": len(self.never_met)},
        }


def meetings(pairs: Iterable[LunchPair], at_meetups: Iterable[tuple[str, str, int]] = ()) -> Meetings:
    """The lunches that happened, as edges between the members who were there; and two who
    said they met at meetups ((a, b, meetups): services/meetup_people.met_pairs), apart."""
    edges: Counter[Edge] = Counter()
    at: Counter[Edge] = Counter()
    for a, b, times in at_meetups:
        if a != b:
            at[(min(a, b), max(a, b))] += times
    lunches: Counter[str] = Counter()
    for pair in pairs:
        if not pair_met(pair):
            continue
        absent = no_shows(pair)
        there = sorted(m for m in pair.member_ids if m not in absent)
        if len(there) < 2:
            continue
        lunches.update(there)
        edges.update(itertools.combinations(there, 2))
    return Meetings(dict(edges), dict(lunches), dict(at))


def introductions(intros: Iterable[Intro]) -> dict[Edge, str]:
    """The introductions both said yes to (met since or not), as edges: (a, b) -> who made it
    (a member id, or ORGANIZER); of two between the same people, the first made counts."""
    found: dict[Edge, str] = {}
    for intro in sorted(intros, key=lambda i: (i.created_at, i.intro_id)):
        if intro.status == "connected" and len(set(intro.member_ids)) == 2:
            a, b = sorted(intro.member_ids)
            found.setdefault((a, b), intro.connector_id)
    return found


def build(members: Mapping[str, str], met: Meetings, introduced: Mapping[Edge, str] | None = None, *,
          seed: int = SEED, connectors: int = CONNECTORS, drawn: int | None = None,
          drawn_edges: int | None = None) -> Network:
    """The network of the current `members` (id -> name): edges to a member who has left are
    dropped. `introduced` (from `introductions`) adds the intro edges. Connectors and never-met
    are of the whole group; at most `drawn` members and `drawn_edges` links are kept to draw
    (DRAWN_NODES and DRAWN_EDGES unless told)."""
    drawn = DRAWN_NODES if drawn is None else drawn
    drawn_edges = DRAWN_EDGES if drawn_edges is None else drawn_edges
    # Sorted, so the same lunches in any order give the same layout.
    edges = {e: w for e, w in sorted(met.edges.items()) if e[0] in members and e[1] in members and e[0] != e[1]}
    intros = {e: c for e, c in sorted((introduced or {}).items())
              if e[0] in members and e[1] in members and e[0] != e[1]}
    there = {e: w for e, w in sorted(met.meetups.items()) if e[0] in members and e[1] in members and e[0] != e[1]}
    linked = sorted(edges.keys() | intros.keys() | there.keys())  # one link per two people, whatever its kinds
    lunches: Counter[str] = Counter()
    partners: Counter[str] = Counter()
    for a, b in linked:
        partners[a] += 1
        partners[b] += 1
    for member_id in {m for e in edges for m in e}:
        lunches[member_id] = max(met.lunches.get(member_id, 0), 1)
    order = sorted(partners, key=lambda m: (-lunches[m], members[m], m))
    index = {m: i for i, m in enumerate(order)}
    src = np.fromiter((index[a] for a, _ in linked), dtype=np.int64, count=len(linked))
    dst = np.fromiter((index[b] for _, b in linked), dtype=np.int64, count=len(linked))
    between, sampled = betweenness(len(order), src, dst, seed=seed)
    ranked = sorted((i for i in range(len(order)) if between[i] > 0), key=lambda i: (-between[i], i))
    top = [order[i] for i in ranked[:connectors]]
    kept = _most_connected(order, top, linked, partners, lunches, members, drawn)
    chosen = set(kept)
    # The strongest links between drawn members: more lunches first, then an introduction or a meetup.
    items = sorted(
        [(-w, 0, a, b) for (a, b), w in edges.items() if a in chosen and b in chosen]
        + [(-1, 1, a, b) for a, b in intros if a in chosen and b in chosen]
        + [(-w, 2, a, b) for (a, b), w in there.items() if a in chosen and b in chosen])[:max(drawn_edges, 0)]
    shown = {kind: {(a, b) for _, k, a, b in items if k == kind} for kind in (0, 1, 2)}
    sub = kept  # in the order chosen: each linked to one before, as the layout's force core wants
    sub_index = {m: i for i, m in enumerate(sub)}
    pairs = sorted(shown[0] | shown[1] | shown[2])
    xy = layout(len(sub), np.fromiter((sub_index[a] for a, _ in pairs), dtype=np.int64, count=len(pairs)),
                np.fromiter((sub_index[b] for _, b in pairs), dtype=np.int64, count=len(pairs)), seed=seed)
    nodes = tuple(sorted((Node(m, members[m], lunches[m], partners[m], float(between[index[m]]),
                               float(xy[i, 0]), float(xy[i, 1]), m in top) for i, m in enumerate(sub)),
                         key=lambda n: index[n.member_id]))
    never = never_met(members, met, introduced)
    intro_edges = tuple(IntroEdge(a, b, c, members.get(c) or
                                  ("the organizers" if c == ORGANIZER else "a former member"))
                        for (a, b), c in intros.items() if (a, b) in shown[1])
    totals = Totals(members=len(members), nodes=len(order), edges=len(edges) + len(intros) + len(there),
                    lunch_pairs=len(edges), lunches=sum(edges.values()), intros=len(intros),
                    meetup_pairs=len(there))
    return Network(nodes=nodes, edges=tuple((a, b, w) for (a, b), w in edges.items() if (a, b) in shown[0]),
                   connectors=tuple(top), never_met=never, sampled=sampled, intro_edges=intro_edges,
                   meetup_edges=tuple((a, b, w) for (a, b), w in there.items() if (a, b) in shown[2]),
                   totals=totals)


def never_met(members: Mapping[str, str], met: Meetings,
              introduced: Mapping[Edge, str] | None = None) -> tuple[tuple[str, str], ...]:
    """(member id, name) of the current members linked to no other current member, by name then id
    (what `build` lists, without the graph)."""
    linked = {m for e in (*met.edges, *(introduced or {}), *met.meetups)
              if e[0] != e[1] and e[0] in members and e[1] in members for m in e}
    return tuple(sorted(((m, n) for m, n in members.items() if m not in linked), key=lambda p: (p[1], p[0])))


def _most_connected(order: list[str], top: list[str], linked: list[Edge], partners: Mapping[str, int],
                    lunches: Mapping[str, int], members: Mapping[str, str], drawn: int) -> list[str]:
    """Up to `drawn` members to draw, in the order chosen: the connectors, then up to
    AROUND_CONNECTOR partners of each, in turn (who met the most people first), so a connector is drawn
    with the people they link; then, one at a time, whoever is linked to the most members drawn
    so far (then who met the most people, the most lunches; by name). Taking simply the members
    who met the most people would scatter them: at 20,000 members, 1,500 of them shared fewer
    links than there were members, a cloud of dots. Each member drawn after the first is linked
    to one drawn before them, when the graph allows: the first LAYOUT_CORE hang together for the
    force layout."""
    if len(order) <= drawn:
        return list(order)
    around: dict[str, list[str]] = {m: [] for m in order}
    for a, b in linked:
        around[a].append(b)
        around[b].append(a)
    rank = {m: (-partners[m], -lunches[m], members[m], m) for m in order}
    into: Counter[str] = Counter()
    heap = [(0, *rank[m]) for m in order]
    heapq.heapify(heap)
    chosen: list[str] = []
    kept: set[str] = set()

    def keep(m: str) -> None:
        if m in kept or len(chosen) >= drawn:
            return
        kept.add(m)
        chosen.append(m)
        for other in around[m]:
            if other not in kept:
                into[other] += 1
                heapq.heappush(heap, (-into[other], *rank[other]))

    for m in top:
        keep(m)
    nearest = [sorted(around[m], key=rank.__getitem__)[:AROUND_CONNECTOR] for m in top]
    for j in range(AROUND_CONNECTOR):  # in turn: each connector's first partner, then each one's second...
        for partners_of in nearest:
            if j < len(partners_of):
                keep(partners_of[j])
    while heap and len(chosen) < drawn:
        links, *_, m = heapq.heappop(heap)
        if m not in kept and -links == into[m]:  # else an older entry of someone since linked more
            keep(m)
    return chosen


# ---------------------------------------------------------------- betweenness


def _csr(n: int, src: Ints, dst: Ints) -> tuple[Ints, Ints]:
    heads = np.concatenate([src, dst])
    tails = np.concatenate([dst, src])
    order = np.argsort(heads, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(heads, minlength=n), out=indptr[1:])
    return indptr, tails[order]


def _neighbours(indptr: Ints, indices: Ints, frontier: Ints) -> tuple[Ints, Ints]:
    """(from, to) for every edge leaving the frontier."""
    starts, ends = indptr[frontier], indptr[frontier + 1]
    counts = ends - starts
    total = int(counts.sum())
    if total == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    owners = np.repeat(frontier, counts)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    return owners, indices[np.repeat(starts, counts) + offsets]


def betweenness(n: int, src: Ints, dst: Ints, *, seed: int = SEED,
                pivots: int = BETWEENNESS_PIVOTS) -> tuple[Floats, bool]:
    """Normalized betweenness of an undirected, unweighted graph (rustworkx's and networkx's
    normalization: divided by (n-1)(n-2)/2 pairs), exact when n <= pivots, else estimated from
    `pivots` sources drawn with `seed`; and whether it was estimated."""
    score = np.zeros(n, dtype=np.float64)
    if n < 3:
        return score, False
    indptr, indices = _csr(n, src, dst)
    sampled = n > pivots
    sources = np.random.default_rng(seed).choice(n, size=pivots, replace=False) if sampled else np.arange(n)
    for s in sources:
        dist = np.full(n, -1, dtype=np.int64)
        sigma = np.zeros(n, dtype=np.float64)
        dist[s], sigma[s] = 0, 1.0
        frontier = np.array([s], dtype=np.int64)
        levels: list[tuple[Ints, Ints]] = []
        depth = 0
        while frontier.size:
            owners, reached = _neighbours(indptr, indices, frontier)
            fresh = dist[reached] == -1
            dist[reached[fresh]] = depth + 1
            on_path = dist[reached] == depth + 1
            owners, reached = owners[on_path], reached[on_path]
            sigma += np.bincount(reached, weights=sigma[owners], minlength=n)
            levels.append((owners, reached))
            frontier = np.flatnonzero(dist == depth + 1)
            depth += 1
        delta = np.zeros(n, dtype=np.float64)
        for owners, reached in reversed(levels):
            delta += np.bincount(owners, weights=sigma[owners] / sigma[reached] * (1.0 + delta[reached]),
                                 minlength=n)
        delta[s] = 0.0
        score += delta
    # Each unordered pair was counted from both ends (exact), or scale the sample up to n sources.
    score *= (n / len(sources)) / 2.0
    return score / ((n - 1) * (n - 2) / 2.0), sampled


# ---------------------------------------------------------------- layout


def layout(n: int, src: Ints, dst: Ints, *, seed: int = SEED,
           core: int = LAYOUT_CORE) -> Floats:
    """(n, 2) positions inside the viewBox. Nodes are numbered busiest first (or, in a cut
    picture, in the order they were chosen: each linked to one before), so the first
    `core` go to the force layout; the others, breadth first, next to the mean of their placed
    partners (a member with none placed yet starts a new cluster on a ring outside)."""
    xy = np.zeros((n, 2), dtype=np.float64)
    if n == 0:
        return xy
    rng = np.random.default_rng(seed)
    k = min(n, core)
    graph = rx.PyGraph()
    graph.add_nodes_from(range(k))
    inside = (src < k) & (dst < k)
    graph.add_edges_from_no_data(list(zip(src[inside].tolist(), dst[inside].tolist(), strict=True)))
    initial = {i: (float(a), float(b)) for i, (a, b) in enumerate(rng.uniform(-1, 1, size=(k, 2)))}
    placed_pos = rx.spring_layout(graph, pos=initial, seed=seed, num_iter=LAYOUT_ITERATIONS)
    for i in range(k):
        xy[i] = placed_pos[i]
    if k < n:
        xy[:k] = _unit(xy[:k]) * 0.8
        indptr, indices = _csr(n, src, dst)
        placed = np.zeros(n, dtype=bool)
        placed[:k] = True
        spread = 0.8 / math.sqrt(k)
        ring = 0
        for start in range(k, n):
            if placed[start]:
                continue
            queue = [start]
            while queue:
                nxt: list[int] = []
                for v in queue:
                    if placed[v]:
                        continue
                    partners = indices[indptr[v]:indptr[v + 1]]
                    near = partners[placed[partners]]
                    if near.size:
                        xy[v] = xy[near].mean(axis=0) + rng.normal(0.0, spread, 2)
                    else:
                        angle = ring * 2.399963  # the golden angle: new clusters spread round the ring
                        xy[v] = (0.92 * math.cos(angle), 0.92 * math.sin(angle))
                        ring += 1
                    placed[v] = True
                    nxt.extend(int(p) for p in partners if not placed[p])
                queue = nxt
    return MARGIN + _unit(xy) * (SVG_SIZE / 2 - MARGIN) + (SVG_SIZE / 2 - MARGIN)


def _unit(xy: Floats) -> Floats:
    """Centred and scaled into [-1, 1] on both axes (a single point sits in the middle)."""
    centred: Floats = xy - (xy.max(axis=0) + xy.min(axis=0)) / 2
    extent = float(np.abs(centred).max()) if centred.size else 0.0
    return centred / extent if extent > 0 else centred  # type: ignore[no-any-return]


# ---------------------------------------------------------------- SVG


def radius(lunches: int, drawn: int) -> float:
    """A member's circle, in viewBox units: larger for more lunches, and larger in a network of
    few members, whose circles would otherwise be specks on a 1,000-unit chart: at least 120 over
    the square root of the members drawn (24 for up to 25 members, 3.1 at DRAWN_NODES), plus 1.6 a
    square root of lunches, 12 more at most, so no circle is wider than the MARGIN around the chart."""
    least = min(24.0, max(2.0, 120.0 / math.sqrt(max(drawn, 1))))
    return min(least + 1.6 * math.sqrt(lunches), least + 12.0)


def svg(network: Network, *, title: str = "The group's relationship network") -> str:
    """Inline SVG: no script and no style block (the pages' CSP allows neither), presentation
    attributes only. One <circle> per member drawn, with their name as its <title>;
    lunch edges as one solid grey <path> per weight class, to keep 20,000 lunches in a few hundred
    kilobytes; intro edges dashed purple, one <path> each titled with who introduced the two (the
    first INTRO_TITLES; any more share one untitled path)."""
    pos = {n.member_id: (round(n.x), round(n.y)) for n in network.nodes}
    names = {n.member_id: n.name for n in network.nodes}
    classes: dict[int, list[str]] = {1: [], 2: [], 3: []}
    for a, b, w in network.edges:
        (x1, y1), (x2, y2) = pos[a], pos[b]
        classes[min(w, 3)].append(f"M{x1} {y1}L{x2} {y2}")
    lines = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SVG_SIZE} {SVG_SIZE}" width="100%" '
             f'role="img" aria-labelledby="network-title network-desc" class="network">',
             f'<title id="network-title">{escape(title)}</title>',
             f'<desc id="network-desc">{_drawn(network)}{len(network.nodes)} members who have met someone at lunch '
             f'or were introduced; {len(network.edges)} pairs who met at lunch, drawn as solid grey lines '
             f'(thicker: more lunches); {_introductions(len(network.intro_edges))} by a member or the '
             f'organizers that both said yes to, drawn as dashed purple lines; {_at_meetups(network)}'
             f'larger circles met at more lunches; connectors are drawn in orange and listed beside the chart.</desc>']
    for w, paths in classes.items():
        if paths:
            lines.append(f'<path fill="none" stroke="{LUNCH_COLOUR}" stroke-opacity="{0.25 + 0.2 * w:.2f}" '
                         f'stroke-width="{0.4 + 0.5 * w:.1f}" d="{"".join(paths)}"/>')
    if network.intro_edges:
        lines.append(f'<g fill="none" stroke="{INTRO_COLOUR}" stroke-width="2.4" stroke-dasharray="{INTRO_DASH}">')
        for e in network.intro_edges[:INTRO_TITLES]:
            (x1, y1), (x2, y2) = pos[e.a], pos[e.b]
            lines.append(f'<path d="M{x1} {y1}L{x2} {y2}"><title>{_name(names[e.a])} and {_name(names[e.b])}, '
                         f"introduced by {_name(e.connector_name)}</title></path>")
        if len(network.intro_edges) > INTRO_TITLES:  # the rest in one path: three names each would weigh too much
            rest = "".join(f"M{pos[e.a][0]} {pos[e.a][1]}L{pos[e.b][0]} {pos[e.b][1]}"
                           for e in network.intro_edges[INTRO_TITLES:])
            lines.append(f'<path d="{rest}"><title>Introduced by a member or the organizers</title></path>')
        lines.append("</g>")
    if network.meetup_edges:  # two who said they met at a meetup: dotted green
        drawn = "".join(f"M{pos[a][0]} {pos[a][1]}L{pos[b][0]} {pos[b][1]}" for a, b, _ in network.meetup_edges)
        lines.append(f'<path fill="none" stroke="{MEETUP_COLOUR}" stroke-width="2" stroke-dasharray="2 4" '
                     f'd="{drawn}"><title>Met at a meetup</title></path>')
    lines.append('<g fill="#2f6f9f" stroke="#ffffff" stroke-width="0.8">')
    for n in sorted(network.nodes, key=lambda n: n.connector):  # connectors drawn last, on top
        x, y = pos[n.member_id]
        fill = ' fill="#e07b00" stroke="#000000" stroke-width="1.5"' if n.connector else ""
        lines.append(f'<circle cx="{x}" cy="{y}" r="{radius(n.lunches, len(network.nodes)):.1f}"{fill}>'
                     f"<title>{_name(n.name)}: {_lunches(n.lunches)}</title></circle>")
    lines.append("</g></svg>")
    return "\n".join(lines)


def _name(name: str) -> str:
    """A name for a hover title, escaped, its first TITLE_CHARS characters: the page's weight must
    not hang on names, which may be 200 characters long."""
    return escape(name if len(name) <= TITLE_CHARS else name[:TITLE_CHARS - 1] + "…")


def _drawn(network: Network) -> str:
    """When the picture leaves some out: which part of the network it shows."""
    if not network.cut:
        return ""
    t = network.totals
    return (f"Showing the {len(network.nodes):,} most connected of the {t.nodes:,} members who have met someone, "
            f"and {network.drawn_edges:,} of the {t.edges:,} links between members, the strongest. Drawn: ")


def _lunches(count: int) -> str:
    return "no lunch yet" if count == 0 else f"{count} lunch{'es' if count != 1 else ''}"


def _at_meetups(network: Network) -> str:
    count = len(network.meetup_edges)
    return (f"{count} pair{'s' if count != 1 else ''} who said they met at a meetup, drawn as dotted green "
            "lines; ") if count else ""


def _introductions(count: int) -> str:
    return f"{count} introduction{'s' if count != 1 else ''}"
