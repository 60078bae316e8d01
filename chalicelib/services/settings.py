"""Email settings (/settings/{token}): which mail a member gets from one group.

Meetup emails on or off; lunch pairing on, paused until a date, or off; everything off (the
same as unsubscribing), and back on again: a member may re-subscribe here, the organizer
can't. What each choice stops is decided in one place, models.Member.wants, at send time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib import deps, errors, links, timeutil
from chalicelib.models import Group, Member

MAX_PAUSE = timedelta(days=366)
MAX_FIELD = 100  # characters in any one field: the longest real value is 10
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CHOICES = {"email": ("on", "off"), "meetups": ("on", "off"), "lunch": ("on", "paused", "off")}
LABELS = {"email": "Email from the group", "meetups": "Meetup emails", "lunch": "Lunch pairing",
          "paused_until": "Paused until", "intro_thanks": "Thanks for introductions"}


def today_for(member: Member, group: Group, now: datetime) -> date:
    """The member's own date (their zone, else the group's)."""
    return timeutil.in_zone(now, member.timezone or group.timezone).date()


def lunch_choice(member: Member, today: date) -> str:
    """How the page shows lunch pairing: "on", "paused" (until a date still ahead) or "off"
    (never joined, turned off, or paused after unanswered introductions)."""
    prefs = member.lunch
    if not prefs.opted_in or prefs.paused:
        return "off"
    if prefs.paused_until and prefs.paused_until > today.isoformat():
        return "paused"
    return "on"


@dataclass(frozen=True)
class SettingsView:
    group: Group
    member: Member
    today: date

    def context(self, posted: dict[str, str] | None = None) -> dict[str, Any]:
        m, shown = self.member, posted or {}
        choice = lunch_choice(m, self.today)
        return {
            "group_name": self.group.sender_name, "member_name": m.name,
            "email": shown.get("email", "on" if m.subscribed else "off"),
            "subscribed": m.subscribed, "bounced": m.bounced,
            "meetups": shown.get("meetups", "on" if m.meetup_mail else "off"),
            "intro_thanks": shown.get("intro_thanks", "on" if m.intro_thanks else "off"),
            "lunch": shown.get("lunch", choice),
            "paused_until": shown.get("paused_until", m.lunch.paused_until if choice == "paused" else ""),
            "auto_paused": m.lunch.opted_in and m.lunch.paused,
            "has_place": bool(m.lunch.city or m.lunch.virtual),
            "preferences_url": links.lunch_url(self.group.group_id, m.member_id),
            "min_date": (self.today + timedelta(days=1)).isoformat(),
            "max_date": (self.today + MAX_PAUSE).isoformat(),
        }


class SettingsInvalid(errors.InvalidInput):
    """Raised when the settings form does not validate; carries what was posted, to show again."""

    def __init__(self, message: str, field: str, posted: dict[str, str]) -> None:
        super().__init__(message, field=field)
        self.posted = posted


def _view(token: str) -> SettingsView:
    claims = links.read("settings", token)
    store = deps.store()
    group = store.groups.get(claims.group_id)
    member = store.members.get(claims.group_id, claims.member_id) if group else None
    if group is None or member is None:
        raise errors.NotFound("no such member")
    return SettingsView(group, member, today_for(member, group, deps.now()))


def show_settings(token: str) -> SettingsView:
    """GET: the member's settings as they are; changes nothing."""
    return _view(token)


@dataclass(frozen=True)
class Choices:
    email: bool
    meetups: bool
    lunch: str
    paused_until: str | None


def parse(form: dict[str, list[str]], today: date) -> Choices:
    """The posted choices, or SettingsInvalid naming the first bad field."""
    posted = {name: (form.get(name) or [""])[0] for name in (*_CHOICES, "paused_until")}
    for name, values in form.items():
        if name in posted and (len(values) > 1 or any(len(v) > MAX_FIELD for v in values)):
            raise SettingsInvalid("send one short value" if len(values) > 1 else "is too long", name,
                                  {k: v[:MAX_FIELD] for k, v in posted.items()})
    for name, allowed in _CHOICES.items():
        if posted[name] not in allowed:
            raise SettingsInvalid(f"choose one of: {', '.join(allowed)}", name, posted)
    until = None
    if posted["lunch"] == "paused":
        text = posted["paused_until"].strip()
        try:
            day = date.fromisoformat(text) if _DATE.fullmatch(text) else None
        except ValueError:
            day = None
        if day is None:
            raise SettingsInvalid("give a date such as 2027-01-31", "paused_until", posted)
        if day <= today:
            raise SettingsInvalid("must be after today", "paused_until", posted)
        if day > today + MAX_PAUSE:
            raise SettingsInvalid("must be within a year", "paused_until", posted)
        until = day.isoformat()
    return Choices(email=posted["email"] == "on", meetups=posted["meetups"] == "on", lunch=posted["lunch"],
                   paused_until=until)


def save_settings(token: str, form: dict[str, list[str]]) -> SettingsView:
    """POST: validate every field first, then save them in one write (nothing for a bad form)."""
    view = _view(token)
    choices = parse(form, view.today)
    # The monthly thanks for introductions (services/intros.py); a form without it keeps it.
    sent = form.get("intro_thanks") or []
    thanks = sent[0] if sent else None
    if thanks not in (None, "on", "off") or len(sent) > 1:
        raise SettingsInvalid("choose one of: on, off", "intro_thanks",
                              {k: (form.get(k) or [""])[0][:MAX_FIELD] for k in (*_CHOICES, "paused_until")})
    m = view.member
    if choices.lunch != "off" and not (m.lunch.city or m.lunch.virtual):
        raise SettingsInvalid("first tell us your city, or choose virtual, on your lunch preferences page",
                              "lunch", {k: (form.get(k) or [""])[0] for k in (*_CHOICES, "paused_until")})
    now = deps.now()

    def edit(member: Member) -> Member:
        prefs = member.lunch
        if choices.lunch == "off":
            prefs = prefs.model_copy(update={"opted_in": False, "paused_until": None, "mail": False})
        else:  # on, or paused until a date: opted in, any earlier pause over
            prefs = prefs.model_copy(update={"opted_in": True, "paused": False, "mail": True,
                                             "paused_until": choices.paused_until})
        updated = member.model_copy(update={"subscribed": choices.email, "meetup_mail": choices.meetups,
                                            "lunch": prefs, "unsubscribed_at": now if member.subscribed and
                                            not choices.email else member.unsubscribed_at})
        if thanks is not None:
            updated = updated.model_copy(update={"intro_thanks": thanks == "on"})
        return updated if updated == member else updated.model_copy(update={"updated_at": now})

    member = deps.store().members.change(view.group.group_id, m.member_id, edit)
    return SettingsView(view.group, member, view.today)
