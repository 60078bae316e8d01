"""The public pages: join a group (/join, confirmed at /welcome), ask for one's links (/links), a
shareable meetup page (/events).

Nobody can learn from them who is a member: every POST answers the same whoever typed the
address, and only mail (to that address) differs. Mail they send is limited per address and
per group each day (counters in DynamoDB). A signup becomes a member only when its emailed
link is confirmed by a POST; until then it is a TTL item that disappears after 7 days.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import StringConstraints, ValidationError, model_validator

from chalicelib import deps, errors, ids, links
from chalicelib.models import Email, Group, InModel, LunchPrefsPatch, Meetup, Member, MemberIn, Name
from chalicelib.services import members, outbox, rsvp
from chalicelib.store import keys
from chalicelib.store.public import Signup

log = logging.getLogger(__name__)

SIGNUP_LIFETIME = timedelta(days=7)
PER_ADDRESS_A_DAY = 3  # confirmation emails per address, and links emails per address, each day
UPCOMING_IN_LINKS = 10  # meetups listed in a member_links email
JOINED = "?joined=1"  # on the page a new member lands on: it says they're in and where their links went


# ---------------------------------------------------------------- what the forms take

Headline = Annotated[str, StringConstraints(max_length=200)]
City = Annotated[str, StringConstraints(max_length=100)]


class JoinIn(InModel):
    """The join form: who they are, and whether (and where) to pair them for lunches."""

    name: Name
    email: Email
    headline: Headline = ""
    lunch: bool = False
    mode: Literal["in_person", "virtual"] = "in_person"
    city: City = ""

    @model_validator(mode="after")
    def _city_for_lunch(self) -> JoinIn:
        if self.lunch and self.mode == "in_person" and not self.city:
            raise errors.InvalidInput("say which city to meet in, or choose virtual", field="city")
        return self


class AddressIn(InModel):
    email: Email


class EventAskIn(InModel):
    """The public meetup form: the address, and a name (used only if they are new)."""

    email: Email
    name: Name


LABELS = {"name": "Name", "email": "Email", "headline": "Headline", "city": "City", "body": "Form"}


class FormInvalid(errors.InvalidInput):
    """Raised when a public form fails validation; `posted` is what was typed (shown again)."""

    def __init__(self, message: str, *, field: str | None, posted: dict[str, str]) -> None:
        super().__init__(message, field=field)
        self.posted = posted

    @property
    def flash(self) -> str:
        label = LABELS.get(self.field or "", (self.field or "Form").capitalize())
        return f"{label}: {self.message}. Nothing was sent or saved."


def _validated(model: type[Any], posted: dict[str, Any]) -> Any:
    try:
        return model.model_validate(posted)
    except errors.InvalidInput as exc:
        raise FormInvalid(exc.message, field=exc.field, posted=posted) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise FormInvalid(_said(where, first), field=where, posted=posted) from None


def _said(where: str, error: Any) -> str:
    """Pydantic's complaint about one field, in the page's words."""
    if error["type"] == "missing" or error.get("input") == "":
        return "is required"
    if where == "email":
        return "is not a valid email address"
    message = str(error["msg"]).removeprefix("Value error, ")
    return message[0].lower() + message[1:]


def join_form(form: dict[str, list[str]]) -> JoinIn:
    """The join form's fields as JoinIn (FormInvalid naming the field)."""
    posted = {name: _one(form, name) for name in ("name", "email", "headline", "mode", "city")}
    lunch = _one(form, "lunch")
    data: dict[str, Any] = {**posted, "lunch": lunch == "1", "mode": posted["mode"] or "in_person"}
    shown = {**posted, "lunch": lunch}
    try:
        return _validated(JoinIn, data)  # type: ignore[no-any-return]
    except FormInvalid as exc:
        exc.posted = shown
        raise


def address_form(form: dict[str, list[str]]) -> AddressIn:
    return _validated(AddressIn, {"email": _one(form, "email")})  # type: ignore[no-any-return]


def event_form(form: dict[str, list[str]]) -> EventAskIn:
    return _validated(EventAskIn, {"email": _one(form, "email"), "name": _one(form, "name")})  # type: ignore[no-any-return]


def _one(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name)
    return values[0] if values else ""


# ---------------------------------------------------------------- limits


def _take(group: Group, address: str, kind: Literal["confirm", "links"]) -> int | None:
    """One email of `kind` to `address` today, within PER_ADDRESS_A_DAY and the group's daily cap;
    the address's count today (for the dedupe key), or None when a limit says no."""
    store = deps.store().public
    today = deps.now().date()
    sent = store.count(group.group_id, f"{keys.address_id(address)}#{kind}", today, PER_ADDRESS_A_DAY)
    if sent is None:
        log.info("public page: address over its daily limit", extra={"group_id": group.group_id, "kind": kind})
        return None
    if store.count(group.group_id, "GROUP", today, group.join_daily_cap) is None:
        log.warning("public page: group over its daily cap", extra={"group_id": group.group_id})
        return None
    return sent


# ---------------------------------------------------------------- join and welcome


def public_group(group_id: str) -> Group:
    """The group a public page names (404 page for a malformed or unknown id)."""
    if not ids.is_id(group_id, "grp"):
        raise errors.NotFound("no such group", field="group_id")
    return deps.store().groups.require(group_id)


def ask_to_join(group: Group, given: JoinIn) -> None:
    """A join request. A new address gets one join_confirm email (a signup waits for it); a
    member's address gets their links instead, so nothing about them changes, except that one
    who unsubscribed gets the confirmation, which subscribes them again (their own consent);
    past a limit, or with the page closed, nobody gets anything. The page answers the same."""
    if not group.join_open:
        return
    member = members.find_by_email(group.group_id, given.email)
    if member is not None and (member.subscribed or not member.reachable):
        _send_links(group, member)
        return
    _send_confirmation(group, given.email, given.name, headline=given.headline, lunch=given.lunch,
                       virtual=given.mode == "virtual", city=given.city or None)


def _send_confirmation(group: Group, email: str, name: str, *, meetup: Meetup | None = None,
                       **typed: Any) -> None:
    if _take(group, email, "confirm") is None:
        return
    now = deps.now()
    signup = Signup(signup_id=ids.new_id("sgn"), group_id=group.group_id, email=email, name=name,
                    meetup_id=meetup.meetup_id if meetup else None, created_at=now,
                    expires_at=now + SIGNUP_LIFETIME, **typed)
    deps.store().public.add_signup(signup)
    url = links.welcome_url(group.group_id, keys.address_id(email), signup.signup_id, signup.expires_at)
    outbox.to_address("join_confirm", f"join_confirm:{group.group_id}:{signup.signup_id}", group, email, name,
                      welcome_url=url, meetup=rsvp.meetup_view(meetup) if meetup else None,
                      expires_at=signup.expires_at, timezone=group.timezone)


@dataclass(frozen=True)
class Welcome:
    """A confirmation link's page: whose signup, for which group, and whether joining is open."""

    group: Group
    signup: Signup
    meetup: Meetup | None = None

    def context(self) -> dict[str, Any]:
        return {"group_name": self.group.sender_name, "person": self.signup.name,
                "join_open": self.group.join_open,
                "meetup": rsvp.meetup_view(self.meetup) if self.meetup else None}


def _welcome(token: str) -> Welcome:
    claims = links.read("welcome", token)
    store = deps.store()
    group = store.groups.get(claims.group_id)
    signup = store.public.get_signup(claims.group_id, claims.resource_id, deps.now()) if group else None
    if group is None or signup is None or keys.address_id(signup.email) != claims.member_id:
        raise errors.Gone("this confirmation has expired")
    meetup = store.meetups.get(group.group_id, signup.meetup_id) if signup.meetup_id else None
    return Welcome(group, signup, meetup)


def show_welcome(token: str) -> Welcome:
    """GET /welcome: what confirming will do; changes nothing (mail scanners open links)."""
    return _welcome(token)


def welcome(token: str) -> str:
    """POST /welcome: make the signup a member (source "join_page"), once: a second click, or a
    member who joined meanwhile, finds the member as it is and changes nothing (but one who had
    unsubscribed is subscribed again: confirming was their consent). Their links go to them
    by email, once per signup: their way back. Answers where to go next: the meetup's RSVP
    page when they came from one, else their lunch preferences (either says they're in)."""
    seen = _welcome(token)
    group, signup = seen.group, seen.signup
    if not group.join_open:
        raise errors.Conflict("this group isn't taking new members right now", field="join_open")
    lunch = (LunchPrefsPatch(opted_in=True, virtual=signup.virtual, city=None if signup.virtual else signup.city)
             if signup.lunch else None)
    created, existed = members.add_members(group.group_id, [MemberIn(
        email=signup.email, name=signup.name, headline=signup.headline, lunch=lunch)], source="join_page")
    member = (created or existed)[0]
    if not member.subscribed and member.reachable:  # they unsubscribed, and now confirmed joining
        now = deps.now()
        member = deps.store().members.change(group.group_id, member.member_id, lambda m: m.model_copy(
            update={"subscribed": True, "updated_at": now}) if not m.subscribed else m)
    _send_links(group, member, welcome=signup.signup_id)
    if seen.meetup is not None and seen.meetup.status == "scheduled":
        return rsvp.rsvp_url(seen.meetup, member.member_id) + JOINED
    return links.lunch_url(group.group_id, member.member_id) + JOINED


# ---------------------------------------------------------------- my links


def ask_for_links(group: Group, given: AddressIn) -> None:
    """A member's address gets one member_links email (within limits); anyone else, nothing.
    Asked for, it goes even to a member who unsubscribed (its settings link is their way back);
    never to an address that bounced (Member.wants)."""
    member = members.find_by_email(group.group_id, given.email)
    if member is not None:
        _send_links(group, member)


def _send_links(group: Group, member: Member, *, welcome: str | None = None) -> None:
    """The member's links by email: asked for (a few a day to one address), or once per signup
    they confirm (`welcome`: its id; they just joined, or came back, and this is their way in)."""
    if not member.wants("member_links"):
        return  # a bounced address: we don't write to it
    if welcome is not None:
        once = f"welcome:{welcome}"
    else:
        sent = _take(group, member.email, "links")
        if sent is None:
            return
        once = f"{deps.now().date().isoformat()}:{sent}"
    store = deps.store()
    now = deps.now()
    upcoming, _ = store.meetups.page(group.group_id, upcoming=True, now=now, limit=UPCOMING_IN_LINKS, cursor=None)
    meetups = [{"meetup": rsvp.meetup_view(m), "rsvp_url": rsvp.rsvp_url(m, member.member_id)}
               for m in upcoming if m.status == "scheduled"]
    key = f"member_links:{group.group_id}:{member.member_id}:{once}"
    outbox.queue(group, member, outbox.email(
        "member_links", key, group, member, welcome=welcome is not None,
        meetups=meetups, preferences_url=links.lunch_url(group.group_id, member.member_id),
        pairing_url=_current_pairing(group.group_id, member.member_id, now)))


def _current_pairing(group_id: str, member_id: str, now: datetime) -> str | None:
    """The member's latest pairing page, while it is recent enough to matter (a link lifetime)."""
    record = deps.store().lunch.get_record(group_id, member_id)
    if not record.pairs:
        return None
    pair = deps.store().lunch.get_pair(group_id, record.pairs[-1])
    if pair is None or member_id not in pair.member_ids or pair.created_at < now - links.PAIRING_LIFETIME:
        return None
    return links.pairing_url(group_id, pair.pair_id, member_id)


# ---------------------------------------------------------------- public meetup pages


@dataclass(frozen=True)
class EventView:
    group: Group
    meetup: Meetup
    state: Literal["members_only", "open", "closed", "cancelled"]
    posted: dict[str, str] = field(default_factory=dict)

    def context(self) -> dict[str, Any]:
        public = self.state != "members_only"
        m = self.meetup
        return {"group_name": self.group.sender_name, "state": self.state,
                "join_open": self.group.join_open,
                "join_url": f"{deps.settings().base_url}/join/{self.group.group_id}",
                "meetup": rsvp.meetup_view(m) if public else None,
                "seats_left": m.seats_left if public else None,
                "going": m.going_seats if public else None, "waitlist": m.waitlist,
                "posted": self.posted}


def event(group_id: str, meetup_id: str) -> EventView:
    """GET /events: a public meetup as anyone may see it (no names), or "members only"."""
    group = public_group(group_id)
    meetup = deps.store().meetups.get(group.group_id, meetup_id) if ids.is_id(meetup_id, "mtp") else None
    if meetup is None:
        raise errors.NotFound("no such meetup", field="meetup_id")
    if meetup.visibility != "public":
        return EventView(group, meetup, "members_only")
    if meetup.status == "cancelled":
        return EventView(group, meetup, "cancelled")
    return EventView(group, meetup, "open" if meetup.is_open(deps.now()) else "closed")


def ask_for_event(view: EventView, given: EventAskIn) -> None:
    """A member's address gets their personal RSVP link; a new address (join open) one
    confirmation that joins them and leads to the RSVP page. The same answer either way."""
    if view.state != "open":
        return
    group, meetup = view.group, view.meetup
    member = members.find_by_email(group.group_id, given.email)
    if member is None:
        if group.join_open:
            _send_confirmation(group, given.email, given.name, meetup=meetup)
        return
    if not member.wants("rsvp_invite"):
        return  # unsubscribed, or meetup mail turned off: their choice wins
    sent = _take(group, member.email, "links")
    if sent is None:
        return
    day = deps.now().date().isoformat()
    outbox.queue(group, member, outbox.email(
        "rsvp_invite", f"event_link:{meetup.meetup_id}:{member.member_id}:{day}:{sent}", group, member,
        meetup=rsvp.meetup_view(meetup), rsvp_url=rsvp.rsvp_url(meetup, member.member_id),
        guests_allowed=meetup.guests_allowed))
