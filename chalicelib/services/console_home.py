"""The console's home and delivery pages: what is coming up, and what needs the organizer.

Home reads, besides the session, group and lunch programme (one BatchGetItem, done by
routes.console.console_page): the next meetups (one Query), the latest rounds (one Query) and
the group's delivery log (one Query): 4 DynamoDB calls in all (bench/roundtrips.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Final

from chalicelib import deps, timeutil
from chalicelib.models import Group, LunchProgram, LunchRound, Meetup, Member
from chalicelib.store import keys
from chalicelib.store.delivery import DeadMail, DeliveryLog, Problem

NEXT_MEETUPS: Final = 5
RECENT_ROUNDS: Final = 3
DELIVERY_DAYS: Final = 30
STATES: Final = ("queued", "sent", "suppressed", "dead")


def next_round_at(program: LunchProgram | None, zone_name: str, now: datetime) -> datetime | None:
    """When the programme's next scheduled round is due (services.pairing.due_round's rules),
    today's included while it is still due; None when the programme is off."""
    from chalicelib.services.pairing import due_round

    if program is None or not program.enabled:
        return None
    zone = timeutil.zone(zone_name)
    today = now.astimezone(zone).date()
    for offset in range(0, 7 * 6):  # monthly: the first such weekday is within 5 weeks
        day = today + timedelta(days=offset)
        at = datetime.combine(day, time(program.local_hour), tzinfo=zone)
        due = due_round(program, zone_name, max(at, now))
        if due is not None:
            return due.due_at
    return None


def in_states(counts: Counter[str]) -> dict[str, int]:
    """Mail recorded in a period by its state now: queued (not finished yet), sent, suppressed, dead."""
    finished = counts["sent"] + counts["suppressed"] + counts["dead"]
    return {"queued": max(0, counts["recorded"] - finished), "sent": counts["sent"],
            "suppressed": counts["suppressed"], "dead": counts["dead"]}


@dataclass(frozen=True)
class Home:
    group: Group
    meetups: list[Meetup]
    program: LunchProgram | None
    next_round_at: datetime | None
    rounds: list[LunchRound]
    states: dict[str, int]
    problems: int

    @property
    def in_review(self) -> list[LunchRound]:
        # "review": a round held for the organizer's approval (the programme's `review` setting)
        return [r for r in self.rounds if str(r.status) == "review"]

    def context(self) -> dict[str, Any]:
        attention = []
        for lunch_round in self.in_review:
            until: datetime | None = getattr(lunch_round, "review_until", None)
            attention.append({"text": f"Round {lunch_round.seq} awaits your review" + (
                f" until {timeutil.in_zone(until, self.group.timezone):%a %d %b %H:%M}" if until else "") +
                ": nothing is sent until you approve it.",
                "url": f"/console/{self.group.group_id}/rounds/{lunch_round.round_id}/review"})
        done = [r for r in self.rounds if r.status == "done"]  # newest first
        if done and done[0].running_dry:  # issue 16: warn before the programme runs out of new pairs
            latest = done[0]
            attention.append({"text": f"Lunches are running out of new pairs: only {latest.new_pairs_left or 0} of "
                                      f"{latest.participants} members still have someone new to meet. Invite more "
                                      "members (share your join page), let members meet online, or set a repeat "
                                      "window.", "url": f"/join/{self.group.group_id}"})
        if self.states["dead"]:
            attention.append({"text": f"{self.states['dead']} email(s) could not be delivered in the last "
                                      f"{DELIVERY_DAYS} days.", "url": f"/console/{self.group.group_id}/delivery"})
        if self.problems:
            attention.append({"text": f"{self.problems} member(s) bounced or marked our mail as spam: "
                                      "they get no email.", "url": f"/console/{self.group.group_id}/delivery"})
        return {"meetups": self.meetups, "program": self.program, "next_round_at": self.next_round_at,
                "rounds": self.rounds, "states": self.states, "attention": attention,
                "timezone": self.group.timezone}


def home(group: Group, program: LunchProgram | None) -> Home:
    """The home page's data: three Queries (meetups, rounds, delivery log)."""
    store, now = deps.store(), deps.now()
    meetups, _ = store.meetups.page(group.group_id, upcoming=True, now=now, limit=NEXT_MEETUPS, cursor=None)
    rounds, _ = store.lunch.list_rounds(group.group_id, limit=RECENT_ROUNDS, cursor=None)
    log = store.delivery.read(group.group_id, now, days=DELIVERY_DAYS)
    return Home(group=group, meetups=meetups, program=program,
                next_round_at=next_round_at(program, group.timezone, now), rounds=rounds,
                states=in_states(log.totals()), problems=len(log.problems))


# ---------------------------------------------------------------- delivery


@dataclass(frozen=True)
class DeadRow:
    mail: DeadMail
    to: str


@dataclass(frozen=True)
class ProblemRow:
    problem: Problem
    member: Member


@dataclass(frozen=True)
class Delivery:
    group: Group
    days: list[tuple[date, dict[str, int]]]
    totals: dict[str, int]
    dead: list[DeadRow]
    problems: list[ProblemRow] = field(default_factory=list)

    def context(self) -> dict[str, Any]:
        return {"days": self.days, "totals": self.totals, "dead": self.dead, "problems": self.problems,
                "period_days": DELIVERY_DAYS, "states": STATES, "timezone": self.group.timezone}


def delivery(group: Group) -> Delivery:
    """The outbox by state for the last 30 days, each dead mail with its error, and members who
    bounced or complained: one Query of the group's delivery log and one BatchGetItem of the
    members it names."""
    store, now = deps.store(), deps.now()
    log: DeliveryLog = store.delivery.read(group.group_id, now, days=DELIVERY_DAYS)
    member_ids = {d.member_id for d in log.dead if not keys.is_address_id(d.member_id)}
    member_ids |= {p.member_id for p in log.problems}
    members = {m.member_id: m for m in store.members.get_many(group.group_id, sorted(member_ids))}
    dead = [DeadRow(mail=d, to=_recipient(d, members)) for d in log.dead]
    problems = [ProblemRow(problem=p, member=members[p.member_id]) for p in log.problems
                if p.member_id in members and (members[p.member_id].bounced or members[p.member_id].complained)]
    problems.sort(key=lambda row: row.problem.at, reverse=True)
    days = sorted(((day, in_states(counts)) for day, counts in log.days.items()), reverse=True)
    return Delivery(group=group, days=days, totals=in_states(log.totals()), dead=dead, problems=problems)


def _recipient(dead: DeadMail, members: dict[str, Member]) -> str:
    member = members.get(dead.member_id)
    if member is not None:
        return f"{member.name} <{member.email}>"
    if dead.to_email:
        return dead.to_email
    return "an erased member"
