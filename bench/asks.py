"""Asks meet offers: how often a pair's ask meets its offer, the matcher against Donut.

    .venv/bin/python -m bench.asks             # 2,000 and 20,000 members; writes its section
    .venv/bin/python -m bench.asks --no-write  # print only

On bench/generate.py's members (seed 1, as bench/pairing.py), the share of pairs where one
member's ask meets the other's offer (`matching.ask_match`), for `plan_round` and for a
Donut-style random pairing under the same hard rules (block, a common slot, not blocked or
met within the repeat window), and the matcher's CPU time on one core.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core: set before numpy loads
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import datetime
import random
import time
from collections.abc import Sequence
from pathlib import Path

from bench.generate import generate
from bench.pairing import REPEAT_WINDOW, SEED, blocks_of, run_plan
from chalicelib import matching
from chalicelib.matching import History, Profile

RESULTS = Path(__file__).with_name("RESULTS.md")
START, END = "<!-- asks:start -->", "<!-- asks:end -->"


def meets(a: Profile, b: Profile) -> bool:
    return bool(matching.ask_match(a.asks, b.offers)[0] or matching.ask_match(b.asks, a.offers)[0])


def share(tables: Sequence[Sequence[Profile]]) -> tuple[float, int]:
    """(share of pairs or trios with an ask met by an offer, how many tables)."""
    hits = sum(any(meets(x, y) for i, x in enumerate(t) for y in t[i + 1 :]) for t in tables)
    return hits / max(1, len(tables)), len(tables)


def donut(profiles: list[Profile], history: History) -> list[tuple[Profile, Profile]]:
    """Random pairs under the same hard rules, as bench/pairing.py's Donut baseline draws them."""
    rng = random.Random(SEED)
    forbidden = matching.forbidden_pairs(history, REPEAT_WINDOW)
    people, blocks, _ = blocks_of(profiles)
    pairs = []
    for members in blocks.values():
        pool = [people[i] for i in members]
        rng.shuffle(pool)
        while pool:
            first = pool.pop()
            for index in range(min(len(pool), 200)):
                if matching.can_pair(first, pool[index], forbidden):
                    pairs.append((first, pool.pop(index)))
                    break
    return pairs


def measure(size: int) -> dict[str, float]:
    profiles, history = generate(size, seed=1)
    by_id = {p.member_id: p for p in profiles}
    started = time.process_time()
    plan = run_plan(profiles, history)
    cpu = time.process_time() - started
    planned, tables = share([[by_id[m] for m in pair.member_ids] for pair in plan.pairs])
    random_share, random_pairs = share(donut(profiles, history))
    with_both = sum(bool(p.asks) and bool(p.offers) for p in profiles) / size
    return {"members": size, "cpu_s": cpu, "planned": planned, "tables": tables, "donut": random_share,
            "donut_pairs": random_pairs, "with_both": with_both}


def render(rows: list[dict[str, float]], command: str) -> str:
    lines = [START, "## Asks meet offers (issue 14, part 5)", "",
             f"- Command: `{command}`", f"- Date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
             "- Members: bench/generate.py, seed 1 (60% write an ask, 60% an offer: templates such as "
             "\"advice on {topic}\"); odd rule sit-out, repeat window 6, as bench/pairing.py.", "",
             "| members | pairs with an ask met by an offer: matcher | Donut-style random, same hard rules | "
             "ratio | matcher CPU (one core) |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {int(r['members']):,} | {r['planned']:.1%} of {int(r['tables']):,} | "
                     f"{r['donut']:.1%} of {int(r['donut_pairs']):,} | {r['planned'] / max(r['donut'], 1e-9):.1f}x | "
                     f"{r['cpu_s']:.2f} s |")
    return "\n".join([*lines, "", *SPEED]) + "\n"


# Measured by hand on this machine (2 shared cores, one pinned), plan_round on generate(20,000,
# seed=1), odd rule sit-out, window 6, seed 3; runs interleaved, old code from git archive HEAD.
SPEED = [
    "Speed, before and after phrases (2026-12-01, `plan_round` on 20,000 members, CPU on one core, 4 runs "
    "each, interleaved on a shared machine): before 5.41-5.85 s, after 6.34-6.46 s (+16%). The ask/offer "
    "columns grew from words to words and normalised phrases; columns nobody both asks and offers are "
    "dropped (without that it was 8.2-9.1 s). `bench.pairing --quick --no-write` (2,000): graph + "
    "matching 0.26 s before, 0.32 s after (budget 0.5 s), still 100% of exact on the same graph and "
    "99.98% of the upper bound; mean pair score 4.23 before, 4.96 after (asks weigh more).",
]


def write_section(text: str) -> None:
    current = RESULTS.read_text()
    if START in current and END in current:
        before, rest = current.split(START, 1)
        _, after = rest.split(END, 1)
        current = before + text.rstrip("\n") + after
    else:
        current = current.rstrip("\n") + "\n\n" + text + END + "\n"
    RESULTS.write_text(current)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--sizes", default="2000,20000")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    rows = [measure(int(n)) for n in args.sizes.split(",")]
    text = render(rows, ".venv/bin/python -m bench.asks" + (f" --sizes {args.sizes}" if args.sizes != "2000,20000" else ""))
    print(text)
    if not args.no_write:
        write_section(text)


if __name__ == "__main__":
    main()
