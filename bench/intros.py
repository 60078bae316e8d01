"""The introduce page's DynamoDB calls (issue 14: "the introduce page: <= 3 DynamoDB calls"), and
an offer's, on DynamoDB Local through the app's routes (chalice.test.Client), counted with
botocore hooks on the app's own client (bench/roundtrips.py `RoundTrips`).

    .venv/bin/python -m bench.intros [--endpoint URL] [--json]

For each size, one connector has had `lunches` lunches that happened (pairs both confirmed,
noted on their lunch record as a round does) and met `meetup` people at meetups (checked in,
noted on their intro record as a check-in does). Measured: GET /introduce/{token}, then POST
(offer two of them), then GET /offer/{token} for one of the two. SQS is a recorder (mail stays
recorded, not delivered), so the POST's figure is the request's own.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 11, 3, 11, 0, tzinfo=UTC)
SIZES = ((2, 10), (20, 30), (40, 58), (60, 100), (150, 400))  # (lunches, people met at meetups)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _seed(lunches: int, meetup: int) -> tuple[str, str, list[str]]:
    """A group, a connector, the people they met; answers (group_id, connector_id, met ids)."""
    from chalicelib import deps, ids
    from chalicelib.models import GroupIn, LunchPair, MemberIn
    from chalicelib.services import groups, members

    group, _ = groups.create_group(GroupIn(name="Lisbon Founders", timezone="Europe/Lisbon",
                                           sender_name="Lisbon Founders", reply_to="organizer@example.com"))
    gid = group.group_id
    people, _ = members.add_members(gid, [MemberIn(email=f"p{i}@example.com", name=f"Person {i}",
                                                headline=f"Role {i}") for i in range(1 + lunches + meetup)])
    everyone = [m.member_id for m in people]
    me, partners, met_at_meetups = everyone[0], everyone[1:1 + lunches], everyone[1 + lunches:]
    store = deps.store()
    for n, partner in enumerate(partners):  # one round each, as the pairing worker records them
        round_id = f"lrd_bench{n:04d}"
        pair = LunchPair(pair_id=ids.pair_id(round_id, [me, partner]), round_id=round_id, group_id=gid,
                         member_ids=[me, partner], responses={me: "confirmed", partner: "confirmed"},
                         connected_at=NOW, created_at=NOW)
        store.lunch.put_pairs([pair])
        store.lunch.record_round(gid, round_id, [pair])
    store.intros.add_met(gid, [(me, other) for other in met_at_meetups])
    return gid, me, partners + met_at_meetups


def _measured(work: Any) -> dict[str, Any]:
    from bench.roundtrips import measured

    figures = measured(work)
    return {"status": figures["result"], "ms": round(figures["wall_s"] * 1000, 1), "calls": figures["calls"],
            "by_op": figures["by_op"]}


def _requests(gid: str, me: str, two: list[str]) -> tuple[dict[str, Any], ...]:
    """GET the introduce page, POST an offer of `two` people, GET the first one's offer page."""
    from chalice.test import Client

    from app import app
    from chalicelib import deps, links

    path = urlsplit(links.introduce_url(gid, me)).path
    body = urlencode({"member_ids": two, "note": "You both build climate software, talk!"}, doseq=True).encode()
    with Client(app) as client:
        page = _measured(lambda: client.http.get(path).status_code)
        offer = _measured(lambda: client.http.post(path, headers=FORM, body=body).status_code)
        intro = next(iter(deps.store().intros.of_group(gid)))
        offer_path = urlsplit(links.offer_url(gid, intro.intro_id, two[0], intro.expires_at)).path
        answer_page = _measured(lambda: client.http.get(offer_path).status_code)
    return page, offer, answer_page


def run(endpoint: str) -> list[dict[str, Any]]:
    from bench.appenv import app_table
    from bench.roundtrips import Queues
    from chalicelib import deps, workers
    from chalicelib.store import schema

    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="intros-"))
    for lunches, meetup in SIZES:
        with app_table(endpoint, tmp / "outbox", "powerlunch-intros") as table:
            queues = Queues()
            real_send_many = workers.send_many
            workers.send_many = queues.send_many  # type: ignore[assignment]
            deps.set_clock(lambda: NOW)
            try:
                schema.create_table(deps.dynamodb_client(), table)
                gid, me, met = _seed(lunches, meetup)
                # the two most recent lunch partners: the page always lists them
                page, offer, answer_page = _requests(gid, me, met[lunches - 2:lunches])
            finally:
                workers.send_many = real_send_many  # type: ignore[assignment]
                deps.set_clock(lambda: datetime.now(UTC))
        rows.append({"lunches": lunches, "met_at_meetups": meetup, "keys": 2 * lunches + meetup,
                     "introduce_page": page, "offer_post": offer, "offer_page": answer_page})
    return rows


def markdown(rows: list[dict[str, Any]]) -> list[str]:
    out = ["| lunches + met at meetups | items they could read (pairs + people) | GET /introduce | POST /introduce (offer) | GET /offer |",
           "| --- | --- | --- | --- | --- |"]

    def cell(f: dict[str, Any]) -> str:
        ops = ", ".join(f"{op} {n}" for op, n in f["by_op"].items())
        return f"{f['calls']} calls ({ops}); {f['ms']} ms; HTTP {f['status']}"

    for r in rows:
        out.append(f"| {r['lunches']} + {r['met_at_meetups']} | {r['keys']} | {cell(r['introduce_page'])} | "
                   f"{cell(r['offer_post'])} | {cell(r['offer_page'])} |")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--endpoint", help="a running DynamoDB Local (default: start one)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    from bench.appenv import on_dynamodb_local

    rows = on_dynamodb_local(args.endpoint, run)
    print(json.dumps(rows, indent=2) if args.json else "\n".join(markdown(rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
