"""Network page bench (issue 13): the insights page for 5,000 members and 20,000 lunches.

    .venv/bin/python -m bench.network [--members 5000] [--lunches 20000] [--sizes] [--ddb] [--json] [--write]

Pure part, on generated data in this process: the edges from the lunches (`network.meetings`) and
from the introductions both accepted (`network.introductions`, issue 14),
betweenness and layout (timed apart, then `network.build` as the page calls it), the SVG, and the
whole page as the console renders it (`render_console`, template and all): its seconds on one
core (CPU time) and its size in bytes; and GET /network's answer in bytes, by field. Budgets:
<= 2 s, <= 1.5 MB of HTML at 5,000 members; at 20,000, <= 1.5 MB of HTML and a JSON answer well
under Lambda's 6 MB. --sizes adds 20,000 and 100,000 members and the largest answers the caps allow.

With --ddb, the same data written to a table on DynamoDB Local (started here), then the page's
reads through the app's own store (`services.insights.page`): calls by operation (botocore hooks
on the app's client: one Query per page, no Scan) and their time, apart from the layout.

The data: members in cities of 250; 85% of lunches within a city, the rest across, pairs
drawn with a fixed seed; every lunch happened (everyone confirmed), a tenth with a rating. Plus
--intros introductions (default 1,000), two thirds accepted, between members of any city. On
DynamoDB Local only the lunches are written (the page's Query of the intros finds none).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 11, 3, 11, 0, tzinfo=UTC)
GROUP_ID = "grp_01bench0network00000000000"
MB = 1_000_000


def generate_intros(people: list[Any], count: int, seed: int = 11) -> list[Any]:
    from chalicelib.store.intros import Intro

    rng = random.Random(seed)
    made = []
    for n in range(count):
        a, b, c = rng.sample(range(len(people)), 3)
        at = NOW - timedelta(days=1 + n % 300)
        made.append(Intro(intro_id=f"int_{n:024d}", group_id=GROUP_ID, connector_id=people[c].member_id,
                          member_ids=sorted([people[a].member_id, people[b].member_id]),
                          note="You two should meet: same questions, different answers.",
                          status="connected" if n % 3 else "declined", created_at=at,
                          expires_at=at + timedelta(days=14)))
    return made


def generate(members: int, lunches: int, seed: int = 7) -> tuple[Any, list[Any], list[Any], list[Any]]:
    from chalicelib.models import Group, LunchPair, LunchRound, Member, PairFeedback

    rng = random.Random(seed)
    group = Group(group_id=GROUP_ID, name="Bench", timezone="Europe/Lisbon", sender_name="Bench",
                  created_at=NOW - timedelta(days=400))
    people = [Member(member_id=f"mem_{i:026d}", group_id=GROUP_ID, email=f"m{i}@example.com",
                     name=f"Member {i:04d}", created_at=NOW - timedelta(days=400 - i % 365),
                     updated_at=NOW) for i in range(members)]
    city = 250
    rounds = [LunchRound(round_id=f"lrd_{r:026d}", group_id=GROUP_ID, local_date=(NOW - timedelta(days=14 * (40 - r))).date().isoformat(),
                         seq=r, status="done", created_at=NOW - timedelta(days=14 * (40 - r))) for r in range(40)]
    pairs = []
    for n in range(lunches):
        a = rng.randrange(members)
        if rng.random() < 0.85:
            base = a - a % city
            b = base + rng.randrange(min(city, members - base))
        else:
            b = rng.randrange(members)
        if a == b:
            b = (a + 1) % members
        ids = sorted([people[a].member_id, people[b].member_id])
        r = rounds[n % len(rounds)]
        feedback = {ids[0]: PairFeedback(met=True, rating=4, at=NOW)} if n % 10 == 0 else {}
        pairs.append(LunchPair(pair_id=f"lpr_{r.round_id[4:]}_{n:08d}", round_id=r.round_id, group_id=GROUP_ID,
                               member_ids=ids, responses=dict.fromkeys(ids, "confirmed"), feedback=feedback,
                               created_at=r.created_at))
    return group, people, pairs, rounds


def render(group: Any, context: dict[str, Any]) -> str:
    from chalicelib.routes.console import render_console
    from chalicelib.services.console import Session

    session = Session(session_id="bench", email="organizer@example.com", group_id=group.group_id,
                      expires_at=NOW + timedelta(hours=12))
    response = render_console("insights", session=session, group=group, **context)
    return str(response.body)


def answer_bytes(body: Any) -> int:
    """Bytes of a JSON answer as routes/http.json_response sends it."""
    return len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())


def pure(members: int, lunches: int, intros: int = 1000, *, baseline: bool = True) -> dict[str, Any]:
    import numpy as np

    from chalicelib import network
    from chalicelib.services import insights

    group, people, pairs, rounds = generate(members, lunches)
    offers = generate_intros(people, intros)
    result: dict[str, Any] = {"members": members, "lunches": lunches, "intros": intros}

    def timed(name: str, work: Any) -> Any:
        cpu, wall = time.process_time(), time.perf_counter()
        value = work()
        result[name] = {"cpu_s": round(time.process_time() - cpu, 3), "wall_s": round(time.perf_counter() - wall, 3)}
        return value

    met = timed("meetings", lambda: network.meetings(pairs))
    introduced = timed("introductions", lambda: network.introductions(offers))
    names = {m.member_id: m.name for m in people}
    linked = sorted(met.edges.keys() | introduced.keys())
    order = sorted({m for e in linked for m in e})
    index = {m: i for i, m in enumerate(order)}
    src = np.array([index[a] for a, _ in linked], dtype=np.int64)
    dst = np.array([index[b] for _, b in linked], dtype=np.int64)
    timed("betweenness", lambda: network.betweenness(len(order), src, dst))
    graph = timed("build", lambda: network.build(names, met, introduced))
    drawn = {n.member_id: i for i, n in enumerate(graph.nodes)}
    links = sorted({(a, b) for a, b, _ in graph.edges} | {(e.a, e.b) for e in graph.intro_edges})
    timed("layout", lambda: network.layout(len(drawn), np.array([drawn[a] for a, _ in links], dtype=np.int64),
                                           np.array([drawn[b] for _, b in links], dtype=np.int64)))
    svg = timed("svg", lambda: network.svg(graph))
    # The whole page as the route builds it, from what the reads return.
    # The baseline: the same page without introductions (the network before intro edges).
    if baseline:
        bare = timed("page_without_intros", lambda: render(group, insights.page_context(
            group, people, pairs, rounds, [], insights.Timings())))
        result["html_bytes_without_intros"] = len(bare.encode())
    html = timed("page", lambda: render(group, insights.page_context(group, people, pairs, rounds, [],
                                                                      insights.Timings(), intros=offers)))
    out = graph.out()
    listed = html[html.find('<ul class="never-met"'):]
    result.update(nodes=len(graph.nodes), edges=len(graph.edges), intro_edges=len(graph.intro_edges),
                  never_met=len(graph.never_met), totals=vars(graph.totals), truncated=out["truncated"],
                  connectors=[names[m] for m in graph.connectors], sampled=graph.sampled,
                  svg_bytes=len(svg.encode()), html_bytes=len(html.encode()),
                  never_met_html_bytes=len(listed[:listed.find("</ul>")].encode()) if graph.never_met else 0,
                  json_bytes=answer_bytes(out), json_parts={k: answer_bytes(v) for k, v in out.items()})
    return result


def largest(intros: int = 1000) -> dict[str, Any]:
    """The heaviest answers the caps allow: names of 200 characters (the most a name may have) that
    weigh the most once sent: "𝔄" (4 bytes of UTF-8) in the JSON, '"' (escaped to 5-6 bytes) in the
    HTML; enough lunches that 1,500 members are drawn with 6,000 links, 1,000 introductions, and
    2,000 members who never met (the page lists 500 of them, the JSON 1,000)."""
    from chalicelib import network
    from chalicelib.services import insights

    result: dict[str, Any] = {}
    for key, char in (("json", "𝔄"), ("html", '"')):
        group, people, pairs, rounds = generate(4000, 24000)
        people = [m.model_copy(update={"name": f"{i:04d}" + char * 196}) for i, m in enumerate(people)]
        met = [p for p in pairs if all(int(m[4:]) < 2000 for m in p.member_ids)]  # the others never met
        offers = [i for i in generate_intros(people[:2000], intros)]
        if key == "json":
            graph = network.build({m.member_id: m.name for m in people}, network.meetings(met),
                                  network.introductions(offers))
            out = graph.out()
            result.update(json_bytes=answer_bytes(out), json_parts={k: answer_bytes(v) for k, v in out.items()},
                          nodes=len(out["nodes"]), edges=len(out["edges"]), never_met=len(out["never_met"]))
        else:
            html = render(group, insights.page_context(group, people, met, rounds, [], insights.Timings(),
                                                       intros=offers))
            result["html_bytes"] = len(html.encode())
    return result


def on_dynamodb_local(members: int, lunches: int) -> dict[str, Any]:
    from bench.appenv import app_table
    from bench.roundtrips import RoundTrips
    from chalicelib import deps
    from chalicelib.services import insights
    from chalicelib.store import keys, schema
    from chalicelib.store.lunch import _pair_item
    from chalicelib.store.members import _item as member_item
    from scripts.dynamodb_local import DynamoDBLocal

    group, people, pairs, rounds = generate(members, lunches)
    with DynamoDBLocal() as server, tempfile.TemporaryDirectory() as out, \
            app_table(server.endpoint_url, Path(out), "bench-network"):
        deps.set_clock(lambda: NOW)
        schema.create_table(deps.dynamodb_client(), deps.settings().table_name)
        db = deps.store().db
        started = time.perf_counter()
        db.write_batch([{**keys.group(GROUP_ID), "type": "group", **group.model_dump()}])
        db.write_batch([member_item(m) for m in people])
        db.write_batch([_pair_item(p) | {"responses": p.responses,
                                         "feedback": {k: v.model_dump() for k, v in p.feedback.items()}}
                        for p in pairs])
        db.write_batch([{**keys.lunch_round(GROUP_ID, r.round_id), "type": "lunch_round", **r.model_dump()}
                        for r in rounds])
        seeded = time.perf_counter() - started
        with RoundTrips(deps.dynamodb_client()) as trips:
            cpu, wall = time.process_time(), time.perf_counter()
            context = insights.page(group)
            html = render(group, context)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        timings = context["timings"]
        deps.set_clock(lambda: datetime.now(UTC))
        return {"seed_s": round(seeded, 1), "page_wall_s": round(wall, 3), "page_cpu_s": round(cpu, 3),
                "reads_wall_s": round(timings.reads, 3), "build_wall_s": round(timings.build, 3),
                "calls": dict(sorted(trips.calls.items())), "html_bytes": len(html.encode()),
                "nodes": len(context["network"].nodes)}


# The reads before the projection (commit 50ed606, 2026-12-01 22:24 UTC, the same data and machine, pinned to one core)
DDB_BEFORE = ("Before the projection (50ed606, whole items, 500 a Query): reads 9.09 s wall, Query 56, the page 6.90 s CPU"
              " and 10.02 s wall.")


# Before the caps (commit ef12d3b, the same generator and seed, measured 2026-12-01 19:23 UTC on this
# machine, one run each, pinned to one core): JSON and HTML bytes, the page's CPU seconds.
BEFORE = {(5000, 20000): (3_301_685, 823_826, 1.34), (20000, 80000): (12_919_583, 3_003_472, 5.01),
          (20000, 20000): (5_391_492, 2_125_536, 2.64)}


BYTES_BEFORE = (
    "- Where the bytes went before the caps (ef12d3b, 5,000 members): GET /network's edges 2.53 MB of 3.30 MB "
    "(~120 bytes each, 20,413 of them), nodes 0.77 MB (~155 bytes each); the page's SVG 0.79 MB of 0.82 MB: "
    "circles with a name title 0.40 MB (~80 bytes each), lines 0.33 MB (~16 bytes each); the never-met list "
    "~115 bytes of HTML and ~65 of JSON a member, all of them listed (2,568 at 20,000 members with 20,000 lunches: "
    "0.29 MB of HTML). All grew with the group: nothing was capped.")


def markdown(p: dict[str, Any], d: dict[str, Any] | None, command: str,
             sizes: list[dict[str, Any]] | None = None, worst: dict[str, Any] | None = None) -> list[str]:
    import os
    import platform

    from bench.run_all import machine
    from chalicelib import network
    from chalicelib.services import insights

    info = machine()
    load = "{:.1f}, {:.1f}, {:.1f}".format(*os.getloadavg())
    build, page = p["build"]["cpu_s"], p["page"]["cpu_s"]
    t = p["totals"]
    lines = [
        "## Network page (issue 13)", "",
        f"- Machine: {info['machine']}",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M UTC}; commit {info['commit']}; load average at end {load}"
        " (the machine is shared with other engineers' test runs: CPU seconds below, not wall)",
        f"- Command: `{command}`", "",
        f"`bench/network.py`: {p['members']:,} members, {p['lunches']:,} lunches that happened (cities of 250, "
        f"85% of lunches within a city) and {p['intros']:,} introductions (two thirds accepted: intro edges, drawn "
        "dashed), generated with a fixed seed. Times are CPU seconds of this one process "
        f"(one core; Python {platform.python_version()}); the page is the console's own render of "
        "templates/console/insights.html.", "",
        f"Caps (chalicelib/network.py): the picture and GET /network's `nodes`/`edges` hold at most "
        f"{network.DRAWN_NODES:,} members (the connectors and up to {network.AROUND_CONNECTOR} partners of each, then whoever is "
        "linked to the most already drawn) and "
        f"{network.DRAWN_EDGES:,} links between them (most lunches first); GET /network lists the first "
        f"{network.NEVER_MET_LISTED:,} never-met members (all: GET /network/never-met, a page at a time), the page "
        f"{insights.NEVER_MET_PAGE} at a time; `truncated` and `totals` say what was left out. Connectors and "
        "never-met are of the whole group.", "",
        "| step | CPU | wall |", "| --- | --- | --- |",
        *[f"| {name.replace('_', ' ')} | {p[name]['cpu_s']:.3f} s | {p[name]['wall_s']:.3f} s |"
          for name in ("meetings", "introductions", "betweenness", "layout", "build", "svg", "page_without_intros",
                       "page") if name in p],
        "",
        f"(layout: of the {p['nodes']:,} drawn members only, inside build; build = betweenness of the whole graph,"
        " the choice of who is drawn, and the layout.)", "",
        f"- Graph: {t['nodes']:,} members who met someone, {t['lunch_pairs']:,} lunch pairs and {t['intros']:,} "
        f"accepted introductions; drawn {p['nodes']:,} members, {p['edges']:,} lunch links and {p['intro_edges']:,}"
        f" introductions; {p['never_met']:,} never met; betweenness "
        f"{'estimated from 200 sources' if p['sampled'] else 'exact'}; connectors: {', '.join(p['connectors'])}",
    ]
    before = BEFORE.get((p["members"], p["lunches"]))
    was = (f" (before the caps: {before[2]:.2f} s CPU, {before[1] / MB:.2f} MB of HTML, {before[0] / MB:.2f} MB of JSON)"
           if before else "")
    lines += [
        f"- Budget: page build (reads apart) <= 2 s on one core: **{page:.2f} s CPU** "
        f"({'met' if page <= 2 else '**not met**'}); of it the network build {build:.2f} s{was}",
        f"- Budget: HTML <= 1.5 MB: **{p['html_bytes'] / MB:.2f} MB** ({'met' if p['html_bytes'] <= 1.5 * MB else '**not met**'});"
        f" the network SVG is {p['svg_bytes'] / MB:.2f} MB of it",
        f"- GET /network: **{p['json_bytes'] / MB:.2f} MB** (truncated: {str(p['truncated']).lower()}); "
        + ", ".join(f"{k} {v / 1000:,.0f} KB" for k, v in p["json_parts"].items() if v >= 1000),
    ]
    lines.append(BYTES_BEFORE)
    if sizes:
        lines += ["", "Bytes by size (same generator; before = commit ef12d3b, where measured):", "",
                  "| members | lunches | met someone | never met | drawn | page CPU | HTML | GET /network |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for r in [p, *sizes]:
            b = BEFORE.get((r["members"], r["lunches"]))
            def was_(i: int, unit: str, scale: float, b: Any = b) -> str:
                return f" (before {b[i] / scale:.2f} {unit})" if b else ""
            lines.append(
                f"| {r['members']:,} | {r['lunches']:,} | {r['totals']['nodes']:,} | {r['never_met']:,} | "
                f"{r['nodes']:,} members, {r['edges'] + r['intro_edges']:,} links | "
                f"{r['page']['cpu_s']:.2f} s{was_(2, 's', 1)} | {r['html_bytes'] / MB:.2f} MB{was_(1, 'MB', MB)} | "
                f"{r['json_bytes'] / MB:.2f} MB{was_(0, 'MB', MB)} |")
    if worst:
        lines += ["", f"- The largest answers the caps allow (every name 200 characters, the most a name may have, of the"
                  f" heaviest kind; {worst['nodes']:,} members and {worst['edges']:,} links drawn, {worst['never_met']:,}"
                  f" never-met listed): GET /network **{worst['json_bytes'] / MB:.2f} MB** (names of '𝔄', 4 bytes each: "
                  + ", ".join(f"{k} {v / 1000:,.0f} KB" for k, v in worst["json_parts"].items() if v >= 1000)
                  + f"), under Lambda's 6 MB whatever the group's size; the page **{worst['html_bytes'] / MB:.2f} MB**"
                  " (names of '\"', escaped to 5-6 bytes; hover titles keep 60 characters of a name)."]
    if d:
        calls = ", ".join(f"{k} {v}" for k, v in d["calls"].items())
        lines += [
            f"- On DynamoDB Local (same data, written in {d['seed_s']} s first): the page took {d['page_wall_s']:.2f} s wall,"
            f" {d['page_cpu_s']:.2f} s CPU; DynamoDB reads {d['reads_wall_s']:.2f} s wall ({calls}; no Scan), the graph build"
            f" {d['build_wall_s']:.2f} s; {d['html_bytes'] / MB:.2f} MB of HTML. {DDB_BEFORE}"
            " The reads are members without their lunch preferences and pairs without their reasons, score and slot"
            " (a projection: up to 2,000 items a Query, 1 MB still caps a page), plus the group's rounds, past meetups"
            " and introductions (one Query, none written here)."
            " DynamoDB Local is started by this process and so shares its one core (taskset); most of the reads' CPU"
            " is this process turning 25,000 items into models (botocore parsing, pydantic): 20,000 pairs cost 2.8 s"
            " CPU to deserialize even when projected. What is left would take a snapshot of the network built after"
            " each round, read in one item.",
        ]
    else:
        lines.append("- DynamoDB Local: not run this time (`--ddb`).")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--lunches", type=int, default=20000)
    parser.add_argument("--intros", type=int, default=1000, help="introductions, two thirds accepted")
    parser.add_argument("--ddb", action="store_true", help="also the reads on DynamoDB Local")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write", action="store_true", help="write the network section of bench/RESULTS.md")
    parser.add_argument("--sizes", action="store_true",
                        help="also bytes and CPU at 20,000 members (80,000 and 20,000 lunches), 100,000 members"
                             " (40,000 lunches), and the largest answers the caps allow")
    args = parser.parse_args()
    import os

    os.environ.setdefault("SIGNING_SECRET", "bench-only-" + "x" * 40)
    os.environ.setdefault("BASE_URL", "https://lunch.example.test")
    os.environ.setdefault("SENDER_EMAIL", "lunch@powerlunch.example")
    p = pure(args.members, args.lunches, args.intros)
    sizes = [pure(m, n, args.intros, baseline=False) for m, n in ((20000, 80000), (20000, 20000), (100000, 40000))] \
        if args.sizes else None
    worst = largest(args.intros) if args.sizes else None
    d = on_dynamodb_local(args.members, args.lunches) if args.ddb else None
    if args.json:
        print(json.dumps({"pure": p, "sizes": sizes, "largest": worst, "dynamodb_local": d}))
    command = ("taskset -c 0 .venv/bin/python -m bench.network" + (" --ddb" if args.ddb else "")
               + (" --sizes" if args.sizes else "") + " --write")
    lines = markdown(p, d, command, sizes, worst)
    print("\n".join(lines))
    if args.write:
        from bench.run_all import write_section

        write_section("network", lines)


if __name__ == "__main__":
    main()
