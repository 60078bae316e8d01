"""Insights for the organizer: the relationship network, show rates, rounds, members over time.

Reads only (Queries, one per page; never a Scan); the graph, layout and SVG are chalicelib/network.py.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib import charts, deps, network, timeutil
from chalicelib.feedback import pair_met
from chalicelib.models import Group, LunchPair, LunchRound, Member
from chalicelib.services import meetup_people
from chalicelib.store.intros import Intro

SHOW_RATE_MEETUPS = 12  # the most recent past meetups on the show-rate chart
ROUNDS_SHOWN = 24  # the most recent rounds on the rounds chart


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
    store = deps.store()
    started = time.perf_counter()
    store.groups.require(group_id)
    members = {m.member_id: m.name for m in store.members.all(group_id)}
    met = network.meetings(store.lunch.all_pairs(group_id), meetup_people.met_pairs(group_id))
    introduced = network.introductions(store.intros.of_group(group_id))
    timings.reads = time.perf_counter() - started
    started = time.perf_counter()
    built = network.build(members, met, introduced)
    timings.build = time.perf_counter() - started
    return built


def network_out(group_id: str) -> dict[str, Any]:
    return group_network(group_id).out()


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


def page(group: Group) -> dict[str, Any]:
    """Everything the insights page draws, each chart as SVG beside its rows. Members and pairs
    are read once (one Query per page) and feed several charts."""
    store = deps.store()
    group_id = group.group_id
    timings = Timings()
    started = time.perf_counter()
    members = list(store.members.all(group_id))
    pairs = list(store.lunch.all_pairs(group_id))
    rounds = [r for r in store.lunch.all_rounds(group_id) if r.status != "started"]
    shows = show_rates(group_id, deps.now())
    intros = list(store.intros.of_group(group_id))
    at_meetups = meetup_people.met_pairs(group_id)
    timings.reads = time.perf_counter() - started
    return page_context(group, members, pairs, rounds, shows, timings, at_meetups, intros=intros)


def page_context(group: Group, members: list[Member], pairs: list[LunchPair], rounds: list[LunchRound],
                 shows: list[dict[str, Any]], timings: Timings,
                 at_meetups: list[tuple[str, str, int]] | None = None,
                 intros: Iterable[Intro] = ()) -> dict[str, Any]:
    """The insights page's charts and rows from what was read (pure; bench/network.py times it)."""
    started = time.perf_counter()
    graph = network.build({m.member_id: m.name for m in members}, network.meetings(pairs, at_meetups or ()),
                          network.introductions(intros))
    timings.build = time.perf_counter() - started
    rows = round_rows(rounds, pairs)
    growth = members_over_time(members, group.timezone)
    by_id = {n.member_id: n for n in graph.nodes}
    return {
        "timings": timings,
        "network": graph,
        "network_svg": network.svg(graph, title=f"Who has met whom at lunch in {group.name}"),
        "connectors": [by_id[m] for m in graph.connectors],
        "most_met": sorted(graph.nodes, key=lambda n: (-n.partners, n.name))[:10],
        "lunches": sum(w for _, _, w in graph.edges),
        "introduced": len(graph.intro_edges),
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
