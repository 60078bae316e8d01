"""People to meet at a meetup (issue 14, part 3): 48 hours before a meetup with at least
MIN_GOING going, each member going who opted in gets one `meetup_people` email naming up to 3
others going, with their headline and why, in words (the lunch scorer, said to the reader).

Suggestions are mutual and spread out: chalicelib/bmatching.py picks them, nobody named to
more than 3 people. No addresses; members who blocked each other, or where one declined a
lunch pairing with the other, are never suggested to each other. Once per
meetup per member: the email's dedupe key.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib import bmatching, deps, matching, reasons, timeutil
from chalicelib.models import LunchRecord, Member

MIN_GOING = 6
WINDOW = (timedelta(hours=47), timedelta(hours=48))  # an hourly run finds each meetup once


def suggestions_due(now: datetime) -> list[dict[str, str]]:
    """Hourly: the meetups starting in about 48 hours, as ids for the RSVP worker."""
    return [{"group_id": group_id, "meetup_id": meetup_id}
            for group_id, meetup_id in deps.store().rsvps.starting_between(now + WINDOW[0], now + WINDOW[1])]


def suggest_work(body: dict[str, Any]) -> int:
    """The RSVP worker: the suggestions for one meetup, if it is still about 48 hours away and
    at least MIN_GOING are going. Answers how many emails were queued (0 when run again)."""
    from chalicelib.services import outbox, pairing, rsvp

    store = deps.store()
    group_id, meetup_id = str(body.get("group_id")), str(body.get("meetup_id"))
    now = deps.now()
    meetup = store.meetups.get(group_id, meetup_id)
    group = store.groups.get(group_id)
    if (meetup is None or group is None or meetup.status != "scheduled"
            or not now + WINDOW[0] - timedelta(hours=1) <= meetup.starts_at < now + WINDOW[1] + timedelta(hours=1)):
        return 0
    going = [r.member_id for r in store.rsvps.all(meetup_id) if r.status == "going"]
    if len(going) < MIN_GOING:
        return 0
    members = {m.member_id: m for m in store.members.get_many(group_id, going)}
    wanting = [m for m in members.values() if m.lunch.wants_meetup_people and m.lunch.mail]
    records = store.lunch.get_records(group_id, [m.member_id for m in wanting])
    profiles, history = pairing._profiles_and_history(group_id, wanting, current_round="", records=records)
    chosen = bmatching.suggest(profiles, history.blocked | declined(group_id, records))
    by_id = {p.member_id: p for p in profiles}
    stamp = timeutil.to_store(meetup.starts_at)
    batch = []
    for member in wanting:
        others = chosen.of(member.member_id)
        if not others:
            continue
        people = [_person(member, members[other], by_id) for other in others]
        batch.append((member, outbox.email(
            "meetup_people", f"meetup_people:{meetup_id}:{member.member_id}:{stamp}", group, member,
            meetup=rsvp.meetup_view(meetup), people=people)))
    return outbox.queue_many(group, batch)


def declined(group_id: str, records: dict[str, LunchRecord]) -> frozenset[frozenset[str]]:
    """Pairs where one declined a lunch pairing with the other: never suggested at a meetup."""
    pair_ids = sorted({p for record in records.values() for p in record.pairs})
    found: set[frozenset[str]] = set()
    for pair in deps.store().lunch.get_pairs(group_id, pair_ids):
        for member_id, answer in pair.responses.items():
            if answer == "declined":
                found.update(frozenset((member_id, other)) for other in pair.member_ids if other != member_id)
    return frozenset(found)


def _person(reader: Member, other: Member, profiles: dict[str, matching.Profile]) -> dict[str, Any]:
    """One suggestion as the email shows it: name, headline, why (to the reader). No address."""
    planned = matching.describe_pair([profiles[reader.member_id], profiles[other.member_id]], {})
    ids = [reader.member_id, other.member_id]
    names = reasons.names_at_table(ids, {reader.member_id: reader, other.member_id: other})
    said = [reasons.say(r, names, reader=reader.member_id)
            for r in reasons.stored(planned.reasons, lambda ago: None)]
    return {"name": other.name, "headline": other.headline, "why": said}
