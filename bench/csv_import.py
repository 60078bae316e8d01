"""CSV import bench (issue 13): a 5,000-row file on DynamoDB Local, through the code the console
runs. The request checks the file and stores its rows in pages; the jobs worker creates one page
of members per message. Reports the request and each worker message apart (wall, CPU,
DynamoDB calls) and the largest item written, which must stay under DynamoDB's 400 KB.

    .venv/bin/python -m bench.csv_import [--rows 5000] [--bad 50] [--endpoint URL] [--json]

SQS is a recorder (WORK_MODE=sqs, `workers.send_many` replaced): the bench runs each recorded
jobs message itself, as the jobs worker would, one at a time.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.appenv import on_dynamodb_local  # noqa: E402


def csv_text(rows: int, bad: int) -> str:
    """`rows` rows with a headline each; every (rows // bad)-th has no valid address."""
    every = max(1, rows // bad) if bad else rows + 1
    lines = ["email,name,headline,timezone"]
    for i in range(rows):
        email = f"person{i}-at-example.com" if (i + 1) % every == 0 else f"person{i}@example.com"
        lines.append(f'{email},"Person {i}, Jr",Builds things at company number {i} and likes long lunches,'
                     "Europe/Lisbon")
    return "\n".join(lines) + "\n"


def run(endpoint: str, rows: int, bad: int) -> dict[str, Any]:
    from bench.appenv import app_table
    from bench.roundtrips import Queues, measured
    from chalicelib import deps, workers
    from chalicelib.models import GroupIn
    from chalicelib.services import groups, imports
    from chalicelib.store import schema

    text = csv_text(rows, bad)
    tmp = Path(tempfile.mkdtemp(prefix="csv-import-"))
    with app_table(endpoint, tmp / "outbox", "powerlunch-import") as table:
        queues = Queues()
        real_send_many = workers.send_many
        workers.send_many = queues.send_many  # type: ignore[assignment]
        try:
            schema.create_table(deps.dynamodb_client(), table)
            group, _ = groups.create_group(GroupIn(name="Bench", timezone="Europe/Lisbon", sender_name="Bench",
                                                   reply_to="organizer@example.com"))
            request = measured(lambda: imports.start_import(group.group_id, text))
            job = request.pop("result")
            sizes = [len(json.dumps(item)) for item in deps.dynamodb_client().query(
                TableName=table, KeyConditionExpression="PK = :pk AND begins_with(SK, :sk)",
                ExpressionAttributeValues={":pk": {"S": f"GROUP#{group.group_id}"},
                                           ":sk": {"S": f"IMPORT#{job.job_id}#"}})["Items"]]
            pages: list[dict[str, Any]] = []
            while queues.messages["jobs"]:
                [body] = queues.drain("jobs")
                pages.append(measured(lambda b=body: workers.run([b])))  # type: ignore[misc]
            done = deps.store().jobs.require(group.group_id, job.job_id)
        finally:
            workers.send_many = real_send_many  # type: ignore[assignment]
    slowest = max(pages, key=lambda p: p["wall_s"])
    return {"rows": rows, "bad": bad, "file_bytes": len(text.encode()), "request": request,
            "pages": len(pages), "page_size": imports.PAGE_SIZE, "slowest_page": slowest,
            "worker_wall_s": round(sum(p["wall_s"] for p in pages), 1),
            "largest_item_bytes": max(sizes), "status": done.status, "created": done.created,
            "problems": done.problems}


def markdown(result: dict[str, Any]) -> list[str]:
    r, s = result["request"], result["slowest_page"]
    return [
        "| figure | measured |", "| --- | --- |",
        f"| file | {result['rows']:,} rows ({result['bad']} bad), {result['file_bytes'] / 1e6:.2f} MB |",
        f"| the request (check, store pages, start the job) | {r['wall_s']} s wall, {r['cpu_s']} s CPU, "
        f"{r['calls']} DynamoDB calls |",
        f"| jobs-worker messages | {result['pages']} of {result['page_size']} rows |",
        f"| slowest message | {s['wall_s']} s wall, {s['cpu_s']} s CPU, {s['calls']} calls |",
        f"| all messages, one after another | {result['worker_wall_s']} s |",
        f"| largest item written | {result['largest_item_bytes'] / 1000:.0f} KB (limit 400 KB) |",
        f"| outcome | {result['status']}: {result['created']:,} created, {result['problems']} reported |",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--bad", type=int, default=50)
    parser.add_argument("--endpoint", help="a running DynamoDB Local (default: start one)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = on_dynamodb_local(args.endpoint, lambda endpoint: run(endpoint, args.rows, args.bad))
    print(json.dumps(result, indent=2) if args.json else "\n".join(markdown(result)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
