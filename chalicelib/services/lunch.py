"""The lunch programme of a group, members' lunch preferences (the /lunch page), invitations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from chalicelib import deps, errors, feedback, links, slots, timeutil
from chalicelib.models import Group, LunchPair, LunchPrefsPatch, LunchProgram, LunchProgramIn, Member
from chalicelib.services import outbox, settings
from chalicelib.vocabulary import SLOTS

# ---------------------------------------------------------------- the programme


def program_out(program: LunchProgram, zone_name: str) -> dict[str, Any]:
    data = program.model_dump(mode="json")
    data["created_at"] = timeutil.in_zone(program.created_at, zone_name).isoformat()
    data["updated_at"] = timeutil.in_zone(program.updated_at, zone_name).isoformat()
    data["timezone"] = zone_name
    return data


def get_program(group_id: str) -> LunchProgram:
    program = deps.store().lunch.get_program(group_id)
    if program is None:
        raise errors.NotFound("this group has no lunch programme yet: PUT one to "
                              f"/groups/{group_id}/lunch-program first", field="lunch_program")
    return program


def put_program(group_id: str, data: LunchProgramIn) -> tuple[LunchProgram, bool]:
    """Create or replace the programme; answers (programme, created)."""
    store = deps.store()
    now = deps.now()
    current = store.lunch.get_program(group_id)
    program = LunchProgram(group_id=group_id, **data.model_dump(),
                           last_round_date=current.last_round_date if current else None,
                           created_at=current.created_at if current else now, updated_at=now)
    store.lunch.put_program(program)
    return program, current is None


def meetings(group_id: str, members: Sequence[Member], around: datetime) -> slots.Meetings:
    """Where `members` are in time for a round run at `around`: each virtual member's zone
    (their own, else the group's) and slots, and the programme's slot times."""
    store = deps.store()
    group = store.groups.require(group_id)
    program = store.lunch.get_program(group_id)
    times = program.slot_times if program else slots.DEFAULT_TIMES
    virtual = {m.member_id: (m.timezone or group.timezone, frozenset(m.lunch.availability))
               for m in members if m.lunch.virtual}
    return slots.Meetings(group.timezone, times, around, virtual)


# ---------------------------------------------------------------- invitations


def invitations(group: Group, members: Sequence[Member]) -> list[tuple[Member, outbox.Email]]:
    """A `lunch_invite` to each member with their own preferences link (the jobs worker
    records them, a page at a time; once per member)."""
    return [(member, outbox.email("lunch_invite", f"lunch_invite:{group.group_id}:{member.member_id}",
                                  group, member,
                                  preferences_url=links.lunch_url(group.group_id, member.member_id)))
            for member in members]


# ---------------------------------------------------------------- the preferences page


# Offered on the page after "the group's zone" (and the member's own zone first); the form accepts any IANA zone.
COMMON_ZONES = (
    "Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Denver", "America/Chicago",
    "America/New_York", "America/Toronto", "America/Mexico_City", "America/Bogota", "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires", "Atlantic/Azores", "UTC", "Europe/London", "Europe/Lisbon",
    "Europe/Dublin", "Europe/Madrid", "Europe/Paris", "Europe/Berlin", "Europe/Amsterdam", "Europe/Stockholm",
    "Europe/Warsaw", "Europe/Athens", "Europe/Istanbul", "Africa/Lagos", "Africa/Cairo",
    "Africa/Johannesburg", "Africa/Nairobi", "Asia/Dubai", "Asia/Karachi", "Asia/Kolkata", "Asia/Dhaka",
    "Asia/Bangkok", "Asia/Singapore", "Asia/Shanghai", "Asia/Tokyo", "Australia/Perth", "Australia/Sydney",
    "Pacific/Auckland",
)


@dataclass(frozen=True)
class PrefsView:
    group: Group
    member: Member

    def context(self, prefs: dict[str, Any] | None = None) -> dict[str, Any]:
        shown = prefs if prefs is not None else {**self.member.lunch.model_dump(),
                                                 "meetup_people": self.member.lunch.wants_meetup_people,
                                                 "timezone": self.member.timezone or ""}
        zones = dict.fromkeys(z for z in (shown.get("timezone"), *COMMON_ZONES) if z)
        return {"group_name": self.group.sender_name, "member_name": self.member.name, "prefs": shown,
                "group_zone": self.group.timezone, "zones": list(zones)}


def _view(token: str) -> PrefsView:
    claims = links.read("lunch", token)
    store = deps.store()
    group = store.groups.get(claims.group_id)
    member = store.members.get(claims.group_id, claims.member_id) if group else None
    if group is None or member is None:
        raise errors.NotFound("no such member")
    return PrefsView(group, member)


def show_preferences(token: str) -> PrefsView:
    """GET: the member's preferences; changes nothing."""
    return _view(token)


def form_prefs(form: dict[str, list[str]]) -> dict[str, Any]:
    """What the member posted, in the page's shape (to show it again when it is not valid)."""
    def one(name: str) -> str:
        values = form.get(name)
        return values[0].strip() if values else ""

    return {
        "opted_in": one("opt_in") == "in",
        "skip_next": one("skip_next") in ("1", "on", "yes"),
        "virtual": one("mode") == "virtual",
        "city": one("city") or None,
        "interests": [t.strip() for t in one("interests").split(",") if t.strip()],
        "goals": [g for g in form.get("goals", []) if g],
        # up to MAX_PHRASES inputs each; a field left as old free text is split by the model
        "offers": [v.strip() for v in form.get("offers", []) if v.strip()],
        "asks": [v.strip() for v in form.get("asks", []) if v.strip()],
        "availability": [a for a in form.get("availability", []) if a],
        # the checkbox counts only on a page that showed it (a form without it changes nothing)
        "meetup_people": one("meetup_people") in ("1", "on", "yes") if "meetup_people_shown" in form else None,
        "paused": False,
        "timezone": one("timezone"),  # "": the group's zone
    }


class PrefsInvalid(errors.InvalidInput):
    """Raised when the preferences form does not validate; carries what was posted."""

    def __init__(self, message: str, field: str, posted: dict[str, Any]) -> None:
        super().__init__(message, field=field)
        self.posted = posted


_FIELD_LABELS = {"city": "City", "interests": "Interests", "goals": "Goals", "offers": "I can help with",
                 "asks": "I'd like help with",
                 "meetup_people": "People to meet at meetups", "availability": "Availability", "opted_in": "Take part",
                 "virtual": "Where", "skip_next": "Skip the next round", "timezone": "Time zone"}


def save_preferences(token: str, form: dict[str, list[str]]) -> PrefsView:
    """POST: validate the form through LunchPrefsPatch and save it (opting in again unpauses)."""
    view = _view(token)
    posted = form_prefs(form)
    if form.get("opt_in", [""])[0] not in ("in", "out"):
        raise PrefsInvalid("choose whether to take part", "opted_in", posted)
    patch_data = {k: v for k, v in posted.items() if k not in ("paused", "timezone") and v is not None}
    zone = posted["timezone"] or None  # a form without the field leaves the zone as it is
    if zone is not None and zone not in timeutil.known_zones():
        raise PrefsInvalid("choose a time zone from the list", "timezone", posted)
    if not posted["virtual"] and not posted["city"] and posted["opted_in"]:
        raise PrefsInvalid("give your city, or choose virtual", "city", posted)
    try:
        patch = LunchPrefsPatch.model_validate(patch_data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "form"
        raise PrefsInvalid(first["msg"], field, posted) from None
    now = deps.now()

    def edit(member: Member) -> Member:
        lunch = member.lunch.merged(patch)
        timezone = zone if "timezone" in form else member.timezone
        if lunch == member.lunch and timezone == member.timezone:
            return member
        return member.model_copy(update={"lunch": lunch, "timezone": timezone, "updated_at": now})

    member = deps.store().members.change(view.group.group_id, view.member.member_id, edit)
    return PrefsView(view.group, member)


def field_label(field: str) -> str:
    return _FIELD_LABELS.get(field, field)


# ---------------------------------------------------------------- demo


def seed_demo_programme(group_id: str) -> LunchProgram:
    """For `make run`: a weekly programme (idempotent: an existing one is kept as it is)."""
    existing = deps.store().lunch.get_program(group_id)
    if existing is not None:
        return existing
    program, _ = put_program(group_id, LunchProgramIn(cadence="weekly", weekday="tue", local_hour=10,
                                                      odd_rule="trio"))
    return program


# ---------------------------------------------------------------- one member, as their organizer sees it

RECENT_LUNCHES = 5  # pairings shown on a member's console page, newest first
_WEEK_ORDER = {slot: at for at, slot in enumerate(SLOTS)}  # Monday first, as a week reads


@dataclass(frozen=True)
class PastLunch:
    """One of a member's pairings: the pair, the others' names ("" for an erased member), and
    whether a partner reported them as a no-show."""

    pair: LunchPair
    partners: list[str]
    reported_no_show: bool


@dataclass(frozen=True)
class MemberLunches:
    """A member's lunch pairing for the console's member page: whether the next round can pair
    them and why not (`state`), where and when they can meet, and their latest pairings.

    state: "off" (never joined or turned it off), "paused" (after introductions they left
    unanswered), "until" (paused by them until `back_on`), "no_show" (out of the next
    round: reported as a no-show), "skip" (skipping the next round) or "on"."""

    state: str
    back_on: date | None  # "until": the first day the rounds can pair them again
    where: str  # their city, "virtual", or "" when they gave neither
    availability: list[str]
    sat_outs: int  # rounds they sat out lately (the matcher pairs them first next time)
    missed: int  # lunches they didn't keep lately
    recent: list[PastLunch]


def member_lunches(group: Group, member: Member, now: datetime) -> MemberLunches:
    """GET: reads the member's lunch record, the group's rounds (the same facts the next round's
    matcher reads) and their latest pairs with their partners' names; changes nothing."""
    store = deps.store()
    gid, mid, prefs = group.group_id, member.member_id, member.lunch
    record = store.lunch.get_record(gid, mid)
    facts = feedback.round_facts({mid: record}, store.lunch.all_rounds(gid), current_round="")
    choice = settings.lunch_choice(member, settings.today_for(member, group, now))
    if choice == "on":
        state = "no_show" if mid in facts.paused else "skip" if prefs.skip_next else "on"
    else:
        state = "until" if choice == "paused" else "paused" if prefs.opted_in and prefs.paused else "off"
    pairs = store.lunch.get_pairs(gid, sorted(record.pairs, reverse=True)[:RECENT_LUNCHES])
    pairs.sort(key=lambda pair: pair.pair_id, reverse=True)
    names = {m.member_id: m.name for m in
             store.members.get_many(gid, sorted({x for pair in pairs for x in pair.member_ids} - {mid}))}
    recent = [PastLunch(pair, [names.get(x, "") for x in pair.member_ids if x != mid],
                        any(mid in f.no_show for f in pair.feedback.values())) for pair in pairs]
    back_on = date.fromisoformat(prefs.paused_until) if state == "until" and prefs.paused_until else None
    city = prefs.city or ""
    return MemberLunches(state=state, back_on=back_on,
                         # a city typed all in lower case reads as a name: "lisbon" -> "Lisbon"
                         where="virtual" if prefs.virtual else city.title() if city == city.lower() else city,
                         availability=sorted(prefs.availability, key=lambda slot: _WEEK_ORDER.get(slot, len(SLOTS))),
                         sat_outs=facts.sat_outs.get(mid, 0), missed=facts.missed.get(mid, 0), recent=recent)
