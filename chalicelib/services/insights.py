"""Insights for the organizer: the relationship network, show rates, rounds, members over time.

Reads only (Queries, one per page; never a Scan); the graph, layout and SVG are chalicelib/network.py.
"""

from __future__ import annotations

import base64
import bisect
import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib import charts, deps, errors, network, timeutil
from chalicelib.feedback import pair_met
from chalicelib.models import Group, LunchPair, LunchRound, Member
from chalicelib.services import meetup_people
from chalicelib.store.intros import Intro

SHOW_RATE_MEETUPS = 12  # the most recent past meetups on the show-rate chart
ROUNDS_SHOWN = 24  # the most recent rounds on the rounds chart
NEVER_MET_PAGE = 500  # never-met members listed on the insights page at a time (?never_met_from=500: the next)


@dataclass
class Timings:
    """Where the time of a network went: DynamoDB reads, then the pure build (graph, layout)."""

    reads: float = 0.0
    build: float = 0.0
    queries: int = 0
    extra: dict[str, float] = field(default_factory=dict)


def group_network(group_id: str, timings: Timings | None = None) -> network.Network:
    """Members as nodes, lunches that happened as edges, connectors and never-met members."""
    timings = timings if timings is not None else Timings()
    started = time.perf_counter()
    members, met, introduced = _read(group_id)
    timings.reads = time.perf_counter() - started
    started = time.perf_counter()
    built = network.build(members, met, introduced)
    timings.build = time.perf_counter() - started
    return built


def network_out(group_id: str) -> dict[str, Any]:
    """GET /groups/{group_id}/network: the drawn part (network.DRAWN_NODES, DRAWN_EDGES), the
    first network.NEVER_MET_LISTED never-met members, `truncated` and the whole group's totals."""
    return group_network(group_id).out()


def never_met_page(group_id: str, limit: int, cursor: str | None) -> tuple[list[dict[str, str]], str | None]:
    """GET /groups/{group_id}/network/never-met: every member who never met anyone, by name, a
    page at a time. The cursor is the last (name, member id) given: a member who joins or meets
    someone between two pages moves no one else."""
    never = never_met(group_id)
    start = 0
    if cursor is not None:
        start = bisect.bisect_right(never, _read_cursor(cursor))
    chunk = never[start:start + limit]
    more = start + limit < len(never)
    return [{"member_id": m, "name": n} for n, m in chunk], (_cursor(chunk[-1]) if more and chunk else None)


def never_met(group_id: str) -> list[tuple[str, str]]:
    """(name, member id) of the members who never met anyone, sorted."""
    return [(name, m) for m, name in network.never_met(*_read(group_id))]


def _read(group_id: str) -> tuple[dict[str, str], network.Meetings, dict[network.Edge, str]]:
    """The group's members (id -> name), who met whom, and the introductions both accepted:
    one Query per page of members and of lunch records, never a Scan."""
    store = deps.store()
    store.groups.require(group_id)
    members = {m.member_id: m.name for m in store.members.all_without_lunch(group_id)}
    met = network.meetings(store.lunch.all_outcomes(group_id), meetup_people.met_pairs(group_id))
    return members, met, network.introductions(store.intros.of_group(group_id))


def _cursor(last: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(last), ensure_ascii=False).encode()).decode().rstrip("=")


def _read_cursor(cursor: str) -> tuple[str, str]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        raw = None
    if not (isinstance(raw, list) and len(raw) == 2 and all(isinstance(v, str) for v in raw)):
        raise errors.InvalidInput("is not a cursor this list gave out", field="cursor")
    return raw[0], raw[1]


def _month(at: datetime, zone: str) -> str:
    return timeutil.in_zone(at, zone).strftime("%Y-%m")


def show_rates(group_id: str, now: datetime) -> list[dict[str, Any]]:
    """Going versus checked in, for the most recent past meetups (oldest first)."""
    store = deps.store()
    past, _ = store.meetups.page(group_id, upcoming=False, now=now, limit=SHOW_RATE_MEETUPS, cursor=None)
    rows = []
    for meetup in reversed(past):
        if meetup.status == "cancelled":
            continue
        going = checked_in = 0
        for rsvp in store.rsvps.all(meetup.meetup_id, consistent=False):
            if rsvp.status == "going":
                going += 1 + rsvp.guests
            if rsvp.checked_in_at is not None:
                checked_in += 1
        rows.append({"meetup_id": meetup.meetup_id, "title": meetup.title,
                     "date": timeutil.in_zone(meetup.starts_at, meetup.timezone).date().isoformat(),
                     "going": going, "checked_in": checked_in,
                     "show_rate": round(checked_in / going, 3) if going else None})
    return rows


def round_rows(rounds: list[LunchRound], pairs: list[LunchPair]) -> list[dict[str, Any]]:
    """Per round (oldest first): pairs, members paired, confirmations, pairs that met, average rating."""
    by_round: dict[str, list[LunchPair]] = defaultdict(list)
    for pair in pairs:
        if pair.origin != "reconnect":
            by_round[pair.round_id].append(pair)
    rows = []
    for r in rounds[-ROUNDS_SHOWN:]:
        mine = by_round.get(r.round_id, [])
        ratings = [f.rating for p in mine for f in p.feedback.values() if f.rating is not None]
        rows.append({"round_id": r.round_id, "date": r.local_date, "pairs": len(mine),
                     "paired": sum(len(p.member_ids) for p in mine),
                     "confirmed": sum(1 for p in mine for v in p.responses.values() if v == "confirmed"),
                     "met": sum(1 for p in mine if pair_met(p)),
                     "average_rating": round(sum(ratings) / len(ratings), 2) if ratings else None})
    return rows


def members_over_time(members: list[Member], zone: str) -> list[dict[str, Any]]:
    """Joins and unsubscribes per month of the group's zone, and how many were subscribed at its end
    (members who unsubscribed before `unsubscribed_at` was recorded count as leaving when they joined)."""
    joins = Counter(_month(m.created_at, zone) for m in members)
    leaves = Counter(_month(m.unsubscribed_at or m.created_at, zone) for m in members if not m.subscribed)
    rows, total = [], 0
    for month in sorted(set(joins) | set(leaves)):
        total += joins[month] - leaves[month]
        rows.append({"month": month, "joined": joins[month], "unsubscribed": leaves[month], "subscribed": total})
    return rows


def page(group: Group, never_met_from: int = 0) -> dict[str, Any]:
    """Everything the insights page draws, each chart as SVG beside its rows. Members and pairs
    are read once (one Query per page) and feed several charts. The never-met list shows
    NEVER_MET_PAGE members from `never_met_from` on."""
    store = deps.store()
    group_id = group.group_id
    timings = Timings()
    started = time.perf_counter()
    members = list(store.members.all_without_lunch(group_id))
    pairs = list(store.lunch.all_outcomes(group_id))
    rounds = [r for r in store.lunch.all_rounds(group_id) if r.status != "started"]
    shows = show_rates(group_id, deps.now())
    intros = list(store.intros.of_group(group_id))
    at_meetups = meetup_people.met_pairs(group_id)
    timings.reads = time.perf_counter() - started
    return page_context(group, members, pairs, rounds, shows, timings, at_meetups, intros=intros,
                        never_met_from=never_met_from)


def page_context(group: Group, members: list[Member], pairs: list[LunchPair], rounds: list[LunchRound],
                 shows: list[dict[str, Any]], timings: Timings,
                 at_meetups: list[tuple[str, str, int]] | None = None,
                 intros: Iterable[Intro] = (), never_met_from: int = 0) -> dict[str, Any]:
    """The insights page's charts and rows from what was read (pure; bench/network.py times it)."""
    started = time.perf_counter()
    graph = network.build({m.member_id: m.name for m in members}, network.meetings(pairs, at_meetups or ()),
                          network.introductions(intros))
    timings.build = time.perf_counter() - started
    rows = round_rows(rounds, pairs)
    growth = members_over_time(members, group.timezone)
    by_id = {n.member_id: n for n in graph.nodes}
    never = len(graph.never_met)
    start = min(max(never_met_from, 0), max(never - 1, 0)) // NEVER_MET_PAGE * NEVER_MET_PAGE
    return {
        "timings": timings,
        "network": graph,
        "totals": graph.totals,
        "network_svg": network.svg(graph, title=f"Who has met whom at lunch in {group.name}"),
        "connectors": [by_id[m] for m in graph.connectors],
        "most_met": sorted(graph.nodes, key=lambda n: (-n.partners, n.name))[:10],
        "lunches": graph.totals.lunches,
        "introduced": graph.totals.intros,
        "never_met": graph.never_met[start:start + NEVER_MET_PAGE],
        "never_met_from": start,
        "never_met_next": start + NEVER_MET_PAGE if start + NEVER_MET_PAGE < never else None,
        "never_met_previous": max(start - NEVER_MET_PAGE, 0) if start else None,
        "never_met_page": NEVER_MET_PAGE,
        "show_rates": shows,
        "show_svg": _chart(
            "shows", "Going and checked in, per meetup",
            f"The last {len(shows)} past meetups: members going (with guests) and members checked in.",
            shows, "title", {"Going": "going", "Checked in": "checked_in"}),
        "rounds": rows,
        "rounds_svg": _chart(
            "rounds", "Lunch rounds: paired, confirmed, met",
            f"The last {len(rows)} rounds: members paired, confirmations, and pairings that met.",
            rows, "date", {"Paired": "paired", "Confirmed": "confirmed", "Pairs met": "met"}),
        "growth": growth,
        "growth_svg": _chart(
            "growth", "Members joining and unsubscribing, per month",
            f"{len(growth)} months: members who joined and members who unsubscribed each month.",
            growth, "month", {"Joined": "joined", "Unsubscribed": "unsubscribed"}),
    }


def _chart(key: str, title: str, alt: str, rows: Sequence[Mapping[str, Any]], label: str,
           series: Mapping[str, str]) -> str:
    """A bar chart of table rows: one bar group per row (named by its `label` column), one
    series per {legend: column}."""
    return charts.bar_chart(key, title, alt, [str(r[label]) for r in rows],
                            [charts.Series(name, [r[column] for r in rows]) for name, column in series.items()])
