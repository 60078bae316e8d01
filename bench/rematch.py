"""Re-match bench (issue 11): a round of N members on DynamoDB Local, then D declines, then the
re-match of the D members they stranded, through the workers' own code. Counts the DynamoDB
calls each makes (botocore hooks on the app's client) and times them, so the re-match can be
read beside the full round: it must read only the round's pairs and the stranded members.

    .venv/bin/python -m bench.rematch [--members 20000] [--declines 200] [--endpoint URL] [--json]

SQS is a recorder (WORK_MODE=sqs, `workers.send_many` replaced), mail stays in the outbox.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.appenv import on_dynamodb_local  # noqa: E402

NOW = datetime(2026, 11, 3, 11, 0, tzinfo=UTC)  # a Tuesday, 11:00 in Lisbon


def _measured(name: str, work: Callable[[], Any]) -> dict[str, Any]:
    from bench.roundtrips import measured

    figures = measured(work)
    del figures["result"]
    return {"name": name, **figures}


def _seed(members: int) -> str:
    """A group, `members` members opted in (one city per 2,500, two lunch slots), a programme."""
    from chalicelib.models import GroupIn, LunchPrefsPatch, LunchProgramIn, MemberIn
    from chalicelib.services import groups, lunch
    from chalicelib.services import members as member_service

    group, _ = groups.create_group(GroupIn(name="Bench", timezone="Europe/Lisbon", sender_name="Bench",
                                           reply_to="organizer@example.com"))
    tags = ("climate", "fintech", "design", "ai", "health", "retail", "music", "sport")
    goals = ("find_job", "hiring", "mentor", "be_mentored", "give_intros", "learn", "meet_peers")
    for start in range(0, members, 500):
        member_service.add_members(group.group_id, [MemberIn(
            email=f"m{i}@example.com", name=f"Member {i}", lunch=LunchPrefsPatch(
                opted_in=True, city=f"City {i // 2500}", interests=[tags[i % 8], tags[(i * 3 + 1) % 8]],
                goals=[goals[i % 7]], availability=["tue-lunch", "thu-lunch"]))
            for i in range(start, min(members, start + 500))])
    lunch.put_program(group.group_id, LunchProgramIn(cadence="weekly", weekday="tue", odd_rule="sit_out"))
    return group.group_id


def run(endpoint: str, members: int, declines: int) -> dict[str, Any]:
    from bench.appenv import app_table
    from bench.roundtrips import Queues
    from chalicelib import deps, workers
    from chalicelib.services import pairing, pairs
    from chalicelib.store import schema

    tmp = Path(tempfile.mkdtemp(prefix="rematch-"))
    with app_table(endpoint, tmp / "outbox", "powerlunch-rematch") as table:
        queues = Queues()
        real_send_many = workers.send_many
        workers.send_many = queues.send_many  # type: ignore[assignment]
        deps.set_clock(lambda: NOW)
        try:
            schema.create_table(deps.dynamodb_client(), table)
            started = time.perf_counter()
            group_id = _seed(members)
            seeded = round(time.perf_counter() - started, 1)
            lunch_round = pairing.start_round_now(group_id)
            full = _measured(f"round of {members:,} members (pairing worker)",
                             lambda: pairing.run_round(group_id, lunch_round.round_id))
            store = deps.store()
            group = store.groups.require(group_id)
            round_pairs = store.lunch.pairs_of_round(group_id, lunch_round.round_id)
            # One member of each of `declines` pairs can't make it: their partners are stranded.
            for pair in round_pairs[:declines]:
                quitter = pair.member_ids[0]
                answered = store.lunch.respond_once(group_id, pair.pair_id, quitter, "declined")
                assert answered is not None
                people = {m.member_id: m for m in store.members.get_many(group_id, pair.member_ids)}
                pairs.decline(group, answered, quitter, people, deps.now())
            stranded = len(pairing.stranded(store.lunch.pairs_of_round(
                group_id, lunch_round.round_id)))
            made: list[Any] = []
            rematch = _measured(f"re-match of {stranded} stranded members (pairing worker)",
                                lambda: made.extend(pairing.rematch(group_id, lunch_round.round_id, deps.now())))
        finally:
            workers.send_many = real_send_many  # type: ignore[assignment]
            deps.set_clock(lambda: datetime.now(UTC))
    return {"members": members, "declines": declines, "stranded": stranded, "rematched_pairs": len(made),
            "seed_s": seeded, "round": full, "rematch": rematch}


def markdown(result: dict[str, Any]) -> list[str]:
    rows = ["| run | wall | CPU | DynamoDB calls | by operation | items written |", "| --- | --- | --- | --- | --- | --- |"]
    for key in ("round", "rematch"):
        f = result[key]
        ops = ", ".join(f"{op} {n}" for op, n in f["by_op"].items())
        items = ", ".join(f"{op} {n}" for op, n in f["items_written"].items()) or "—"
        rows.append(f"| {f['name']} | {f['wall_s']} s | {f['cpu_s']} s | {f['calls']} | {ops} | {items} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--declines", type=int, default=200)
    parser.add_argument("--endpoint", help="a running DynamoDB Local (default: start one)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = on_dynamodb_local(args.endpoint, lambda endpoint: run(endpoint, args.members, args.declines))
    print(json.dumps(result, indent=2) if args.json else "\n".join(markdown(result)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
