"""DynamoDB round trips per request, counted with botocore event hooks on the app's own client.

    .venv/bin/python -m bench.roundtrips          # print every scenario's counts by operation

Requests go through `chalice.test.Client` on DynamoDB Local (a fresh table), with WORK_MODE=sqs
and `workers.send_many` (the one place that sends SQS messages) replaced by a recorder: in
AWS mail is delivered (and a pairing round is run) by a worker, not in the request, so the
request's figure leaves that out, counts the messages, and the worker's work is its own figure.
(Not moto: its TransactWriteItems deep-copies the whole table each time, which made 500
invitations take minutes and gigabytes. Counts do not depend on the engine.)

`RoundTrips` is reusable: `with RoundTrips(deps.dynamodb_client()) as trips: ...` then
`trips.calls` (API calls by operation; botocore's retries are not separate calls there),
`trips.attempts` (HTTP attempts, retries included) and `trips.items` (items written by each
write operation, to check batch sizes). tests/integration/test_round_trips.py asserts the budgets.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
SINGLE_WRITES = ("PutItem", "UpdateItem", "DeleteItem")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
INVITED = 500
LUNCHERS = 1000


class RoundTrips:
    """Counts the API calls one botocore client makes while the block runs."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: Counter[str] = Counter()
        self.items: Counter[str] = Counter()
        self.attempts = 0
        self._id = f"roundtrips-{uuid.uuid4().hex}"
        self._service = client.meta.service_model.endpoint_prefix

    def _on_call(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def _on_params(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        op = model.name
        if op == "TransactWriteItems":
            self.items[op] += len(params.get("TransactItems", []))
        elif op == "BatchWriteItem":
            self.items[op] += sum(len(v) for v in params.get("RequestItems", {}).values())
        elif op in SINGLE_WRITES:
            self.items[op] += 1

    def _on_send(self, **_: Any) -> None:
        self.attempts += 1

    def __enter__(self) -> Self:
        events = self.client.meta.events
        events.register(f"before-call.{self._service}", self._on_call, unique_id=self._id + "-call")
        events.register(f"before-send.{self._service}", self._on_send, unique_id=self._id + "-send")
        events.register(f"before-parameter-build.{self._service}", self._on_params,
                        unique_id=self._id + "-params")
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        events = self.client.meta.events
        events.unregister(f"before-call.{self._service}", unique_id=self._id + "-call")
        events.unregister(f"before-send.{self._service}", unique_id=self._id + "-send")
        events.unregister(f"before-parameter-build.{self._service}", unique_id=self._id + "-params")

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def writes(self, *ops: str) -> int:
        return sum(self.calls[op] for op in (ops or WRITES))


def measured(work: Callable[[], Any]) -> dict[str, Any]:
    """Run `work` once on the app's DynamoDB client: its answer (`result`), wall and CPU seconds,
    the calls it made (by operation) and the items it wrote."""
    from chalicelib import deps

    with RoundTrips(deps.dynamodb_client()) as trips:
        cpu, wall = time.process_time(), time.perf_counter()
        result = work()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"result": result, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "calls": trips.total,
            "by_op": dict(sorted(trips.calls.items())), "items_written": dict(sorted(trips.items.items()))}


@dataclass
class Figure:
    """One scenario: DynamoDB calls by operation, items written, SQS messages sent."""

    name: str
    calls: dict[str, int]
    items: dict[str, int] = field(default_factory=dict)
    attempts: int = 0
    sqs: dict[str, int] = field(default_factory=dict)
    note: str = ""

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def by_op(self) -> str:
        return ", ".join(f"{op} {n}" for op, n in sorted(self.calls.items())) or "none"

    def writes_free(self) -> bool:
        return not any(self.calls.get(op) for op in WRITES)

    def writes_single(self) -> int:
        return sum(self.calls.get(op, 0) for op in SINGLE_WRITES)


@contextlib.contextmanager
def _environment(endpoint: str) -> Iterator[Queues]:
    """Test-like settings with WORK_MODE=sqs on a fresh table, all restored afterwards (tests
    share the process); SQS messages are recorded by `Queues` instead of sent."""
    from bench.appenv import app_table
    from chalicelib import deps, workers
    from chalicelib.store import schema

    tmp = Path(tempfile.mkdtemp(prefix="roundtrips-"))
    with app_table(endpoint, tmp / "outbox", "powerlunch-rt") as table:
        queues = Queues()
        real_send_many = workers.send_many
        workers.send_many = queues.send_many  # type: ignore[assignment,unused-ignore]
        deps.set_clock(lambda: NOW)
        try:
            settings = deps.settings()  # cached now: the test stage's WORK_MODE=inline is never read
            assert settings.work_mode == "sqs", settings
            schema.create_table(deps.dynamodb_client(), table)
            yield queues
        finally:
            workers.send_many = real_send_many  # type: ignore[assignment,unused-ignore]
            deps.set_clock(lambda: datetime.now(UTC))


class Queues:
    """Stands in for SQS: records each message `workers.send_many` would send, by queue."""

    def __init__(self) -> None:
        from chalicelib import workers

        self.messages: dict[str, list[dict[str, Any]]] = {
            q.name.removeprefix("powerlunch-"): [] for q in workers.QUEUES}
        self.sent = {name: 0 for name in self.messages}  # every message ever sent, by queue

    def send_many(self, kind: str, many: Any, **_: Any) -> int:
        from chalicelib import workers

        queue = workers.WORK[kind].queue.name.removeprefix("powerlunch-")
        self.messages[queue] += [workers.message(kind, **ids) for ids in many]
        self.sent[queue] += len(many)
        return len(many)

    def waiting(self) -> dict[str, int]:
        return {name: len(bodies) for name, bodies in self.messages.items()}

    def drain(self, name: str) -> list[dict[str, Any]]:
        bodies, self.messages[name] = self.messages[name], []
        return bodies


class Scenarios:
    """Sets up one group on moto and measures each request through the Chalice test client."""

    def __init__(self, http: Any, queues: Queues) -> None:
        from chalicelib import deps
        from chalicelib.models import GroupIn
        from chalicelib.services import groups

        self.http = http
        self.queues = queues
        self.client = deps.dynamodb_client()
        group, key = groups.create_group(GroupIn(name="Lisbon Founders", timezone="Europe/Lisbon",
                                                 sender_name="Lisbon Founders",
                                                 reply_to="organizer@example.com"))
        self.group_id = group.group_id
        self.auth = {"Authorization": f"Bearer {key.secret}", "Content-Type": "application/json"}
        self.figures: dict[str, Figure] = {}

    # ---- plumbing

    def api(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else b""
        response = self.http.request(method, f"/groups/{self.group_id}/{path}", headers=self.auth,
                                     body=data)
        assert response.status_code < 300, (method, path, response.status_code, response.body)
        return json.loads(response.body) if response.body else None

    def measure(self, name: str, action: Any, note: str = "") -> Any:
        before = dict(self.queues.sent)
        with RoundTrips(self.client) as trips:
            result = action()
        after = dict(self.queues.sent)
        sent = {queue: after[queue] - before[queue] for queue in after}
        self.figures[name] = Figure(name, dict(trips.calls), dict(trips.items), trips.attempts,
                                    {k: v for k, v in sent.items() if v}, note)
        return result

    def deliver_mail(self, name: str, note: str = "") -> None:
        """The mail worker's work for everything queued so far, counted as its own figure."""
        from chalicelib.services import outbox

        bodies = self.queues.drain("mail")
        with RoundTrips(self.client) as trips:
            outbox.deliver_batch(bodies)
        calls = {op: n for op, n in trips.calls.items()}
        self.figures[name] = Figure(name, calls, dict(trips.items), trips.attempts,
                                    {"mails delivered": len(bodies)}, note)

    def drop_mail(self) -> None:
        self.queues.drain("mail")

    # ---- setup

    def members(self, n: int, prefix: str, lunch: bool = False) -> list[str]:
        ids: list[str] = []
        cities = ("Lisbon", "Porto", "Braga", "Faro")
        tags = ("climate", "fintech", "design", "ai", "health", "retail", "music", "sport")
        goals = ("find_job", "hiring", "mentor", "be_mentored", "give_intros", "learn", "meet_peers")
        for start in range(0, n, 500):
            batch = []
            for i in range(start, min(n, start + 500)):
                person: dict[str, Any] = {"email": f"{prefix}{i}@example.com", "name": f"{prefix.title()} {i}"}
                if lunch:
                    person["lunch"] = {
                        "opted_in": True, "city": cities[i % len(cities)], "virtual": False,
                        "interests": [tags[i % 8], tags[(i * 3 + 1) % 8]],
                        "goals": [goals[i % 7]], "availability": ["tue-lunch", "thu-lunch"]}
                batch.append(person)
            created = self.api("POST", "members", {"members": batch})["created"]
            ids += [m["member_id"] for m in created]
        return ids

    def meetup(self, capacity: int | None) -> tuple[str, datetime]:
        starts = NOW + timedelta(days=8)
        data = {"title": "Founders' breakfast", "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=2)).isoformat(), "timezone": "Europe/Lisbon",
                "venue": {"name": "Café Tati", "address": "Rua da Ribeira Nova 36"},
                "capacity": capacity, "guests_allowed": 1}
        made = self.api("POST", "meetups", data)
        return made["meetup_id"], datetime.fromisoformat(made["ends_at"])

    def link(self, meetup_id: str, ends_at: datetime, member_id: str) -> str:
        from chalicelib import links

        url = links.rsvp_url(self.group_id, meetup_id, member_id, ends_at)
        return url.removeprefix(os.environ["BASE_URL"])

    def answer(self, link: str, choice: str) -> str:
        response = self.http.post(link, headers=FORM, body=urlencode({"answer": choice}).encode())
        assert response.status_code == 200, (response.status_code, response.body)
        return link

    # ---- the scenarios

    def rsvp(self) -> None:
        a, b, c = self.members(3, "rsvp")
        meetup_id, ends = self.meetup(capacity=1)
        link_a, link_b, link_c = (self.link(meetup_id, ends, m) for m in (a, b, c))
        self.measure("RSVP page GET", lambda: self.http.get(link_a), "group, member, meetup, own RSVP")
        self.measure("RSVP POST going", lambda: self.answer(link_a, "going"),
                     "read as the page; RSVP, counters and confirmation email in one transaction")
        self.deliver_mail("delivery of one confirmation (mail worker)",
                          "per email: read, claim, group + member, mark sent")
        self.measure("RSVP POST waitlisted", lambda: self.answer(link_b, "going"))
        self.measure("RSVP POST going again (no change)", lambda: self.answer(link_a, "going"))
        self.drop_mail()
        self.answer(link_c, "going")  # a second waitlisted member stays waitlisted
        self.drop_mail()
        self.measure("RSVP POST decline that promotes one", lambda: self.answer(link_a, "not_going"),
                     "the answer as above; freed seats go to the RSVP worker (one SQS message)")
        from chalicelib.services import rsvp

        (work,) = self.queues.drain("rsvp")
        self.measure("promotion of one (RSVP worker)", lambda: rsvp.promote_work(work),
                     "group, meetup (GetItem each), waitlist in order (Query), the promoted member"
                     " (GetItem), one transaction with the notice's outbox record")
        self.drop_mail()
        self.list_rsvps = meetup_id

    def lists(self) -> None:
        self.members(60, "list")
        self.measure("organizer list: members (1 page of 50)", lambda: self.api("GET", "members"),
                     "the API key (GetItem), the group for its time zone (GetItem), the page (Query)")
        second = self.api("GET", "members")["next_cursor"]
        self.measure("organizer list: members (next page)",
                     lambda: self.api("GET", f"members?cursor={second}"), "as the first page")
        self.measure("organizer list: meetups (1 page)", lambda: self.api("GET", "meetups?when=upcoming"),
                     "the API key (GetItem), the page (Query)")
        self.measure("organizer list: RSVPs (1 page, with names)",
                     lambda: self.api("GET", f"meetups/{self.list_rsvps}/rsvps"),
                     "the API key and the meetup (GetItem each), the page (Query), names (BatchGetItem)")

    def invitations(self) -> None:
        ids = self.members(INVITED, "invitee")
        meetup_id, _ = self.meetup(capacity=None)
        self.measure(f"invitations for {INVITED} members (request)",
                     lambda: self.api("POST", f"meetups/{meetup_id}/invitations", {"member_ids": ids}),
                     "key, group, meetup; the given ids checked by 100; the job recorded, one jobs message")
        from chalicelib.services import jobs

        def every_page() -> None:
            while work := self.queues.drain("jobs"):
                for body in work:
                    jobs.invite_page_work(body)

        self.measure(f"invitations for {INVITED} members (jobs worker)", every_page,
                     f"per page of {jobs.PAGE_SIZE}: the job, group, meetup; members and outbox dedupe keys;"
                     " mail in one transaction; the job's counters; the next page's message")
        self.drop_mail()

    def pairing(self) -> None:
        from chalicelib.services import pairing

        self.members(LUNCHERS, "luncher", lunch=True)
        self.api("PUT", "lunch-program", {"cadence": "weekly", "weekday": "tue", "local_hour": 10,
                                          "odd_rule": "sit_out"})
        self.measure("lunch round request (POST lunch-rounds)", lambda: self.api("POST", "lunch-rounds", {}))
        work = self.queues.drain("pairing")
        assert len(work) == 1, work
        self.measure(f"pairing round of {LUNCHERS} members (worker)",
                     lambda: pairing.run_round_work(work[0]),
                     "plan, write pairs, per-member records, intros recorded in the outbox")
        self.drop_mail()

    def console(self) -> None:
        """The organizer console's home and delivery pages, signed in as the group's organizer,
        with a meetup, the lunch programme and (after `pairing`) rounds in the table."""
        import secrets

        from chalicelib import deps
        from chalicelib.services import console

        address = "organizer@example.com"
        console.add_organizer(self.group_id, address)
        token = secrets.token_urlsafe(32)
        deps.store().console.add_signin(token, address, NOW, NOW + console.SIGNIN_LIFETIME)
        session, _ = console.sign_in(token)
        cookie = {"Cookie": f"{console.COOKIE}={console.cookie_value(session)}"}
        self.meetup(capacity=20)
        self.api("PUT", "lunch-program", {"cadence": "weekly", "weekday": "tue", "local_hour": 10})

        def page(path: str) -> None:
            response = self.http.get(f"/console/{self.group_id}{path}", headers=cookie)
            assert response.status_code == 200, (path, response.status_code)

        self.measure("console home", lambda: page(""),
                     "session, group, lunch programme (one BatchGetItem); meetups, rounds, delivery log (a Query each)")
        self.measure("console delivery", lambda: page("/delivery"),
                     "session and group (BatchGetItem); the delivery log (Query); the members it names (BatchGetItem)")


def measure(endpoint: str, only: str | None = None) -> dict[str, Figure]:
    """Every scenario (or `only` that one) on a fresh table of the DynamoDB Local at `endpoint`;
    answers the figures by scenario name."""
    from chalice.test import Client

    with _environment(endpoint) as queues:
        from app import app

        with Client(app, stage_name="test", project_dir=str(ROOT)) as client:
            scenes = Scenarios(client.http, queues)
            for name in ("rsvp", "lists", "invitations", "pairing", "console"):
                if only in (None, name):
                    getattr(scenes, name)()
        return scenes.figures


# ---------------------------------------------------------------- budgets


# What would close each budget not met today (the counts are measured; this is the analysis).
CLOSE: dict[str, str] = {
}


@dataclass(frozen=True)
class Budget:
    name: str
    met: bool
    measured: str
    budget: str


def budgets(figures: dict[str, Figure]) -> list[Budget]:
    """Each issue-6 budget against the counts (the same checks the tests make)."""
    out: list[Budget] = []
    page = figures["RSVP page GET"]
    out.append(Budget("RSVP page GET", page.total <= 2 and page.writes_free(), f"{page.total} ({page.by_op()})",
                      "≤ 2, no writes"))
    for name in ("RSVP POST going", "RSVP POST waitlisted"):
        f = figures[name]
        out.append(Budget(name, f.total <= 2 and f.sqs.get("mail", 0) == 1,
                          f"{f.total} ({f.by_op()}) + {f.sqs.get('mail', 0)} SQS", "≤ 2 + 1 SQS dispatch"))
    f = figures["RSVP POST decline that promotes one"]
    w = figures["promotion of one (RSVP worker)"]
    out.append(Budget("RSVP POST decline that promotes one",
                      f.total <= 2 and w.calls.get("TransactWriteItems", 0) == 1,
                      f"request {f.total} ({f.by_op()}) + SQS {f.sqs}; worker {w.total} ({w.by_op()})",
                      "≤ 2 + 1 transaction per promoted RSVP"))
    for name, f in figures.items():
        if name.startswith("organizer list"):
            out.append(Budget(name, f.calls.get("Query", 0) == 1, f"{f.by_op()}", "1 Query a page"))
    for name, f in figures.items():
        if name.startswith("invitations") or name.startswith("pairing round"):
            ok, why = batched(f)
            out.append(Budget(name, ok, f"{f.by_op()}; {why}", "writes in batches of 25 / transactions ≤ 100"))
    out += console_budgets(figures)
    scans = sum(f.calls.get("Scan", 0) for f in figures.values())
    out.append(Budget("no Scan anywhere", scans == 0, f"{scans} Scans", "0"))
    return out


def console_budgets(figures: dict[str, Figure]) -> list[Budget]:
    """Issue 13: the console's home page in at most 4 DynamoDB calls, none a write."""
    if "console home" not in figures:
        return []
    f = figures["console home"]
    return [Budget("console home", f.total <= 4 and f.writes_free(), f"{f.total} ({f.by_op()})", "≤ 4, no writes")]


def batched(f: Figure) -> tuple[bool, str]:
    """Writes proportional to the work go in BatchWriteItem (25) or transactions (up to 100):
    at most a handful of single-item writes, and each batch call carries more than one item
    on average once there is more than one batch."""
    singles = f.writes_single()
    written = sum(f.items.values())
    calls = sum(f.calls.get(op, 0) for op in WRITES)
    needed = math.ceil(written / 100) if written else 0
    ok = singles <= 5 and calls <= needed + 5
    return ok, f"{written:,} items in {calls:,} write calls ({singles:,} single-item)"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--endpoint", help="a running DynamoDB Local (default: start one)")
    parser.add_argument("--only", choices=("rsvp", "lists", "invitations", "pairing", "console"),
                        help="run one scenario")
    args = parser.parse_args()
    if args.endpoint:
        figures = measure(args.endpoint, args.only)
    else:
        from scripts.dynamodb_local import DynamoDBLocal

        with DynamoDBLocal() as server:
            figures = measure(server.endpoint_url, args.only)
    for f in figures.values():
        extra = f"; SQS {f.sqs}" if f.sqs else ""
        print(f"{f.name:<52} {f.total:>5}  {f.by_op()}{extra}")
    for b in budgets(figures) if args.only is None else console_budgets(figures):
        print(f"{'met' if b.met else 'NOT MET':<8} {b.name}: {b.measured} (budget {b.budget})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
