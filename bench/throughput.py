"""RSVP throughput on DynamoDB Local: members answering through the service layer
(`chalicelib.services.rsvp.answer`, the call the POST /rsvp/{token} route makes) at 1, 8 and 32
at once, beside a plain PutItem loop at the same concurrency on the same DynamoDB Local in the
same run (the baseline: what the engine and the client do with no rules, no transaction).

    .venv/bin/python -m bench.throughput [--endpoint http://127.0.0.1:PORT] [--quick]

Every answer of a run is for one meetup (so they contend on its counters, as on a popular
link); each member answers once, "going". One more run has capacity below demand, so half the
answers take the waitlist path. Outbox: WORK_MODE=sqs with `workers.send_many` replaced
by a counter, so the confirmation email is recorded in the outbox (in the request, as in AWS)
and not delivered (the mail worker's job). All threads share the app's one boto3 client
(botocore's default pool of 10 connections), and so does the baseline.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.appenv import app_table  # noqa: E402
from bench.roundtrips import RoundTrips  # noqa: E402

CONCURRENCY = (1, 8, 32)
ANSWERS = {1: 100, 8: 400, 32: 640}
QUICK = {1: 20, 8: 80, 32: 96}


@dataclass
class Run:
    """One concurrency level of one workload."""

    workload: str
    concurrency: int
    count: int
    seconds: float
    latencies_ms: list[float]
    transactions: int = 0
    outcome: str = ""

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def p99(self) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, max(0, round(0.99 * len(ordered)) - 1))]


def _run_threads(concurrency: int, jobs: list[Any], work: Callable[[Any], object]) -> tuple[float, list[float]]:
    """Run `work` on every job with `concurrency` threads; answers (wall seconds, latencies ms)."""
    lock = threading.Lock()
    pending = list(reversed(jobs))
    latencies: list[float] = []
    failures: list[BaseException] = []
    start = threading.Barrier(concurrency + 1)

    def worker() -> None:
        start.wait()
        while True:
            with lock:
                if not pending:
                    return
                job = pending.pop()
            began = time.perf_counter()
            try:
                work(job)
            except BaseException as exc:  # reported after the run
                failures.append(exc)
                return
            elapsed = (time.perf_counter() - began) * 1000
            with lock:
                latencies.append(elapsed)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"{len(failures)} of {len(jobs)} failed") from failures[0]
    return seconds, latencies


def _answers(concurrency: int, count: int, capacity: int, group_id: str, member_ids: list[str]) -> Run:
    from chalicelib import deps
    from chalicelib.models import MeetupIn, RsvpAnswer
    from chalicelib.services import meetups, rsvp
    from chalicelib.tokens import Claims

    starts = datetime.now(UTC) + timedelta(days=30)
    meetup = meetups.create_meetup(group_id, MeetupIn.model_validate({
        "title": "Founders' breakfast", "starts_at": starts, "ends_at": starts + timedelta(hours=2),
        "timezone": "Europe/Lisbon", "venue": {"name": "Café Tati", "address": "Rua da Ribeira Nova 36"},
        "capacity": capacity}))
    claims = [Claims(purpose="rsvp", group_id=group_id, member_id=m, resource_id=meetup.meetup_id,
                     expires_at=starts + timedelta(days=1)) for m in member_ids[:count]]
    going = RsvpAnswer(status="going", guests=0)
    with RoundTrips(deps.dynamodb_client()) as trips:
        seconds, latencies = _run_threads(concurrency, claims, lambda c: rsvp.answer(c, going))
    after = meetups.get_meetup(group_id, meetup.meetup_id)
    workload = "RSVP answer (service layer)" if capacity >= count else f"RSVP answer, capacity {capacity}"
    outcome = f"{after.going_seats} going, {after.waitlist_count} waitlisted"
    assert after.going_seats == min(count, capacity), outcome
    return Run(workload, concurrency, count, seconds, latencies, trips.calls["TransactWriteItems"], outcome)


def _puts(concurrency: int, count: int, table: str) -> Run:
    from chalicelib import deps

    client = deps.dynamodb_client()
    run = uuid.uuid4().hex[:8]

    def put(i: int) -> None:
        client.put_item(TableName=table, Item={
            "PK": {"S": f"BENCH#{run}"}, "SK": {"S": f"ITEM#{i:06d}"}, "type": {"S": "bench"},
            "status": {"S": "going"}, "guests": {"N": "0"}, "answered_at": {"S": datetime.now(UTC).isoformat()}})

    seconds, latencies = _run_threads(concurrency, list(range(count)), put)
    return Run("PutItem loop (baseline)", concurrency, count, seconds, latencies)


def measure(endpoint: str, *, quick: bool = False) -> dict[str, Any]:
    """All runs against DynamoDB Local at `endpoint`, on a fresh table."""
    import tempfile

    from chalicelib import deps, workers
    from chalicelib.models import GroupIn, MemberIn
    from chalicelib.services import groups, members
    from chalicelib.store import schema

    sizes = QUICK if quick else ANSWERS
    dispatched: list[str] = []
    real_send_many = workers.send_many
    with tempfile.TemporaryDirectory() as tmp, app_table(endpoint, Path(tmp), "powerlunch-bench") as table:
        workers.send_many = lambda kind, many, **_: dispatched.extend([kind] * len(many)) or len(many)  # type: ignore[assignment,unused-ignore]
        try:
            schema.create_table(deps.dynamodb_client(), table)
            group, _ = groups.create_group(GroupIn(name="Lisbon Founders", timezone="Europe/Lisbon",
                                                   sender_name="Lisbon Founders"))
            needed = max(sizes.values())
            ids: list[str] = []
            for start in range(0, needed, 500):
                created, _ = members.add_members(group.group_id, [
                    MemberIn(email=f"b{i}@example.com", name=f"Bench Member {i}")
                    for i in range(start, min(needed, start + 500))])
                ids += [m.member_id for m in created]
            _answers(1, 3, 10, group.group_id, ids)  # warm up: templates, clients, connections
            runs: list[Run] = []
            for c in CONCURRENCY:
                n = sizes[c]
                runs.append(_answers(c, n, n + 10, group.group_id, ids))
                runs.append(_puts(c, n, table))
            n = sizes[32]
            runs.append(_answers(32, n, n // 2, group.group_id, ids))
        finally:
            workers.send_many = real_send_many  # type: ignore[assignment,unused-ignore]
    return {"runs": runs, "mail_dispatches": len(dispatched), "table": table}


def table_rows(runs: list[Run]) -> list[str]:
    lines = ["| workload | concurrency | answers | answers/s | p50 ms | p99 ms | transactions (retries) | result |",
             "|---|---|---|---|---|---|---|---|"]
    for r in runs:
        tx = f"{r.transactions} ({r.transactions - r.count:+d})" if r.transactions else "—"
        lines.append(f"| {r.workload} | {r.concurrency} | {r.count} | {r.per_second:,.1f} | {r.p50:.1f} | "
                     f"{r.p99:.1f} | {tx} | {r.outcome or '—'} |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--endpoint", help="a running DynamoDB Local (default: start one)")
    parser.add_argument("--quick", action="store_true", help="fewer answers per run")
    args = parser.parse_args()
    if args.endpoint:
        result = measure(args.endpoint, quick=args.quick)
    else:
        from scripts.dynamodb_local import DynamoDBLocal

        with DynamoDBLocal() as server:
            result = measure(server.endpoint_url, quick=args.quick)
    print("\n".join(table_rows(result["runs"])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
