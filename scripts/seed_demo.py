"""Seed a demo group idempotently: running it twice creates nothing twice.

The demo group id and its API key are kept in .local/demo.json (keys are stored only as
hashes, so the file is what lets a second run print the same key).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chalicelib import deps, links
from chalicelib.models import GroupIn, LunchPrefsPatch, Meetup, MeetupIn, Member, MemberIn, RsvpAnswer, Venue
from chalicelib.services import console, groups, join, meetups, members, rsvp

DEMO_ORGANIZER = "organizer@example.com"
DEMO_MEETUP_TITLE = "Founders' Lunch & Learn: hiring your first engineers"
# The member whose introduce link the demo mails: she met Ana and Ben at two past meetups
# (never the same one), so she can introduce them: Ana is hiring backend engineers, Ben is one.
DEMO_CONNECTOR = "grace@example.com"
# Past meetups (title, days ago, who went and was checked in), so members have met someone.
_PAST: list[tuple[str, int, list[str]]] = [
    ("Pricing your first product: three founders compare notes", 35,
     ["grace@example.com", "ana@example.com", "eva@example.com", "carla@example.com"]),
    ("Backend hiring clinic: what a good take-home looks like", 14,
     ["grace@example.com", "ben@example.com", "kofi@example.com", "hugo@example.com"]),
]

_PEOPLE: list[tuple[str, str, str, dict[str, Any]]] = [
    ("Ana Duarte", "ana@example.com", "Founder, fintech seed stage",
     {"interests": ["fintech", "hiring", "product design"], "goals": ["hiring", "give_intros"],
      "offers": "intros to seed investors", "asks": "senior backend engineers"}),
    ("Ben Okafor", "ben@example.com", "Backend engineer, open to work",
     {"interests": ["python", "fintech", "distributed systems"], "goals": ["find_job", "learn"],
      "offers": "code reviews in python", "asks": "a backend role at a fintech"}),
    ("Carla Mendes", "carla@example.com", "Product designer",
     {"interests": ["product design", "ux research", "climate"], "goals": ["meet_peers", "mentor"],
      "offers": "design critiques", "asks": "climate founders to talk to"}),
    ("Diego Silva", "diego@example.com", "First-time founder, climate",
     {"interests": ["climate", "fundraising", "product design"], "goals": ["be_mentored", "hiring"],
      "offers": "energy market know-how", "asks": "design critiques and fundraising advice"}),
    ("Eva Lindqvist", "eva@example.com", "Angel investor",
     {"interests": ["fundraising", "fintech", "climate"], "goals": ["give_intros", "mentor"],
      "offers": "fundraising advice", "asks": "early fintech founders"}),
    ("Farid Haddad", "farid@example.com", "Data scientist",
     {"interests": ["machine learning", "python", "climate"], "goals": ["meet_peers", "learn"],
      "offers": "help with data pipelines", "asks": "climate data sets"}),
    ("Grace Kim", "grace@example.com", "Engineering manager",
     {"interests": ["hiring", "leadership", "python"], "goals": ["mentor", "hiring"],
      "offers": "mentoring new managers", "asks": "backend engineers"}),
    ("Hugo Martins", "hugo@example.com", "Junior developer",
     {"interests": ["python", "web", "leadership"], "goals": ["be_mentored", "find_job"],
      "offers": "frontend help", "asks": "mentoring and a first job"}),
    ("Inês Costa", "ines@example.com", "Community lead",
     {"interests": ["community", "events", "leadership"], "goals": ["give_intros", "meet_peers"],
      "offers": "intros across the community", "asks": "speakers for events"}),
    ("Jonas Weber", "jonas@example.com", "Sales lead, B2B SaaS",
     {"interests": ["sales", "fintech", "community"], "goals": ["meet_peers", "hiring"],
      "offers": "go-to-market advice", "asks": "sales hires"}),
    ("Kofi Mensah", "kofi@example.com", "Security engineer",
     {"interests": ["security", "distributed systems", "python"], "goals": ["learn", "meet_peers"],
      "offers": "security reviews", "asks": "distributed systems reading group"}),
    ("Lena Sousa", "lena@example.com", "UX researcher",
     {"interests": ["ux research", "product design", "community"], "goals": ["find_job", "meet_peers"],
      "offers": "user interviews", "asks": "a research role"}),
]


def _lunch(i: int, extra: dict[str, Any]) -> LunchPrefsPatch:
    slots = [["tue-lunch", "thu-lunch"], ["tue-lunch", "wed-coffee"], ["thu-lunch", "fri-breakfast"]][i % 3]
    return LunchPrefsPatch(opted_in=True, city="lisbon", virtual=False, availability=slots, **extra)


def seed(state_path: Path) -> dict[str, Any]:
    """Create (or find) the demo group, its members, an upcoming meetup and a lunch programme."""
    state: dict[str, Any] = json.loads(state_path.read_text()) if state_path.exists() else {}
    group = deps.store().groups.get(state["group_id"]) if state.get("group_id") else None
    if group is None:
        group, key = groups.create_group(GroupIn(
            name="Lisbon Founders & Friends", timezone="Europe/Lisbon",
            sender_name="Lisbon Founders & Friends", reply_to="organizer@example.com"))
        state = {"group_id": group.group_id, "api_key": key.secret}
    gid = group.group_id
    created, existed = members.add_members(gid, [
        MemberIn(name=name, email=email, headline=headline, lunch=_lunch(i, extra))
        for i, (name, email, headline, extra) in enumerate(_PEOPLE)])
    everyone = sorted(created + existed, key=lambda m: m.email)

    upcoming, _ = meetups.list_meetups(gid, upcoming=True, limit=50, cursor=None)
    meetup = next((m for m in upcoming if m.title == DEMO_MEETUP_TITLE), None)
    if meetup is None:
        starts = (deps.now() + timedelta(days=10)).replace(hour=18, minute=30, second=0, microsecond=0)
        meetup = meetups.create_meetup(gid, MeetupIn(
            title=DEMO_MEETUP_TITLE,
            description="Three founders on how they hired their first five engineers, then open tables. "
                        "Bring one person you can help and one question you need help with.",
            starts_at=starts, ends_at=starts + timedelta(hours=2), timezone="Europe/Lisbon",
            venue=Venue(name="Second Home Lisboa", address="Rua da Ribeira Nova 4, 1200-109 Lisboa"),
            capacity=8, waitlist=True, guests_allowed=1, visibility="public"))
    _seed_lunch_programme(gid)
    by_email = {m.email: m for m in everyone}
    if _seed_past_meetups(gid, by_email):  # the first run: Grace asks for her links
        join.ask_for_links(group, join.AddressIn(email=DEMO_CONNECTOR))
    connector = by_email[DEMO_CONNECTOR]
    state["introduce"] = {"name": connector.name, "email": connector.email,
                          "url": links.introduce_url(gid, connector.member_id)}
    state["meetup_id"] = meetup.meetup_id
    state["rsvp_links"] = [
        {"name": m.name, "email": m.email,
         "url": links.rsvp_url(gid, meetup.meetup_id, m.member_id, meetup.ends_at)}
        for m in everyone[:4]]
    state["base_url"] = deps.settings().base_url
    # The public pages (no token): anyone may join from here, or find the meetup's page.
    state["join_url"] = f"{state['base_url']}/join/{gid}"
    state["links_url"] = f"{state['base_url']}/links/{gid}"
    state["event_url"] = f"{state['base_url']}/events/{gid}/{meetup.meetup_id}"
    # The organizer console: sign in there with this address; the link arrives in the outbox.
    console.add_organizer(gid, DEMO_ORGANIZER)
    state["organizer_email"] = DEMO_ORGANIZER
    state["console_url"] = f"{state['base_url']}/console"
    state_path.parent.mkdir(parents=True, exist_ok=True)
    state_path.write_text(json.dumps(state, indent=2) + "\n")
    state_path.chmod(0o600)
    return state


@contextmanager
def _at(when: datetime) -> Iterator[None]:
    """Run the services as of `when` (the seed's past meetups), then the clock as it was."""
    previous: Callable[[], datetime] = deps._clock
    deps.set_clock(lambda: when)
    try:
        yield
    finally:
        deps.set_clock(previous)


def _seed_past_meetups(group_id: str, by_email: dict[str, Member]) -> bool:
    """The group's past meetups, as they happened: created a week before, answered "going" on
    the members' own RSVP links, everyone checked in at the door (so they met: the introduce
    page lists them). Only when missing; answers whether any was made."""
    past, _ = meetups.list_meetups(group_id, upcoming=False, limit=50, cursor=None)
    titles = {m.title for m in past}
    now = deps.now()
    made = False
    for title, days_ago, went in _PAST:
        if title in titles:
            continue
        starts = (now - timedelta(days=days_ago)).replace(hour=17, minute=30, second=0, microsecond=0)
        with _at(starts - timedelta(days=7)):
            meetup = meetups.create_meetup(group_id, MeetupIn(
                title=title, description="An evening of short talks and open tables.",
                starts_at=starts, ends_at=starts + timedelta(hours=2), timezone="Europe/Lisbon",
                venue=Venue(name="Second Home Lisboa", address="Rua da Ribeira Nova 4, 1200-109 Lisboa"),
                capacity=40, waitlist=True, guests_allowed=0, visibility="members"))
            for address in went:
                rsvp.answer(_rsvp_claims(meetup, by_email[address]), RsvpAnswer(status="going"))
        with _at(starts + timedelta(minutes=20)):
            for address in went:
                rsvp.check_in(group_id, meetup.meetup_id, by_email[address].member_id)
        made = True
    return made


def _rsvp_claims(meetup: Meetup, member: Member) -> Any:
    url = links.rsvp_url(meetup.group_id, meetup.meetup_id, member.member_id, meetup.ends_at)
    return links.read("rsvp", urlsplit(url).path.rsplit("/", 1)[1])


def _seed_lunch_programme(group_id: str) -> None:
    """A weekly Tuesday programme (pairing feature), unless one exists."""
    try:
        from chalicelib.services import lunch
    except ImportError:  # the pairing feature is not in this build
        return
    seed_programme = getattr(lunch, "seed_demo_programme", None)
    if seed_programme is not None:
        seed_programme(group_id)
