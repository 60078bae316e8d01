"""An experiment for issue 15, not the matcher: candidates from an IVF-style index instead of
scoring every pair of a big block.

    .venv/bin/python -m bench.pairing_ivf --members 8000 --clusters 100 --probes 20

k-means (a few rounds) over what each member offers a scorer (interests, goals and flags, what
they offer and ask); each member ranks the clusters by its points against their centroids and
probes the best `--probes` (and its own), scoring those clusters' members exactly and keeping its
best TOP_K by the matcher's own ranking (points minus the partner's price, a jitter); with
`--priced`, the price is a column of the index too. The
candidate graph is matched as the matcher matches one block, and its plan's points are compared
with the plan on the all-pairs ranking of the same block. One city from `bench.generate.blank`
(seed 2 at 8,000 as in the families, else 1). Prints one line each; writes nothing.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import time
from typing import Any

import numpy as np

from bench import generate as families
from chalicelib import matching


def _plan(block: Any, priority: Any, u: Any, v: Any, points: Any) -> int:
    values = matching._values(block, u, v, points)
    weights = matching._weights(u, v, values, priority, len(block.members))
    found = matching.match_block(len(block.members), u, v, weights, matching._rough_weights(values, u, v, priority))
    ends = np.array(found, dtype=np.int64).reshape(-1, 2)
    return int(matching._pair_points(block, ends[:, 0], ends[:, 1]).sum())


def _vectors(block: Any) -> tuple[Any, Any]:
    """Per class: what it asks of a scorer (queries) and what it offers one (documents): their
    product ranks partners roughly as points do (interests weigh ten times more, uncapped)."""
    indptr, features, _ = block.rare_said.said
    says = np.zeros((len(block.rows), block.heard.shape[1]), np.float32)
    owner = np.repeat(np.arange(len(block.rows)), np.diff(indptr))
    says[owner, features] = block.heard.max(axis=0)[features]  # each feature's points
    documents = np.hstack([block.liked * matching.POINTS_PER_SHARED_INTEREST, block.cols,
                           (block.heard > 0) * matching.POINTS_PER_ASK_WORD])
    return np.hstack([block.likes, block.rows, says]).astype(np.float32), documents.astype(np.float32)


def _kmeans(documents: Any, clusters: int, rng: Any, rounds: int = 8) -> Any:
    centroids = documents[rng.choice(len(documents), clusters, replace=False)].copy()
    label = np.zeros(len(documents), dtype=np.int64)
    for _ in range(rounds):
        distance = (documents * documents).sum(1)[:, None] - 2 * documents @ centroids.T + (centroids**2).sum(1)
        label = distance.argmin(1)
        for cluster in range(clusters):
            chosen = label == cluster
            if chosen.any():
                centroids[cluster] = documents[chosen].mean(0)
    return label, centroids


def ivf_edges(block: Any, clusters: int, probes: int, rng: Any, priced: bool = False) -> tuple[Any, Any, Any, float]:
    """The candidate graph (u < v, points) and the share of all pairs scored. `priced`: each
    member's price (see matching._opportunity) is one more column of what it offers, subtracted,
    so clusters form, and are probed, by points minus price, as the ranking inside them is."""
    size, reach = len(block.rows), matching.TOP_K
    queries, documents = _vectors(block)
    if priced:
        price = matching._opportunity(block, np.ones(size, dtype=np.int64), rng)
        queries = np.hstack([queries, np.ones((size, 1), np.float32)])
        documents = np.hstack([documents, -price[:, None]])
    label, centroids = _kmeans(documents, clusters, rng)
    if not priced:
        price = matching._opportunity(block, np.ones(size, dtype=np.int64), rng)
    probed = np.argsort(-(queries @ centroids.T), axis=1)[:, :probes]
    found: list[tuple[Any, ...]] = []
    scored = 0
    for cluster in range(clusters):
        columns = np.flatnonzero(label == cluster)
        rows = np.flatnonzero((probed == cluster).any(1) | (label == cluster))
        for start in range(0, len(rows), matching.CHUNK_ROWS):
            mine = rows[start : start + matching.CHUNK_ROWS]
            points = matching._class_points(block, mine, columns)
            apart = matching._disjoint(block.slots[mine], block.slots[columns]) | (mine[:, None] == columns[None, :])
            jitter = rng.random(points.shape, dtype=np.float32) * np.float32(0.5) - price[columns]
            rank = matching._last(points + jitter, apart)
            keep = min(reach, len(columns))
            top = np.argpartition(-rank, keep - 1, axis=1)[:, :keep]
            ok = ~np.take_along_axis(apart, top, axis=1)
            found.append((np.repeat(mine, keep)[ok.ravel()], columns[top][ok], np.take_along_axis(points, top, 1)[ok],
                          np.take_along_axis(rank, top, 1)[ok]))
            scored += points.size
    u, v, points, rank = (np.concatenate(part) for part in zip(*found, strict=True))
    order = np.lexsort((-rank, u))
    u, v, points = u[order], v[order], points[order]
    place = np.arange(len(u)) - np.searchsorted(u, np.arange(size))[u]
    u, v, points = u[place < reach], v[place < reach], points[place < reach]
    keys, first = np.unique(np.minimum(u, v) * size + np.maximum(u, v), return_index=True)
    return keys // size, keys % size, points[first].astype(np.int64), scored / size / size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--members", type=int, default=8000)
    parser.add_argument("--clusters", type=int, default=100)
    parser.add_argument("--probes", type=int, default=20)
    parser.add_argument("--priced", action="store_true", help="the partner's price as a column of the index")
    args = parser.parse_args()
    profiles, _ = families.blank(args.members, 0.0, seed=2 if args.members == 8000 else 1)
    people = matching.seeded_order(profiles, 3)  # as plan_round orders them
    members = list(range(len(people)))
    block = matching._encode(people, members, matching._banned_positions(people, frozenset()), (3, 0, 0))
    if len(block.rows) != len(members):
        raise SystemExit("this experiment wants distinct profiles (one member a class)")
    priority = matching._priority(people, members)
    started = time.process_time()
    whole = _plan(block, priority, *matching._candidate_edges(block, priority))
    whole_s = time.process_time() - started
    started = time.process_time()
    u, v, points, share = ivf_edges(block, args.clusters, args.probes, np.random.default_rng(0), args.priced)
    found = _plan(block, priority, u, v, points)
    print(f"{args.members:,} members: all pairs {whole:,} points in {whole_s:.1f} s CPU; IVF {args.clusters} clusters,"
          f" {args.probes} probes{', priced' if args.priced else ''}: {share:.1%} of the pairs scored,"
          f" {found:,} points = {found / whole:.2%},"
          f" {time.process_time() - started:.1f} s CPU")


if __name__ == "__main__":
    main()
