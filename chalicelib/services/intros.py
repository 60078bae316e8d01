"""Introductions that give: a member (or the organizer) introduces two people, double opt-in.

- The introduce page lists the people a member has met (lunches that happened, per
  feedback.pair_met; meetups both checked in to; intros they met through). They pick two and
  say why (20-500 characters).
- Each of the two gets `intro_offer` (no addresses). Both say yes: both get `intro_connected`
  with each other's address, Reply-To the other, the connector in Cc and thanked. Either says
  no, or 14 days pass: the connector (and whoever did not say no) hears only "it didn't work
  out this time"; nobody is told who said no.
- Limits: 5 open offers per connector; never between members who blocked each other or were
  paired within the programme's repeat window; one offer per two people per 6 months; at most
  2 offers a week to anyone.
- Credit: offered, accepted, met per connector (stats' top_connectors), and once a month a
  thank-you naming the people they connected (`intro_thanks`, off in settings).
GET pages change nothing; every offer, answer and email is idempotent.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from chalicelib import deps, errors, feedback, links, reasons, timeutil
from chalicelib.models import Group, LunchRecord, LunchRound, Member
from chalicelib.services import outbox
from chalicelib.store.intros import ORGANIZER, Intro, IntroRecord

log = logging.getLogger(__name__)

OFFER_LIFETIME = timedelta(days=14)
ONCE_PER = timedelta(days=183)  # one offer between the same two people per 6 months
WEEK = timedelta(days=7)
NOTE_MIN, NOTE_MAX = 20, 500


def _note(value: str) -> str:
    if any((ord(c) < 32 and c not in "\n\t") or c == "\x7f" for c in value):
        raise ValueError("must not contain control characters")
    if len(value) < NOTE_MIN:
        raise ValueError(f"say why in at least {NOTE_MIN} characters")
    return value


Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=NOTE_MAX), AfterValidator(_note)]
MemberId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class IntroIn(BaseModel):
    """The organizer's introduction: two member ids and why they should meet."""

    model_config = ConfigDict(extra="forbid")
    member_ids: Annotated[list[MemberId], Field(min_length=2, max_length=2)]
    note: Note


# ---------------------------------------------------------------- who a member has met


PAGE_KEYS = 200  # items the page's second read may take: two BatchGetItems of 100


@dataclass(frozen=True)
class Met:
    group: Group
    member: Member
    people: list[Member]  # whom they met, by name
    record: IntroRecord
    more: bool = False  # they met more people than the page reads: the most recent are shown


def met_people(group_id: str, member_id: str) -> Met:
    """The member and the people they have met, in at most three DynamoDB calls: (1) one
    BatchGetItem of the group, the member, their lunch record and their intro record; (2) at
    most PAGE_KEYS items in BatchGetItems of 100: their lunch pairs, newest first, with the
    partners in them, then the people met at meetups or through an intro. A lunch partner
    counts once the lunch happened (feedback.pair_met)."""
    from chalicelib import ids

    store = deps.store().intros
    group, member, lunch, record = store.page_first(group_id, member_id)
    if group is None or member is None:
        raise errors.NotFound("no such member")
    partners_in: dict[str, set[str]] = {}  # round -> partners, for lunches not declined
    for round_id, partner in lunch.meetings():
        partners_in.setdefault(round_id, set()).add(partner)
    pair_ids: list[str] = []
    candidates: list[str] = []
    budget = PAGE_KEYS
    for round_id in sorted(partners_in, reverse=True):  # round ids sort by time
        pairs_of = [p for p in lunch.pairs if p.startswith(ids.pair_prefix(round_id))]
        new = sorted(partners_in[round_id] - set(candidates) - {member_id})
        if len(pairs_of) + len(new) > budget:
            break
        pair_ids += pairs_of
        candidates += new
        budget -= len(pairs_of) + len(new)
    others = sorted(set(record.met_people) - set(candidates) - {member_id})
    candidates += others[:budget]
    more = len(others) > budget or len(pair_ids) < sum(1 for p in lunch.pairs if any(
        p.startswith(ids.pair_prefix(r)) for r in partners_in))
    pairs, members = store.pairs_and_members(group_id, pair_ids, candidates)
    met = set(record.met_people) & set(candidates)
    for pair in pairs:
        if feedback.pair_met(pair):
            met.update(m for m in pair.member_ids if m != member_id and pair.responses.get(m) != "declined")
    people = sorted((members[m] for m in met if m in members), key=lambda m: (m.name.lower(), m.member_id))
    return Met(group, member, people, record, more)


# ---------------------------------------------------------------- the introduce page


@dataclass(frozen=True)
class IntroduceView:
    met: Met
    posted: dict[str, Any] = field(default_factory=dict)

    def context(self) -> dict[str, Any]:
        return {"group_name": self.met.group.sender_name, "member_name": self.met.member.name,
                "people": [{"member_id": p.member_id, "name": p.name, "headline": p.headline}
                           for p in self.met.people],
                "open": self.met.record.open, "offered": self.met.record.offered,
                "accepted": self.met.record.accepted, "note_min": NOTE_MIN, "note_max": NOTE_MAX,
                "more": self.met.more,
                "posted": self.posted}


def show_introduce(token: str) -> IntroduceView:
    """GET: the people the member has met; changes nothing."""
    claims = links.read("introduce", token)
    return IntroduceView(met_people(claims.group_id, claims.member_id))


def introduce(token: str, picked: Sequence[str], note: str) -> tuple[IntroduceView, Intro]:
    """POST: offer an introduction between two people the member has met."""
    claims = links.read("introduce", token)
    met = met_people(claims.group_id, claims.member_id)
    known = {p.member_id: p for p in met.people}
    chosen = list(dict.fromkeys(picked))
    if len(chosen) != 2:
        raise errors.InvalidInput("pick two people", field="member_ids")
    if any(c not in known for c in chosen):
        raise errors.InvalidInput("pick two people you have met", field="member_ids")
    text = _valid_note(note)
    intro = offer(met.group, met.member, known[chosen[0]], known[chosen[1]], text)
    return IntroduceView(met_people(claims.group_id, claims.member_id)), intro


def _valid_note(note: str) -> str:
    """The note as IntroIn takes it (trimmed, 20-500 characters, no control characters), or
    InvalidInput naming `note`."""
    try:
        return str(TypeAdapter(Note).validate_python(note))
    except ValidationError as exc:
        raise errors.InvalidInput(exc.errors()[0]["msg"].removeprefix("Value error, "), field="note") from None


def broker(group_id: str, body: IntroIn) -> Intro:
    """The organizer introduces two members: the same flow, the organizer as connector."""
    store = deps.store()
    group = store.groups.require(group_id)
    a, b = body.member_ids
    if a == b:
        raise errors.InvalidInput("pick two different members", field="member_ids")
    found = {m.member_id: m for m in store.members.get_many(group_id, [a, b])}
    if a not in found or b not in found:
        raise errors.NotFound("no such member in this group", field="member_ids")
    return offer(group, None, found[a], found[b], body.note)


def out(intro: Intro) -> dict[str, Any]:
    """An introduction as the organizer's API shows it: ids, status and times, no addresses."""
    return {"intro_id": intro.intro_id, "connector_id": intro.connector_id, "member_ids": intro.member_ids,
            "note": intro.note, "status": intro.status,
            "created_at": intro.created_at.isoformat(), "expires_at": intro.expires_at.isoformat()}


def intro_id(group_id: str, connector_id: str, a: str, b: str, note: str, now: datetime) -> str:
    """The same offer made twice the same day (a double click, a retry) has the same id."""
    raw = "|".join((group_id, connector_id, *sorted((a, b)), note, now.astimezone(UTC).date().isoformat()))
    return "int_" + hashlib.sha256(raw.encode()).hexdigest()[:24]


def offer(group: Group, connector: Member | None, a: Member, b: Member, note: str) -> Intro:
    """Check the rules, record the offer under its limits (one transaction), then mail each of
    the two an `intro_offer` (once each, by dedupe key). Conflict names the rule broken."""
    if a.member_id == b.member_id:
        raise errors.InvalidInput("pick two different people", field="member_ids")
    connector_id = connector.member_id if connector else ORGANIZER
    if connector_id in (a.member_id, b.member_id):
        raise errors.InvalidInput("introduce two other people, not yourself", field="member_ids")
    now = deps.now()
    check_pair(group.group_id, a.member_id, b.member_id)
    intro = Intro(intro_id=intro_id(group.group_id, connector_id, a.member_id, b.member_id, note, now),
                  group_id=group.group_id, connector_id=connector_id,
                  member_ids=sorted((a.member_id, b.member_id)), note=note, created_at=now,
                  expires_at=now + OFFER_LIFETIME)
    intro = deps.store().intros.offer(intro, six_months_ago=now - ONCE_PER, week_ago=now - WEEK)
    connector_name = connector.name if connector else f"The {group.name} organizers"
    batch = []
    for me, other in ((a, b), (b, a)):
        batch.append((me, outbox.email(
            "intro_offer", f"intro_offer:{intro.intro_id}:{me.member_id}", group, me,
            connector=reasons.first_name(connector) if connector else connector_name,
            other={"name": other.name, "headline": other.headline}, note=intro.note,
            yes_url=links.offer_url(group.group_id, intro.intro_id, me.member_id, intro.expires_at) + "?answer=yes",
            no_url=links.offer_url(group.group_id, intro.intro_id, me.member_id, intro.expires_at) + "?answer=no")))
    outbox.queue_many(group, batch)
    return intro


def check_pair(group_id: str, a: str, b: str) -> None:
    """Never between members who blocked each other, or who were paired within the
    programme's repeat window (no programme: never paired before)."""
    store = deps.store().lunch
    records = store.get_records(group_id, [a, b])
    if b in records[a].blocked or a in records[b].blocked:
        raise errors.Conflict("These two can't be introduced: one of them asked not to be paired with "
                              "the other.", field="member_ids")
    rounds_met = {rid for rid, partner in records[a].meetings() if partner == b}
    if not rounds_met:
        return
    program = store.get_program(group_id)
    window = program.repeat_window if program is not None else None
    order = [r.round_id for r in store.all_rounds(group_id) if _happened(r)]
    for rid in rounds_met:
        ago = len(order) - order.index(rid) if rid in order else 0
        if window is None or ago <= window:
            raise errors.Conflict("These two were paired for lunch recently: no need to introduce them.",
                                  field="member_ids")


# ---------------------------------------------------------------- the offer page


@dataclass(frozen=True)
class OfferView:
    group: Group
    intro: Intro
    member: Member
    other: Member | None
    connector_name: str
    ask: str | None = None

    def context(self) -> dict[str, Any]:
        me, intro = self.member.member_id, self.intro
        answer = intro.answers.get(me)
        connected = intro.status == "connected"
        return {"group_name": self.group.sender_name, "member_name": self.member.name,
                "connector": self.connector_name, "note": intro.note,
                "other": {"name": self.other.name if self.other else "someone",
                          "headline": self.other.headline if self.other else "",
                          # the address only once both said yes
                          "email": self.other.email if connected and self.other else None},
                "answer": answer, "status": intro.status, "connected": connected,
                "ask": self.ask if self.ask in ("yes", "no") and answer is None and intro.status == "open" else None,
                "met": me in intro.met_by, "someone_met": bool(intro.met_by)}


def _offer_view(token: str, ask: str | None = None) -> OfferView:
    claims = links.read("offer", token)
    store = deps.store()
    group = store.groups.get(claims.group_id)
    intro = store.intros.get(claims.group_id, claims.resource_id)
    if group is None or intro is None or claims.member_id not in intro.member_ids:
        raise errors.NotFound("no such introduction")
    wanted = [*intro.member_ids, *([intro.connector_id] if intro.connector_id != ORGANIZER else [])]
    members = {m.member_id: m for m in store.members.get_many(group.group_id, wanted)}
    if claims.member_id not in members:
        raise errors.NotFound("no such member")
    other = next(m for m in intro.member_ids if m != claims.member_id)
    connector = members.get(intro.connector_id)
    name = (reasons.first_name(connector) if connector else
            f"The {group.name} organizers" if intro.connector_id == ORGANIZER else "A member")
    return OfferView(group, intro, members[claims.member_id], members.get(other), name, ask)


def show_offer(token: str, ask: str | None = None) -> OfferView:
    """GET: the question (leading with the email button's answer); changes nothing."""
    return _offer_view(token, ask)


def answer_offer(token: str, answer: str) -> OfferView:
    """POST yes / no / met. The first answer counts; both yes connects them (once); a no
    closes it and tells the connector and the other only that it didn't work out."""
    if answer not in ("yes", "no", "met"):
        raise errors.InvalidInput("must be yes, no or met", field="answer")
    view = _offer_view(token)
    store, me, now = deps.store().intros, view.member.member_id, deps.now()
    if answer == "met":
        if view.intro.status != "connected":
            raise errors.Conflict("You can say you met once you've both said yes.", field="answer")
        if store.mark_met(view.intro, me):
            deps.store().intros.add_met(view.group.group_id, [tuple(view.intro.member_ids)])  # type: ignore[list-item]
        return _offer_view(token)
    said = view.intro.answers.get(me)
    if said is not None and said != answer:
        raise errors.Conflict(f"You already said {said} to this introduction; the first answer counts.",
                              field="answer")
    if view.intro.status != "open" and said is None:
        raise errors.Conflict("This introduction is closed: it didn't work out this time, or the "
                              "two weeks to answer are over.", field="answer")
    intro = store.answer(view.group.group_id, view.intro.intro_id, me, answer)
    if intro is not None:
        if answer == "no":
            close_unmatched(view.group, intro, now, "declined")
        elif all(intro.answers.get(m) == "yes" for m in intro.member_ids):
            connect(view.group, intro, now)
    return _offer_view(token)


# ---------------------------------------------------------------- closing an offer


def _month_after(now: datetime) -> tuple[str, datetime]:
    """This month's key and when its thanks go out: the 1st of next month, 09:00 UTC."""
    utc = now.astimezone(UTC)
    year, month = (utc.year + 1, 1) if utc.month == 12 else (utc.year, utc.month + 1)
    return f"{utc:%Y-%m}", datetime(year, month, 1, 9, tzinfo=UTC)


def connect(group: Group, intro: Intro, now: datetime) -> int:
    """Both said yes: each gets `intro_connected` with the other's address and the note,
    Reply-To the other, the connector copied (Cc) and thanked. Once (a guarded close, then
    dedupe keys: a retry after a failure resends what is missing and nothing twice)."""
    store = deps.store()
    store.intros.close(intro, "connected", now, thanks=_month_after(now)
                       if intro.connector_id != ORGANIZER else None)
    current = store.intros.get(group.group_id, intro.intro_id)
    if current is None or current.status != "connected":
        return 0
    members = {m.member_id: m for m in store.members.get_many(
        group.group_id, [*intro.member_ids, intro.connector_id])}
    a, b = (members.get(m) for m in intro.member_ids)
    if a is None or b is None:
        return 0
    store.intros.note_introduced(group.group_id, a.member_id, b.member_id, now)
    connector = members.get(intro.connector_id)
    if connector is not None and connector.reachable:
        cc = [(connector.name, connector.email)]
        connector_name = connector.name
    elif intro.connector_id == ORGANIZER and group.reply_to:
        cc, connector_name = [(f"{group.name} organizers", group.reply_to)], f"the {group.name} organizers"
    else:
        cc, connector_name = [], "a member"
    batch = []
    for me, other in ((a, b), (b, a)):
        batch.append((me, outbox.email(
            "intro_connected", f"intro_connected:{intro.intro_id}:{me.member_id}", group, me,
            other={"name": other.name, "headline": other.headline, "email": other.email},
            connector=connector_name, note=intro.note,
            offer_url=links.offer_url(group.group_id, intro.intro_id, me.member_id, intro.expires_at),
            reply_to=[(other.name, other.email)], cc=cc)))
    return outbox.queue_many(group, batch)


def close_unmatched(group: Group, intro: Intro, now: datetime, status: str) -> int:
    """A no, or 14 days without two yeses: closed once. The connector, and whoever did not say
    no, hear only that it didn't work out this time (never who said no, nor why)."""
    store = deps.store()
    store.intros.close(intro, status, now)  # type: ignore[arg-type]
    current = store.intros.get(group.group_id, intro.intro_id)
    if current is None or current.status not in ("declined", "expired"):
        return 0
    told = [m for m in current.member_ids if current.answers.get(m) != "no"]
    members = {m.member_id: m for m in store.members.get_many(
        group.group_id, [*current.member_ids, current.connector_id])}

    def name_of(member_id: str) -> str:
        return members[member_id].name if member_id in members else "someone"

    batch = []
    for mid in told:
        if mid in members:
            other = next(m for m in current.member_ids if m != mid)
            batch.append((members[mid], outbox.email(
                "intro_declined", f"intro_declined:{current.intro_id}:{mid}", group, members[mid],
                as_connector=False, other_name=name_of(other), connector=None)))
    sent = outbox.queue_many(group, batch)
    names = [name_of(m) for m in current.member_ids]
    if current.connector_id in members:
        connector = members[current.connector_id]
        sent += outbox.queue_many(group, [(connector, outbox.email(
            "intro_declined", f"intro_declined:{current.intro_id}:{connector.member_id}", group, connector,
            as_connector=True, names=names, other_name=None, connector=None))])
    elif current.connector_id == ORGANIZER:
        sent += int(outbox.to_organizer(
            "intro_declined", f"intro_declined:{current.intro_id}:{ORGANIZER}", group,
            as_connector=True, names=names, other_name=None, connector=None,
            settings_url=None, introduce_url=None))
    return sent


# ---------------------------------------------------------------- the hourly runs


def expired_due(now: datetime) -> list[dict[str, str]]:
    """Hourly: open offers past their 14 days, as ids for the worker."""
    return [{"group_id": g, "intro_id": i} for g, i in deps.store().intros.expired(now)]


def expire_work(body: dict[str, Any]) -> int:
    """The worker: close one offer that got no two yeses in time (nothing when it closed meanwhile)."""
    group_id, iid = body.get("group_id"), body.get("intro_id")
    if not isinstance(group_id, str) or not isinstance(iid, str):
        log.error("intro expiry message without ids")
        return 0
    store = deps.store()
    group, intro, now = store.groups.get(group_id), store.intros.get(group_id, iid), deps.now()
    if group is None or intro is None or intro.status != "open" or intro.expires_at > now:
        return 0
    return close_unmatched(group, intro, now, "expired")


def thanks_due(now: datetime) -> list[dict[str, str]]:
    """Hourly: connectors owed last month's thank-you."""
    return [{"group_id": g, "month": month, "member_id": m} for g, month, m in deps.store().intros.thanks_due(now)]


def thanks_work(body: dict[str, Any]) -> int:
    """The worker: one `intro_thanks` naming the people the member connected that month
    (once, by dedupe key), then the month's note goes."""
    group_id, month, member_id = body.get("group_id"), body.get("month"), body.get("member_id")
    if not all(isinstance(x, str) for x in (group_id, month, member_id)):
        log.error("intro thanks message without ids")
        return 0
    assert isinstance(group_id, str) and isinstance(month, str) and isinstance(member_id, str)
    store = deps.store()
    group, member = store.groups.get(group_id), store.members.get(group_id, member_id)
    sent = 0
    if group is not None and member is not None:
        intros = [i for i in (store.intros.get(group_id, iid) for iid in store.intros.get_thanks(
            group_id, month, member_id)) if i is not None and i.status == "connected"]
        people = {m.member_id: m for m in store.members.get_many(
            group_id, sorted({m for i in intros for m in i.member_ids}))}
        pairs = [[people[m].name for m in i.member_ids] for i in intros if all(m in people for m in i.member_ids)]
        if pairs:
            sent = int(outbox.queue(group, member, outbox.email(
                "intro_thanks", f"intro_thanks:{month}:{member_id}", group, member, pairs=pairs)))
    store.intros.thanks_done(group_id, month, member_id)
    return sent


# ---------------------------------------------------------------- credit, history, erasure


def top_connectors(group_id: str, members: Iterable[Member], limit: int = 10) -> list[dict[str, Any]]:
    """Per connector (members and the organizer): intros offered, accepted (both said yes) and
    met (one of the two said so); most accepted first."""
    counts: dict[str, dict[str, int]] = {}
    for intro in deps.store().intros.of_group(group_id):
        row = counts.setdefault(intro.connector_id, {"offered": 0, "accepted": 0, "met": 0})
        row["offered"] += 1
        row["accepted"] += intro.status == "connected"
        row["met"] += bool(intro.met_by)
    names = {m.member_id: m.name for m in members}
    ranked = sorted((cid for cid in counts if cid in names or cid == ORGANIZER),
                    key=lambda c: (-counts[c]["accepted"], -counts[c]["met"], -counts[c]["offered"], c))
    return [{"member_id": cid, "name": names.get(cid, "organizer"), **counts[cid]} for cid in ranked[:limit]]


def _happened(lunch_round: LunchRound) -> bool:
    """A round whose pairs count as history: LunchRound.happened (planned and not held for
    review) where the model has it, else planned or done."""
    return bool(getattr(lunch_round, "happened", lunch_round.status != "started"))


def as_met(records: Mapping[str, LunchRecord], rounds: Sequence[LunchRound],
           current_round: str) -> dict[frozenset[str], int]:
    """For the lunch repeat rule: two who met outside the rounds (an intro, a meetup) count as
    met, in the round after it (1 = the last round; since the last round counts as that round)."""
    happened = [r for r in rounds if r.round_id != current_round and _happened(r)]
    found: dict[frozenset[str], int] = {}
    for member_id, record in records.items():
        for when, partner in record.met_outside():
            ago = max(1, sum(1 for r in happened if timeutil.to_store(r.created_at) >= when))
            key = frozenset((member_id, partner))
            found[key] = min(ago, found.get(key, ago))
    return found


def met_at_meetup(group_id: str, meetup_id: str, member_id: str) -> None:
    """A member checked in: they met everyone already checked in (both sides noted)."""
    others = [r.member_id for r in deps.store().rsvps.all(meetup_id)
              if r.checked_in_at is not None and r.member_id != member_id]
    deps.store().intros.add_met(group_id, [(member_id, o) for o in others])


def forget_member(group_id: str, member_id: str) -> None:
    """Erasure: their offers (made or received) and notes go, and the unsent mail to the
    others that names them is scrubbed."""
    for intro in deps.store().intros.forget(group_id, member_id):
        month = f"{(intro.closed_at or intro.created_at).astimezone(UTC):%Y-%m}"
        for other in {*intro.member_ids, intro.connector_id} - {member_id, ORGANIZER}:
            outbox.scrub(group_id, other, [f"{kind}:{intro.intro_id}:{other}" for kind in
                                           ("intro_offer", "intro_connected", "intro_declined")]
                         + [f"intro_thanks:{month}:{other}"])
