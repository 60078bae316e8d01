"""`make bench`: every benchmark of issue 6 in one run, each beside its baseline, written into
bench/RESULTS.md (each section rewritten in place between its markers, others kept).

    .venv/bin/python -m bench.run_all [--skip pairing,package] [--quick]

Order: pairing (its own CLI, which writes its own section), cold start, round trips and RSVP
throughput (on one DynamoDB Local this starts), package size. Timing-sensitive steps run one
after another, never beside each other.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "RESULTS.md"
HEADER = "# Benchmark results\n\nWritten by `make bench` (`.venv/bin/python -m bench.run_all`); every figure beside its baseline.\n"
COMMAND = "make bench (.venv/bin/python -m bench.run_all)"
PAIRING_ARGS = ["--no-stretch"]  # 2,000 and 20,000 members; 100,000 (stretch) does not fit 10 minutes
MIB = 2**20


# ---------------------------------------------------------------- machine and sections


def machine() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line),
                 platform.processor() or "unknown CPU")
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    mem_kb = next((int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal")), 0)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True, check=False).stdout.strip() or "unknown"
    # The results file itself does not count: this run is rewriting it.
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                            ":!bench/RESULTS.md"], cwd=ROOT,
                           capture_output=True, text=True, check=False).stdout.strip()
    return {
        "machine": f"{model}, {os.cpu_count()} cores, {mem_kb / 2**20:.0f} GiB RAM; Python {platform.python_version()}",
        "commit": commit + (" (with uncommitted changes in the tree)" if dirty else ""),
    }


def stamp(info: dict[str, str]) -> list[str]:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = "{:.1f}, {:.1f}, {:.1f}".format(*os.getloadavg())
    return [f"- Machine: {info['machine']}",
            f"- Date: {now}; commit {info['commit']}; load average at start {load} (the machine is shared"
            " with other engineers' test runs)",
            f"- Command: `{COMMAND}`"]


def write_section(name: str, body: list[str], *, top: bool = False) -> None:
    """Replace the text between `<!-- name:start -->` and `<!-- name:end -->`, or add it (at the
    top, under the header, when `top`)."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = "\n".join([start, *body, end])
    current = RESULTS.read_text() if RESULTS.exists() else HEADER
    if start in current and end in current:
        before, rest = current.split(start, 1)
        current = before + text + rest.split(end, 1)[1]
    elif top:
        lines = current.split("\n")
        head = 1
        while head < len(lines) and not lines[head].startswith("<!--"):
            head += 1
        current = "\n".join(lines[:head]).rstrip("\n") + "\n\n" + text + "\n\n" + "\n".join(lines[head:]).lstrip("\n")
    else:
        current = current.rstrip("\n") + "\n\n" + text + "\n"
    RESULTS.write_text(current.rstrip("\n") + "\n")


def section_text(name: str) -> str:
    current = RESULTS.read_text() if RESULTS.exists() else ""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if start not in current:
        return ""
    return current.split(start, 1)[1].split(end, 1)[0]


# ---------------------------------------------------------------- the steps


def run_pairing(quick: bool) -> dict[str, Any]:
    args = ["--quick"] if quick else PAIRING_ARGS
    run = subprocess.run([sys.executable, "-m", "bench.pairing", *args], cwd=ROOT, check=False,
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"bench.pairing failed:\n{run.stderr[-3000:]}")
    # the families (issue 15) take ~15 minutes: `python -m bench.pairing --families` records them apart;
    # their last verdicts are reported here beside this run's
    text = section_text("pairing") + section_text("pairing-families")
    verdicts = re.findall(r"^- ([\d,]+: .+?): (met|\*\*not met\*\*) \((.+)\)$", text, re.M)
    return {"args": args, "verdicts": verdicts}


def run_coldstart(runs: int) -> dict[str, Any]:
    from bench import coldstart

    result = dict(coldstart.measure(runs))
    result["heaviest"] = heaviest_imports()
    return result


def heaviest_imports(count: int = 10) -> list[tuple[str, float]]:
    """The imports under `import app` with the largest cumulative time (one -X importtime run;
    nested: a module's figure includes what it imports)."""
    run = subprocess.run([sys.executable, "-X", "importtime", "-c", "import app"], cwd=ROOT,
                         capture_output=True, text=True, check=False)
    found: list[tuple[str, float]] = []
    for line in run.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            found.append((parts[2].rstrip(), int(parts[1]) / 1000))
    return sorted(found, key=lambda item: -item[1])[:count]


def run_fanout(quick: bool) -> dict[str, Any]:
    """bench/fanout.py in fresh processes (moto's mocks stay out of this one): a big invitation
    at a high send rate, then a small one paced at 14 a second."""
    def one(members: int, rate: float) -> dict[str, Any]:
        run = subprocess.run([sys.executable, "-m", "bench.fanout", "--members", str(members), "--rate", str(rate),
                              "--json"], cwd=ROOT, check=False, capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(f"bench.fanout failed:\n{run.stderr[-3000:]}")
        last = [line for line in run.stdout.splitlines() if line.startswith('{"members"')][-1]
        return dict(json.loads(last))

    baseline = json.loads((ROOT / "bench" / "fanout_baseline.json").read_text())
    return {"big": one(1000 if quick else 10_000, 1000.0), "paced": one(140 if quick else 420, 14.0),
            "baseline": baseline}


def fanout_section(info: dict[str, str], r: dict[str, Any]) -> list[str]:
    big, paced, base = r["big"], r["paced"], r["baseline"]
    b = base["big"]
    return ["## Fan-out: invite everyone", "", *stamp(info), "",
            "`bench/fanout.py`: POST .../meetups/{id}/invitations with `{}` through `chalice.test.Client`,"
            " the table on DynamoDB Local, SQS and SES on moto in the same process, every queue then drained"
            " through the app's own handlers (a stand-in for Lambda's poller, mail first). Calls are the app's"
            " own (botocore hooks on its clients; the poller's receives and deletes are Lambda's, not"
            " counted). The send rate is what GetSendQuota answers. Baseline: the same file run on the code"
            f" before the worker map ({base['commit']}, {base['date']}), where the request recorded and"
            f" queued every mail itself: {base['note']}", "",
            "| figure | now | baseline | budget |", "|---|---|---|---|",
            f"| members invited | {big['members']:,} | {b['members']:,} | |",
            f"| the request | {big['request_s']:.2f} s | {b['request_s']:.1f} s | ≤ 1 s: "
            f"{'met' if big['request_s'] <= 1 else '**not met**'} |",
            f"| SQS messages sent by the request | {big['request_calls'].get('sqs.SendMessageBatch', 0)} batch"
            f" | {b['request_sqs_messages']:,} | |",
            f"| time to the last delivery | {big['last_delivery_s']:.0f} s ({big['members']:,} mails) |"
            f" {b['last_delivery_s']:.0f} s ({b['delivered_members']:,} mails) | reported |",
            f"| every mail recorded and delivered exactly once | {'yes' if big['exactly_once'] else '**no**'}"
            f" ({big['sent']:,}) | {'yes' if b['exactly_once'] else 'no'} ({b['sent']:,}) | yes |",
            f"| SQS calls per mail | {big['sqs_calls_per_mail']:.3f} | {b['sqs_calls_per_mail']:.3f} | ≤ 0.15: "
            f"{'met' if big['sqs_calls_per_mail'] <= 0.15 else '**not met**'} |",
            f"| DynamoDB calls per mail | {big['dynamodb_calls_per_mail']:.2f} | {b['dynamodb_calls_per_mail']:.2f}"
            f" | ≤ 3: {'met' if big['dynamodb_calls_per_mail'] <= 3 else '**not met**'} |",
            f"| most sends in any 1-second window, rate set to 14/s ({paced['members']} mails) |"
            f" {paced['max_sends_in_any_second']} | {base['paced']['max_sends_in_any_second']} (no pacing) |"
            f" ≤ 14: {'met' if paced['max_sends_in_any_second'] <= 14 else '**not met**'} |", "",
            "Calls by operation, now: " + ", ".join(f"{k} {v:,}" for k, v in sorted(big["calls"].items())) + ".",
            "Baseline: " + ", ".join(f"{k} {v:,}" for k, v in sorted(b["calls"].items())) + "."]


def coldstart_section(info: dict[str, str], r: dict[str, Any]) -> list[str]:
    return ["## Cold start", "", *stamp(info), "",
            f"Median time to `import app` in a fresh interpreter, {r['runs']} runs each, interleaved with a bare"
            " Chalice hello-world (the baseline) so machine load hits both alike (`bench/coldstart.py`).", "",
            "| figure | measured | baseline / budget |", "|---|---|---|",
            f"| import time, median | {r['app_ms']} ms | hello-world {r['hello_ms']} ms |",
            f"| ratio | {r['ratio']}x | ≤ {r['budget']}x: {'met' if r['ratio'] <= r['budget'] else '**not met**'} |",
            f"| heavy modules loaded at import | {r['heavy_loaded_at_import']} | none of numpy, rustworkx, jinja2,"
            " icalendar (pydantic and boto3 are listed when loaded) |", "",
            "Where the time goes (`python -X importtime -c 'import app'`, one run, cumulative ms, nested):", "",
            "```", *[f"{ms:8.1f}  {name}" for name, ms in r["heaviest"]], "```", "",
            "Note: the app's first DynamoDB call imports boto3 anyway (deps builds the client), and the"
            " hello-world baseline never does, so part of this gap moves to the first request rather than"
            " disappearing if the import is deferred."]


def roundtrip_section(info: dict[str, str], figures: dict[str, Any], budgets: list[Any]) -> list[str]:
    lines = ["## DynamoDB round trips per request", "", *stamp(info), "",
             "API calls on the app's one DynamoDB client (`deps.dynamodb_client()`), counted with botocore's"
             " `before-call` hook (retries are not separate calls; `before-send` counts HTTP attempts, shown)."
             " Requests through `chalice.test.Client` on DynamoDB Local, WORK_MODE=sqs with `workers.send_many`"
             " recording the SQS messages: mail delivery (and the pairing round) is the worker's, counted as its"
             " own figure. Baseline: the budget (the fewest trips the design allows). Asserted in"
             " `tests/integration/test_round_trips.py`.", "",
             "| request | DynamoDB calls | by operation | items written | SQS messages | HTTP attempts | what |",
             "|---|---|---|---|---|---|---|"]
    for f in figures.values():
        items = ", ".join(f"{op} {n:,}" for op, n in sorted(f.items.items())) or "—"
        sqs = ", ".join(f"{k} {v:,}" for k, v in f.sqs.items()) or "—"
        lines.append(f"| {f.name} | {f.total:,} | {f.by_op()} | {items} | {sqs} | {f.attempts:,} | {f.note} |")
    lines += ["", "| budget | measured | met? |", "|---|---|---|"]
    lines += [f"| {b.name}: {b.budget} | {b.measured} | {'met' if b.met else '**not met**'} |" for b in budgets]
    return lines


def throughput_section(info: dict[str, str], result: dict[str, Any]) -> list[str]:
    from bench import throughput

    return ["## RSVP throughput on DynamoDB Local", "", *stamp(info), "",
            "Members answering \"going\" through `chalicelib.services.rsvp.answer` (what POST /rsvp/{token} calls)"
            " from 1, 8 and 32 threads, all for one meetup (they contend on its counters), on a fresh table;"
            " beside the baseline, a plain PutItem loop at the same concurrency on the same DynamoDB Local"
            " in the same run. Outbox: WORK_MODE=sqs with `workers.send_many` replaced by a counter, so"
            " each answer records its confirmation email in its transaction and nothing is delivered"
            f" ({result['mail_dispatches']:,} dispatches counted). One shared boto3 client (pool of 10"
            " connections) for both. Latency is per call, wall clock; CPU (rendering the email and .ics,"
            " pydantic) runs under the GIL on 2 cores beside DynamoDB Local's JVM. Transactions are the"
            " TransactWriteItems calls counted on the client: those beyond one per answer are lost races on the"
            " meetup's counters, re-read and decided again.", "",
            *throughput.table_rows(result["runs"])]


def package_section(info: dict[str, str], result: dict[str, Any]) -> list[str]:
    from bench import package_size

    met = "met" if result["met"] else "**not met**"
    return ["## Lambda package size", "", *stamp(info), "",
            f"`bash scripts/package.sh prod <tmpdir>` (took {result['seconds']} s): the function zip plus the"
            " automatic dependency layer (boto3 left out: the runtime has it). Baseline: the budget,"
            f" ≤ {result['budget_mb']:.0f} MB zipped: {met}.", "",
            *package_size.render_rows(result)]


def budgets_section(info: dict[str, str], rows: list[tuple[str, str, str, str]]) -> list[str]:
    return ["## Budgets", "", *stamp(info), "",
            "| budget | measured | met? | note |", "|---|---|---|---|",
            *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--skip", default="", help="comma-separated: fanout,pairing,coldstart,roundtrips,throughput,package")
    parser.add_argument("--quick", action="store_true", help="smaller runs (not for RESULTS.md of record)")
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    began = time.perf_counter()
    info = machine()
    rows: list[tuple[str, str, str, str]] = []
    timings: list[str] = []

    def step(name: str, work: Callable[[], Any]) -> Any:
        if name in skip:
            return None
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        result = work()
        timings.append(f"{name} {time.perf_counter() - started:.0f} s")
        return result

    fanout = step("fanout", lambda: run_fanout(args.quick))
    if fanout is not None:
        write_section("fanout", fanout_section(info, fanout))
        big, paced = fanout["big"], fanout["paced"]
        rows += [(f"fan-out: inviting {big['members']:,}, the request ≤ 1 s", f"{big['request_s']:.2f} s",
                  "met" if big["request_s"] <= 1 else "**not met**", ""),
                 ("fan-out: ≤ 0.15 SQS and ≤ 3 DynamoDB calls per mail",
                  f"{big['sqs_calls_per_mail']:.3f} and {big['dynamodb_calls_per_mail']:.2f}",
                  "met" if big["sqs_calls_per_mail"] <= 0.15 and big["dynamodb_calls_per_mail"] <= 3 else "**not met**", ""),
                 ("fan-out: never above 14 sends in any second at 14/s", str(paced["max_sends_in_any_second"]),
                  "met" if paced["max_sends_in_any_second"] <= 14 else "**not met**", "")]

    pairing = step("pairing", lambda: run_pairing(args.quick))
    if pairing is not None:
        for what, verdict, value in pairing["verdicts"]:
            rows.append((f"pairing {what}", value, "met" if verdict == "met" else "**not met**", ""))

    cold = step("coldstart", lambda: run_coldstart(5 if args.quick else 20))
    if cold is not None:
        write_section("coldstart", coldstart_section(info, cold))
        rows.append((f"cold start ≤ {cold['budget']}x a bare Chalice app",
                     f"{cold['app_ms']} ms vs {cold['hello_ms']} ms = {cold['ratio']}x",
                     "met" if cold["ratio"] <= cold["budget"] else "**not met**",
                     "" if cold["ratio"] <= cold["budget"] else
                     f"budget allows {cold['budget'] * cold['hello_ms']:.0f} ms; {cold['app_ms'] - cold['budget'] * cold['hello_ms']:.0f} ms"
                     " over. What is left is pydantic and boto3, which every request needs: deferring them"
                     " past import only moves the time to the first request (and out of Lambda's init,"
                     " where it belongs). numpy/rustworkx, Jinja2 and icalendar already load on first use"))

    if not {"roundtrips", "throughput"} <= skip:
        from bench import roundtrips, throughput
        from scripts.dynamodb_local import DynamoDBLocal

        with DynamoDBLocal() as server:
            figures = step("roundtrips", lambda: roundtrips.measure(server.endpoint_url))
            if figures is not None:
                checks = roundtrips.budgets(figures)
                write_section("roundtrips", roundtrip_section(info, figures, checks))
                rows += [(f"round trips: {b.name}: {b.budget}", b.measured, "met" if b.met else "**not met**",
                          "" if b.met else roundtrips.CLOSE.get(b.name, "")) for b in checks]
            result = step("throughput", lambda: throughput.measure(server.endpoint_url, quick=args.quick))
            if result is not None:
                write_section("throughput", throughput_section(info, result))
                by = {(r.workload, r.concurrency): r for r in result["runs"]}
                for c in throughput.CONCURRENCY:
                    answer, put = by[("RSVP answer (service layer)", c)], by[("PutItem loop (baseline)", c)]
                    rows.append((f"RSVP answers at {c} concurrent (no budget; baseline PutItem loop)",
                                 f"{answer.per_second:,.0f}/s, p50 {answer.p50:.0f} ms, p99 {answer.p99:.0f} ms vs"
                                 f" PutItem {put.per_second:,.0f}/s, p99 {put.p99:.0f} ms", "—", ""))

    package = step("package", lambda: __import__("bench.package_size", fromlist=["measure"]).measure())
    if package is not None:
        write_section("package", package_section(info, package))
        rows.append((f"package ≤ {package['budget_mb']:.0f} MB zipped",
                     f"{package['zipped'] / 10**6:.1f} MB ({package['zipped'] / MIB:.1f} MiB)",
                     "met" if package["met"] else "**not met**", ""))

    total = time.perf_counter() - began
    body = budgets_section(info, rows)
    body += ["", f"`make bench` took {total / 60:.1f} minutes ({'; '.join(timings)})."]
    if args.quick:
        body.append("Quick mode: smaller runs, not the figures of record.")
    write_section("budgets", body, top=True)
    print("\n".join(body))
    print(f"\nwrote {RESULTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
