"""People to meet at a meetup (issue 14, part 3): 48 hours before a meetup with at least
MIN_GOING going, each member going who opted in gets one `meetup_people` email naming up to 3
others going, with their headline and why, in words (the lunch scorer, said to the reader).

Suggestions are mutual and spread out: chalicelib/bmatching.py picks them, nobody named to
more than 3 people. No addresses; members who blocked each other, or where one declined a
lunch pairing with the other, are never suggested to each other. Once per
meetup per member: the email's dedupe key.

Who was suggested to whom is stored (store/meetup_people.py). ASK_AFTER the meetup ends, each
member who got suggestions gets one `meetup_met` email: "did you meet them?", a yes button per
person to /met/{token}?who=<member> (GET shows the question and changes nothing; POST records).
A yes counts as met, like a lunch that happened or a meetup both checked in to: the introduce
page lists the person (intros.add_met), the lunch repeat rule counts it as a meeting at the
meetup's start (lunch records' `introduced`, read by intros.as_met), and the network draws the
edge (met_pairs, read by services/insights.py). All set ADDs: a double click changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from chalicelib import bmatching, deps, errors, links, matching, reasons, timeutil
from chalicelib.models import Group, LunchRecord, Meetup, Member
from chalicelib.store.meetup_people import MeetupSuggestions

log = logging.getLogger(__name__)

MIN_GOING = 6
WINDOW = (timedelta(hours=47), timedelta(hours=48))  # an hourly run finds each meetup once
ASK_AFTER = timedelta(days=1)  # "did you meet them?": the day after the meetup ends


def suggestions_due(now: datetime) -> list[dict[str, str]]:
    """Hourly: the meetups starting in about 48 hours, as ids for the RSVP worker."""
    return [{"group_id": group_id, "meetup_id": meetup_id}
            for group_id, meetup_id in deps.store().rsvps.starting_between(now + WINDOW[0], now + WINDOW[1])]


def suggest_work(body: dict[str, Any]) -> int:
    """The RSVP worker: the suggestions for one meetup, if it is still about 48 hours away and
    at least MIN_GOING are going. Answers how many emails were queued (0 when run again)."""
    from chalicelib.services import outbox, pairing, rsvp

    store, now = deps.store(), deps.now()
    found = rsvp.scheduled_in(body)
    slack = timedelta(hours=1)
    if found is None or not now + WINDOW[0] - slack <= found[1].starts_at < now + WINDOW[1] + slack:
        return 0
    group, meetup = found
    group_id, meetup_id = group.group_id, meetup.meetup_id
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
    batch, suggested, mail_keys = [], {}, {}
    for member in wanting:
        others = chosen.of(member.member_id)
        if not others:
            continue
        people = [_person(member, members[other], by_id) for other in others]
        suggested[member.member_id] = others
        mail_keys[member.member_id] = f"meetup_people:{meetup_id}:{member.member_id}:{stamp}"
        batch.append((member, outbox.email(
            "meetup_people", mail_keys[member.member_id], group, member,
            meetup=rsvp.meetup_view(meetup), people=people)))
    if suggested:  # stored first: the "did you meet them?" asks about exactly these
        store.meetup_people.record(group_id, meetup_id, suggested, mail_keys, meetup.ends_at + ASK_AFTER)
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


# ---------------------------------------------------------------- after the meetup: did you meet them?


def asks_due(now: datetime) -> list[dict[str, str]]:
    """Hourly: meetups whose "did you meet them?" email is due, as ids for the RSVP worker."""
    return [{"group_id": g, "meetup_id": t} for g, t in deps.store().meetup_people.asks_due(now)]


def ask_work(body: dict[str, Any]) -> int:
    """The RSVP worker: one `meetup_met` email to each member who got suggestions at this
    meetup, listing them with a yes button each. Once (dedupe keys, then off the time index);
    a meetup moved later waits for its new end, a cancelled one asks nothing."""
    from chalicelib.services import outbox, rsvp

    group_id, meetup_id = body.get("group_id"), body.get("meetup_id")
    if not isinstance(group_id, str) or not isinstance(meetup_id, str):
        log.error("meetup ask message without ids")
        return 0
    store, now = deps.store(), deps.now()
    found = rsvp.scheduled_in(body)
    if found is None:  # gone or cancelled: nothing to ask, ever
        store.meetup_people.asked(group_id, meetup_id)
        return 0
    group, meetup = found
    if now < meetup.ends_at + ASK_AFTER:
        store.meetup_people.arm_ask(group_id, meetup_id, meetup.ends_at + ASK_AFTER)
        return 0
    records = store.meetup_people.of_meetup(group_id, meetup_id)
    members = {m.member_id: m for m in store.members.get_many(
        group_id, sorted({m for r in records for m in (r.member_id, *r.suggested)}))}
    batch = []
    for record in records:
        member = members.get(record.member_id)
        people = [_met_person(group_id, meetup_id, record, members[other])
                  for other in record.suggested if other in members]
        if member is None or not people or not member.lunch.wants_meetup_people:
            continue  # erased, nobody left to ask about, or turned the suggestions off since
        batch.append((member, outbox.email(
            "meetup_met", f"meetup_met:{meetup_id}:{member.member_id}", group, member,
            meetup=rsvp.meetup_view(meetup), people=people)))
    sent = outbox.queue_many(group, batch)
    store.meetup_people.asked(group_id, meetup_id)
    return sent


def _met_person(group_id: str, meetup_id: str, record: MeetupSuggestions, other: Member) -> dict[str, Any]:
    return {"member_id": other.member_id, "name": other.name, "headline": other.headline,
            "met": other.member_id in record.met,
            "yes_url": links.met_url(group_id, meetup_id, record.member_id, who=other.member_id)}


@dataclass(frozen=True)
class MetView:
    group: Group
    meetup: Meetup
    member: Member
    record: MeetupSuggestions
    people: list[Member]  # suggested to the member, still members, best first
    ask: str | None = None  # the person the email's button named, asked first

    def context(self) -> dict[str, Any]:
        from chalicelib.services import rsvp

        people = [{"member_id": p.member_id, "name": p.name, "headline": p.headline,
                   "met": p.member_id in self.record.met} for p in self.people]
        people.sort(key=lambda p: p["member_id"] != self.ask)  # the one asked about first
        return {"group_name": self.group.sender_name, "member_name": self.member.name,
                "meetup": rsvp.meetup_view(self.meetup), "people": people,
                "introduce_url": links.introduce_url(self.group.group_id, self.member.member_id),
                "ask": next((p for p in people if p["member_id"] == self.ask and not p["met"]), None)}


def _met_view(token: str, ask: str | None = None) -> MetView:
    claims = links.read("met", token)
    store = deps.store()
    group, meetup = store.groups.get(claims.group_id), store.meetups.get(claims.group_id, claims.resource_id)
    record = deps.store().meetup_people.get(claims.group_id, claims.resource_id, claims.member_id)
    if group is None or meetup is None or record is None:
        raise errors.NotFound("no suggestions for this meetup")
    found = {m.member_id: m for m in store.members.get_many(claims.group_id, [claims.member_id, *record.suggested])}
    if claims.member_id not in found:
        raise errors.NotFound("no such member")
    people = [found[m] for m in record.suggested if m in found]
    return MetView(group, meetup, found[claims.member_id], record, people, ask)


def show_met(token: str, who: str | None = None) -> MetView:
    """GET: whom the member was told to look for, each with a yes button; changes nothing."""
    return _met_view(token, who)


def answer_met(token: str, who: str) -> MetView:
    """POST who=<member>: the member met this person, who was suggested to them. It counts as
    met for the introduce page, the lunch repeat rule and the network; saying it twice changes
    nothing."""
    view = _met_view(token)
    if who not in {p.member_id for p in view.people}:
        raise errors.InvalidInput("pick someone we suggested to you at this meetup", field="who")
    record_met(view.group.group_id, view.meetup, view.member.member_id, who)
    record = deps.store().meetup_people.get(view.group.group_id, view.meetup.meetup_id, view.member.member_id)
    return replace(view, record=record or view.record)  # the page shows the yes just recorded


def record_met(group_id: str, meetup: Meetup, member_id: str, other_id: str) -> bool:
    """Two met at a meetup: every write is a set ADD of the same values, so a retry or a double
    click adds nothing; answers whether this member said so for the first time."""
    store = deps.store()
    store.intros.add_met(group_id, [(member_id, other_id)])  # the introduce page
    store.intros.note_introduced(group_id, member_id, other_id, meetup.starts_at)  # the repeat rule
    return store.meetup_people.note_met(group_id, meetup.meetup_id, member_id, other_id)  # the network, then the record


def met_pairs(group_id: str) -> list[tuple[str, str, int]]:
    """Every two who said they met at a meetup, with how many meetups (for the network)."""
    return deps.store().meetup_people.met_pairs(group_id)


def forget_member(group_id: str, member_id: str) -> None:
    """Erasure: their suggestion records and met pairs go; others' records stop naming them,
    and the unsent mail to others that names them is scrubbed."""
    from chalicelib.services import outbox

    for record in deps.store().meetup_people.forget(group_id, member_id):
        outbox.scrub(group_id, record.member_id,
                     [k for k in (record.mail_key, f"meetup_met:{record.meetup_id}:{record.member_id}") if k])
