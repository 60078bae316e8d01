"""Pydantic v2 models: what comes in (strict, extra fields refused), what is stored, what goes out.

Stored models carry UTC datetimes; `*_out()` helpers render them in the owning zone.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Final, Literal, NamedTuple

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from chalicelib import errors, slots, timeutil
from chalicelib.vocabulary import MAX_PHRASES, PHRASE_LENGTH, SLOTS, Goal, Weekday, phrases


class InModel(BaseModel):
    """Base for request bodies: unknown fields are an error, strings are trimmed. Validators are
    built on first use (defer_build): a function pays only for the models it touches."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class Stored(BaseModel):
    """Base for what the store returns (validators built on first use, as above)."""

    model_config = ConfigDict(extra="ignore", defer_build=True)


def _lower_email(value: str) -> str:
    return value.strip().lower()


def _no_control(value: str) -> str:
    if any((ord(c) < 32 and c not in "\n\t") or c == "\x7f" for c in value):
        raise ValueError("must not contain control characters")
    return value


Email = Annotated[EmailStr, AfterValidator(_lower_email)]
Zone = Annotated[str, AfterValidator(timeutil.check_zone)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_no_control)]
ShortText = Annotated[str, StringConstraints(max_length=280), AfterValidator(_no_control)]
LongText = Annotated[str, StringConstraints(max_length=5000), AfterValidator(_no_control)]


def _as_phrases(value: Any) -> Any:
    """Asks or offers as a list of phrases; a string (old free text, or an API client that
    sends one) is split at commas, semicolons and line breaks."""
    return list(phrases(value)) if isinstance(value, str | list | tuple) and all(
        isinstance(v, str) for v in ([value] if isinstance(value, str) else value)) else value


def _as_stored_phrases(value: Any) -> Any:
    """An answer stored before phrases: split as above, and at most MAX_PHRASES kept by
    joining the rest into the last, so nothing the member wrote is lost."""
    found = _as_phrases(value)
    if isinstance(found, list) and len(found) > MAX_PHRASES:
        found = [*found[: MAX_PHRASES - 1], ", ".join(found[MAX_PHRASES - 1 :])]
    return found


Phrase = Annotated[str, StringConstraints(min_length=1, max_length=PHRASE_LENGTH), AfterValidator(_no_control)]
Phrases = Annotated[list[Phrase], BeforeValidator(_as_phrases), Field(max_length=MAX_PHRASES)]


def _https(value: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.netloc or any(c.isspace() for c in value):
        raise ValueError("must be an https:// URL")
    return value


HttpsUrl = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_https)]

# ---------------------------------------------------------------- groups


class GroupIn(InModel):
    name: Name
    timezone: Zone
    sender_name: Name
    reply_to: Email | None = None


class GroupPatch(InModel):
    name: Name | None = None
    timezone: Zone | None = None
    sender_name: Name | None = None
    reply_to: Email | None = None
    join_open: bool | None = None  # the public join page takes new members
    join_daily_cap: Annotated[int, Field(ge=0, le=100_000)] | None = None  # public-page emails a day


class Group(Stored):
    group_id: str
    name: str
    timezone: str
    sender_name: str
    reply_to: str | None = None
    join_open: bool = True
    join_daily_cap: int = 500
    created_at: datetime
    # Who may sign in to the console (lower-cased emails); changed only with the organizer
    # index items (store.console), never through the JSON API.
    organizers: list[str] = []

    def out(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude={"organizers"})
        data["created_at"] = timeutil.in_zone(self.created_at, self.timezone).isoformat()
        return data


class ApiKey(Stored):
    key_id: str
    group_id: str
    key_hash: str
    created_at: datetime
    revoked_at: datetime | None = None


# ---------------------------------------------------------------- members and lunch preferences

SLOT_SET = frozenset(SLOTS)
Tag = Annotated[str, StringConstraints(min_length=1, max_length=40), AfterValidator(_no_control)]


def _slot(value: str) -> str:
    if value not in SLOT_SET:
        raise ValueError("must be a weekday and part of day such as 'tue-lunch'")
    return value


Slot = Annotated[str, AfterValidator(_slot)]


class LunchPrefsPatch(InModel):
    """Lunch preferences as a member (or organizer) sends them; omitted fields stay as they are."""

    opted_in: bool | None = None
    skip_next: bool | None = None
    city: Annotated[str, StringConstraints(max_length=100), AfterValidator(_no_control)] | None = None
    virtual: bool | None = None
    interests: Annotated[list[Tag], Field(max_length=20)] | None = None
    goals: Annotated[list[Goal], Field(max_length=7)] | None = None
    offers: Phrases | None = None  # "I can help with": up to 5 short phrases
    asks: Phrases | None = None  # "I'd like help with"
    availability: Annotated[list[Slot], Field(max_length=28)] | None = None
    meetup_people: bool | None = None  # people to meet at meetups (see LunchPrefs)

    @field_validator("interests")
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        return sorted({" ".join(t.lower().split()) for t in value if t.strip()})


class LunchPrefs(Stored):
    opted_in: bool = False
    skip_next: bool = False
    paused: bool = False
    # Set on the email settings page (ISO date, like a round's local_date): out of rounds before
    # this date, back by itself from it on.
    paused_until: str | None = None
    mail: bool = True  # lunch emails; False once the member turned lunch pairing off in settings
    city: str | None = None
    virtual: bool = False
    interests: list[str] = Field(default_factory=list)
    goals: list[str] = Field(default_factory=list)
    offers: Annotated[list[str], BeforeValidator(_as_stored_phrases)] = Field(default_factory=list)
    asks: Annotated[list[str], BeforeValidator(_as_stored_phrases)] = Field(default_factory=list)
    availability: list[str] = Field(default_factory=list)
    # A `meetup_people` email before meetups they go to: None until chosen, which means on for
    # lunch participants (see `wants_meetup_people`).
    meetup_people: bool | None = None

    @property
    def wants_meetup_people(self) -> bool:
        return self.opted_in if self.meetup_people is None else self.meetup_people

    def merged(self, patch: LunchPrefsPatch) -> LunchPrefs:
        changes = patch.model_dump(exclude_none=True)
        if "goals" in changes:
            changes["goals"] = sorted(set(changes["goals"]))
        if "availability" in changes:
            changes["availability"] = sorted(set(changes["availability"]))
        if changes.get("opted_in"):
            changes["paused"] = False
            changes["mail"] = True
        return self.model_copy(update=changes)

    def pairable_on(self, day: date) -> bool:
        """Whether a round on this (local) date may pair them: opted in, not paused, and any
        pause chosen in settings over by then."""
        return (self.opted_in and not self.paused
                and (self.paused_until is None or day.isoformat() >= self.paused_until))


class MemberIn(InModel):
    email: Email
    name: Name
    headline: Annotated[str, StringConstraints(max_length=200), AfterValidator(_no_control)] = ""
    timezone: Zone | None = None  # IANA; None: the group's
    lunch: LunchPrefsPatch | None = None


class MembersIn(InModel):
    members: Annotated[list[MemberIn], Field(min_length=1, max_length=500)]


class MemberPatch(InModel):
    name: Name | None = None
    headline: Annotated[str, StringConstraints(max_length=200), AfterValidator(_no_control)] | None = None
    subscribed: bool | None = None
    timezone: Zone | None = None  # null: back to the group's zone
    lunch: LunchPrefsPatch | None = None


# Email kinds as the settings page groups them (Member.wants). Any other kind is sent to every
# subscribed member: RSVP confirmations answer their own click, organizer mail is the organizer's.
MEETUP_MAIL: Final = frozenset({"rsvp_invite", "rsvp_promoted", "meetup_updated", "meetup_cancelled",
                                "meetup_reminder"})
LUNCH_MAIL: Final = frozenset({"lunch_invite", "lunch_intro", "lunch_connected", "lunch_declined",
                               "lunch_nudge", "lunch_unmatched", "lunch_followup", "lunch_paused",
                               "lunch_reconnect", "lunch_no_show_paused"})
# Mail someone asked for a moment ago (a fresh link, a join confirmation, their links, a console
# sign-in link): it goes even while unsubscribed, or they could never get back in.
REQUESTED_MAIL: Final = frozenset({"console_signin", "fresh_link", "join_confirm", "member_links"})


MemberSource = Literal["api", "join_page"]


class Member(Stored):
    member_id: str
    group_id: str
    email: str
    name: str
    headline: str = ""
    source: MemberSource = "api"  # how they joined: added by the organizer, or the public join page
    subscribed: bool = True
    bounced: bool = False  # SES reported a permanent bounce: the address takes no mail
    complained: bool = False  # they marked our mail as spam (an SES complaint): no mail, ever
    meetup_mail: bool = True  # meetup invitations, reminders and changes (the settings page)
    intro_thanks: bool = True  # the monthly thank-you for introductions made (the settings page)
    timezone: str | None = None  # IANA: the zone their slots and times are read in (None: the group's)
    lunch: LunchPrefs = Field(default_factory=LunchPrefs)
    created_at: datetime
    updated_at: datetime
    unsubscribed_at: datetime | None = None  # the last time they (or the organizer) turned email off

    @property
    def reachable(self) -> bool:
        """Their address takes mail: it has not bounced, and they never marked our mail as spam
        (an SES complaint stops everything, even mail they ask for)."""
        return not self.bounced and not self.complained

    @property
    def mailable(self) -> bool:
        """Mail may go to them: subscribed, their address has not bounced, and they never
        marked our mail as spam."""
        return self.subscribed and self.reachable

    def wants(self, kind: str) -> bool:
        """Whether an email of this kind goes to them: the one decision, made at send time
        (services.outbox.deliver_batch). Mail they just asked for goes whenever the address
        works; the rest needs them subscribed, and meetup or lunch mail that kind turned on."""
        if kind in REQUESTED_MAIL:
            return self.reachable
        if not self.mailable:
            return False
        if kind in MEETUP_MAIL:
            return self.meetup_mail
        if kind in LUNCH_MAIL:
            return self.lunch.mail
        if kind == "intro_thanks":
            return self.intro_thanks
        return True

    def out(self, zone_name: str) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        data["created_at"] = timeutil.in_zone(self.created_at, zone_name).isoformat()
        data["updated_at"] = timeutil.in_zone(self.updated_at, zone_name).isoformat()
        if self.unsubscribed_at is not None:
            data["unsubscribed_at"] = timeutil.in_zone(self.unsubscribed_at, zone_name).isoformat()
        return data


# ---------------------------------------------------------------- meetups


# Who the meetup's public page (/events/{group_id}/{meetup_id}) shows it to: "members" (the page
# says members only and offers the join link) or "public" (anyone sees it and can ask for a link).
Visibility = Literal["members", "public"]


class Venue(InModel):
    name: Name
    address: Annotated[str, StringConstraints(min_length=1, max_length=500), AfterValidator(_no_control)]


class MeetupIn(InModel):
    """A meetup as created, and as checked again after every PATCH (merged with what is stored)."""

    title: Name
    description: LongText = ""
    starts_at: datetime
    ends_at: datetime
    timezone: Zone
    venue: Venue | None = None
    online_url: HttpsUrl | None = None
    capacity: Annotated[int, Field(ge=1, le=100_000)] | None = None
    waitlist: bool = True
    guests_allowed: Annotated[int, Field(ge=0, le=5)] = 0
    rsvp_closes_at: datetime | None = None
    visibility: Visibility = "members"

    @model_validator(mode="after")
    def _times_and_place(self) -> MeetupIn:
        self.starts_at = timeutil.as_utc(self.starts_at, self.timezone)
        self.ends_at = timeutil.as_utc(self.ends_at, self.timezone)
        if self.rsvp_closes_at is not None:
            self.rsvp_closes_at = timeutil.as_utc(self.rsvp_closes_at, self.timezone)
        # Raised as InvalidInput (not ValueError) so the answer names the field.
        if self.ends_at <= self.starts_at:
            raise errors.InvalidInput("must be after starts_at", field="ends_at")
        if self.rsvp_closes_at is not None and self.rsvp_closes_at > self.starts_at:
            raise errors.InvalidInput("must not be after starts_at", field="rsvp_closes_at")
        if self.venue is None and self.online_url is None:
            raise errors.InvalidInput("give a venue (name, address) or an online_url", field="venue")
        return self


class MeetupPatch(InModel):
    title: Name | None = None
    description: LongText | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    timezone: Zone | None = None
    venue: Venue | None = None
    online_url: HttpsUrl | None = None
    capacity: Annotated[int, Field(ge=1, le=100_000)] | None = None
    waitlist: bool | None = None
    guests_allowed: Annotated[int, Field(ge=0, le=5)] | None = None
    rsvp_closes_at: datetime | None = None
    visibility: Visibility | None = None


Note = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_no_control)]


class MeetupCancelIn(InModel):
    """Cancelling from the console: the reason goes into everyone's cancellation email."""

    reason: Note = ""


class MeetupMessageIn(InModel):
    """A short note from the organizer to a meetup's going and/or waitlisted members.
    `message_id` is minted with the form, so sending the same form twice records each email once."""

    message_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{16,64}$")]
    note: Annotated[str, StringConstraints(min_length=1, max_length=2000), AfterValidator(_no_control)]
    going: bool = False
    waitlisted: bool = False

    @model_validator(mode="after")
    def _someone(self) -> MeetupMessageIn:
        if not (self.going or self.waitlisted):
            raise errors.InvalidInput("choose going, waitlisted or both", field="going")
        return self


MeetupStatus = Literal["scheduled", "cancelled"]


class Meetup(Stored):
    meetup_id: str
    group_id: str
    title: str
    description: str = ""
    starts_at: datetime
    ends_at: datetime
    timezone: str
    venue: dict[str, str] | None = None
    online_url: str | None = None
    capacity: int | None = None
    waitlist: bool = True
    guests_allowed: int = 0
    rsvp_closes_at: datetime
    visibility: Visibility = "members"
    status: MeetupStatus = "scheduled"
    cancel_reason: str | None = None  # the organizer's words when they cancelled (the console)
    going_seats: int = 0
    waitlist_count: int = 0
    sequence: int = 0
    created_at: datetime
    updated_at: datetime

    @property
    def seats_left(self) -> int | None:
        return None if self.capacity is None else max(0, self.capacity - self.going_seats)

    def is_open(self, now: datetime) -> bool:
        return self.status == "scheduled" and now < self.rsvp_closes_at

    @property
    def place(self) -> str:
        if self.venue:
            return f"{self.venue['name']}, {self.venue['address']}"
        return self.online_url or ""

    def out(self) -> dict[str, Any]:
        tz = self.timezone
        data = self.model_dump(mode="json", exclude={"going_seats"})
        for name in ("starts_at", "ends_at", "rsvp_closes_at", "created_at", "updated_at"):
            data[name] = timeutil.in_zone(getattr(self, name), tz).isoformat()
        data["going_count"] = self.going_seats
        data["seats_left"] = self.seats_left
        return data


# ---------------------------------------------------------------- RSVPs

RsvpStatus = Literal["going", "waitlisted", "not_going"]


class RsvpAnswer(InModel):
    status: Literal["going", "not_going"]
    guests: Annotated[int, Field(ge=0, le=5)] = 0


class Rsvp(Stored):
    meetup_id: str
    member_id: str
    group_id: str
    status: RsvpStatus
    guests: int = 0
    answered_at: datetime
    waitlisted_at: datetime | None = None
    checked_in_at: datetime | None = None
    version: int = 1

    @property
    def seats(self) -> int:
        return 1 + self.guests


# ---------------------------------------------------------------- lunch programme

Cadence = Literal["weekly", "biweekly", "monthly"]


class LunchProgramIn(InModel):
    enabled: bool = True
    cadence: Cadence = "biweekly"
    weekday: Weekday = "tue"
    local_hour: Annotated[int, Field(ge=0, le=23)] = 10
    repeat_window: Annotated[
        int,
        Field(
            ge=1, le=1000,
            description="Rounds within which two members never meet again: a hard rule. Unset (the default):"
            " everyone meets someone new while anyone new is left; a member with nobody new left repeats"
            " with whoever they met longest ago, and the intro says so.",
        ),
    ] | None = None
    odd_rule: Annotated[
        Literal["trio", "sit_out"],
        Field(
            description="One trio or sit-out per city: with `trio`, a city (or the virtual group) with an odd"
            " count makes one trio where three members share a slot, else one member sits out; with `sit_out`,"
            " one member sits out."
        ),
    ] = "trio"
    slot_times: Annotated[
        dict[str, str],
        AfterValidator(slots.check_times),
        Field(
            description="The local time each part of the day means, 24-hour \"HH:MM\" per part (breakfast,"
            " coffee, lunch, after_work); parts left out keep the default (08:30, 10:30, 12:30, 18:00). A pair's"
            " proposed time is its slot's day at this time in the zone the slot is read in; virtual members in"
            " different zones share a slot only when these instants are within 2 hours of each other."
        ),
    ] = Field(default_factory=lambda: dict(slots.DEFAULT_TIMES))
    reconnect_after_months: Annotated[
        int,
        Field(
            ge=0, le=24, strict=True,
            description="Months after a lunch that both rated 4 or 5 when each gets one email suggesting"
            " they catch up (both say yes: they are connected again). 0 turns it off.",
        ),
    ] = 6
    review: Annotated[
        bool,
        Field(
            strict=True,
            description="Review before sending: a due round is planned but not sent. The organizer is"
            " emailed, may swap two members between pairs or take a pair out (they sit out, first in line"
            " next round), and approves to send the intros. A round not approved within 48 hours expires"
            " with nothing sent.",
        ),
    ] = False


class LunchProgram(Stored):
    group_id: str
    enabled: bool = True
    cadence: Cadence = "biweekly"
    weekday: Weekday = "tue"
    local_hour: int = 10
    repeat_window: int | None = None
    odd_rule: Literal["trio", "sit_out"] = "trio"
    slot_times: dict[str, str] = Field(default_factory=lambda: dict(slots.DEFAULT_TIMES))
    reconnect_after_months: int = 6
    review: bool = False
    last_round_date: str | None = None
    created_at: datetime
    updated_at: datetime


# ---------------------------------------------------------------- lunch rounds and pairs

# started -> planned -> done; with review: planned -> review -> (approved) planned -> done, or
# review -> expired (48 hours without approval: nothing sent).
RoundStatus = Literal["started", "planned", "review", "done", "expired"]
FINISHED_ROUNDS: tuple[RoundStatus, ...] = ("done", "expired")
PairResponse = Literal["confirmed", "declined"]


class LunchInvitesIn(InModel):
    """Whom to invite to set lunch preferences: the given members, or every subscribed one."""

    member_ids: (
        Annotated[list[Annotated[str, StringConstraints(max_length=40)]], Field(min_length=1, max_length=500)] | None
    ) = None


class LunchRoundIn(InModel):
    """Starting a round by hand. `again` starts one even though an organizer already started
    one today or another round is still running (strict: only true or false)."""

    again: Annotated[bool, Field(strict=True)] = False


class LunchRound(Stored):
    round_id: str
    group_id: str
    local_date: str  # the group's local date the round belongs to
    trigger: Literal["schedule", "manual"] = "schedule"
    seq: int = 0  # the group's round number: orders rounds for history
    status: RoundStatus = "started"
    odd_rule: Literal["trio", "sit_out"] = "trio"
    repeat_window: int | None = None
    pair_count: int = 0
    sat_out: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)
    total_score: float = 0.0
    # Why a round paired nobody, in words for the organizer ("everyone has met everyone"); None
    # when it paired someone.
    outcome: str | None = None
    # After this round: how many of its members still have someone they could meet and never
    # have (when it falls, the group is running out of new pairs).
    new_pairs_left: int | None = None
    participants: int = 0  # members planned in this round (opted in, not paused, not skipping)
    # More than a quarter of them have nobody new left for the next round (see
    # services.pairing: the organizer is told once, when a round first crosses that line).
    running_dry: bool = False
    followups_sent: bool = False
    # Review before sending (the programme's `review` when the round was created): planned,
    # then held until an organizer approves (`approved_at`) or `review_until` passes.
    review: bool = False
    review_until: datetime | None = None
    approved_at: datetime | None = None
    expired_at: datetime | None = None
    version: int = 0  # counts the organizer's edits: a form from before an edit is refused
    edits: list[RoundEdit] = Field(default_factory=list)
    created_at: datetime
    planned_at: datetime | None = None
    done_at: datetime | None = None

    @property
    def happened(self) -> bool:
        """Planned and not held back: its pairs count as history for later rounds."""
        return self.status == "done" or (self.status == "planned" and (not self.review or self.approved_at is not None))

    def out(self, zone_name: str) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude={"skipped"})
        for name in ("created_at", "planned_at", "done_at", "review_until", "approved_at", "expired_at"):
            value = getattr(self, name)
            data[name] = timeutil.in_zone(value, zone_name).isoformat() if value else None
        return data


class RoundEdit(Stored):
    """One organizer edit of a round in review, with what it did to the score."""

    kind: Literal["swap", "remove_pair"]
    member_ids: list[str]  # swapped (two), or the pair taken out
    score_before: float  # of the pairs it touched
    score_after: float
    at: datetime


class LunchRoundEditIn(InModel):
    """One edit of a round in review: `swap` two members between pairs (or a paired member with
    one sitting out), or `remove_pair` (its members sit out, first in line next round).
    `version` (the round's, as last read) refuses an edit made on a stale view."""

    swap: (
        Annotated[list[Annotated[str, StringConstraints(max_length=40)]], Field(min_length=2, max_length=2)] | None
    ) = None
    remove_pair: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None
    version: Annotated[int, Field(ge=0, strict=True)] | None = None

    @model_validator(mode="after")
    def _one_edit(self) -> LunchRoundEditIn:
        if (self.swap is None) == (self.remove_pair is None):
            raise errors.InvalidInput("give one edit: swap or remove_pair", field="swap")
        if self.swap is not None and self.swap[0] == self.swap[1]:
            raise errors.InvalidInput("name two different members", field="swap")
        return self


class PairFeedback(Stored):
    met: bool  # the lunch happened (in a trio: with at least one partner)
    rating: int | None = None
    note: str = ""
    no_show: list[str] = Field(default_factory=list)  # partners who didn't come
    at: datetime


class PairReason(Stored):
    """Why they should meet, as data (chalicelib/reasons.py says it to each reader): which
    sentence, the member ids it names in order, and the words it quotes. Never a name, so an
    erased member leaves none behind. Reasons stored as plain text (before reasons became
    data) read as kind "text" with `{member_id}` placeholders."""

    kind: str
    who: list[str] = Field(default_factory=list)
    words: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        return {"kind": "text", "words": {"text": value}} if isinstance(value, str) else value


class LunchPair(Stored):
    """One pair (or trio) of a round."""

    pair_id: str
    round_id: str
    group_id: str
    member_ids: list[str]
    score: float = 0.0
    reasons: list[PairReason] = Field(default_factory=list)
    slot: str | None = None
    slot_zone: str | None = None  # the IANA zone `slot` is read in (None: the group's)
    # "round": planned by the round; "rematch": members left alone by a decline, paired again
    # within the round; "reconnect": a good match who both said yes to meeting again;
    # "waitlist": two still waitlisted when a full meetup started (round_id from the meetup).
    origin: Literal["round", "rematch", "reconnect", "waitlist"] = "round"
    responses: dict[str, PairResponse] = Field(default_factory=dict)
    feedback: dict[str, PairFeedback] = Field(default_factory=dict)
    blocked_by: list[str] = Field(default_factory=list)
    connected_at: datetime | None = None  # everyone confirmed: each got the others' addresses
    created_at: datetime

    def answered_by(self, member_id: str) -> bool:
        return member_id in self.responses or member_id in self.feedback or member_id in self.blocked_by


class PairFeedbackIn(InModel):
    """Met (with a rating 1-5 and a note), didn't meet, or "they didn't show" (`no_show` names
    the partners who didn't come; in a trio the lunch may still have happened with the other)."""

    met: bool
    rating: Annotated[int, Field(ge=1, le=5)] | None = None
    note: Annotated[str, StringConstraints(max_length=1000), AfterValidator(_no_control)] = ""
    no_show: Annotated[list[Annotated[str, StringConstraints(max_length=40)]], Field(max_length=2)] = (
        Field(default_factory=list))

    @model_validator(mode="after")
    def _rating_when_met(self) -> PairFeedbackIn:
        if self.rating is not None and not self.met:
            raise errors.InvalidInput("give a rating only when you met", field="rating")
        return self


class LunchReconnect(Stored):
    """A suggestion to two members who both rated their lunch 4 or more to catch up: each
    answers yes or no; with two yeses they meet again as a pair of origin "reconnect"."""

    reconnect_id: str
    group_id: str
    member_ids: list[str]
    pair_id: str  # the lunch they rated
    round_id: str
    answers: dict[str, Literal["yes", "no"]] = Field(default_factory=dict)
    connected_pair_id: str | None = None
    created_at: datetime


class Noted(NamedTuple):
    """One entry of a lunch record's sets, stored as "<when>/<who>": when is a round id or a
    time as the store writes it (timeutil.to_store), who a member id or, for a no-show
    report, a pair id. Services read and write entries through this, never the string."""

    when: str
    who: str

    @classmethod
    def read(cls, stored: str) -> Noted:
        when, _, who = stored.partition("/")
        return cls(when, who)

    def stored(self) -> str:
        return f"{self.when}/{self.who}"


class LunchRecord(Stored):
    """Per member: whom they met in which round, their pairs, whom they blocked."""

    member_id: str
    met: list[str] = Field(default_factory=list)  # "<round_id>/<partner_id>": read with `meetings`
    pairs: list[str] = Field(default_factory=list)  # pair ids, time-sortable
    blocked: list[str] = Field(default_factory=list)  # member ids
    sat_out_round: str | None = None
    sat_out_rounds: list[str] = Field(default_factory=list)  # every round they sat out
    missed_rounds: list[str] = Field(default_factory=list)  # rounds whose lunch they didn't keep
    paused_round: str | None = None
    # Reported as a no-show: "<round_id>/<pair_id>", one per pairing whoever reported it.
    no_shows: list[str] = Field(default_factory=list)
    # Paused for NO_SHOW_PAUSE_ROUNDS rounds after this round (the last one done when paused),
    # because of the no-show report in pair `benched_for`; back in by itself after.
    benched_after: str | None = None
    benched_for: str | None = None
    # Reconnected with a good match: "<when, keys.to_store>/<partner_id>".
    reconnected: list[str] = Field(default_factory=list)
    reconnect_mailed_at: datetime | None = None  # the last reconnect suggestion (one a month)
    # Met outside the lunch rounds: "<when, keys.to_store>/<partner_id>", for an introduction
    # both accepted (services/intros.py) or a meetup where they said they met the one suggested
    # (services/meetup_people.py). The repeat rule counts each as a meeting (intros.as_met).
    # The attribute keeps the name it was stored under first.
    introduced: list[str] = Field(default_factory=list)

    def meetings(self) -> list[Noted]:
        """(round id, partner) of each lunch they met at, one a partner a round."""
        return [Noted.read(entry) for entry in self.met]

    def met_in(self, round_id: str, partner_id: str) -> bool:
        """Whether they met `partner_id` in round `round_id` (a decline takes it back)."""
        return Noted(round_id, partner_id).stored() in self.met

    def met_outside(self) -> list[Noted]:
        """(time, partner) of each meeting outside the rounds: an intro, a meetup."""
        return [Noted.read(entry) for entry in self.introduced]

    def reconnections(self) -> list[Noted]:
        """(time, partner) of each reconnect both said yes to."""
        return [Noted.read(entry) for entry in self.reconnected]


# ---------------------------------------------------------------- background jobs (invitations)

JobStatus = Literal["queued", "running", "done", "failed"]
JobKind = Literal["invite.meetup", "invite.lunch", "import.members"]


class Job(Stored):
    """A background job, advanced page by page by the jobs worker.

    An invitation (`invite.*`) records a page of members' mail at a time, delivered by the
    mail worker: done when every page is recorded and every recorded mail is sent, suppressed
    or dead. A CSV import (`import.members`) creates a page of checked rows at a time: done
    when its last page is imported."""

    job_id: str
    group_id: str
    kind: JobKind
    meetup_id: str | None = None  # invite.meetup: which meetup
    member_ids: list[str] | None = None  # given ids, or None for every member, page by page
    status: JobStatus = "queued"
    page: int = 0  # the next page to record
    cursor: str | None = None  # where the next page of members starts (None: the first)
    pages_done: bool = False
    total: int = 0  # members looked at
    recorded: int = 0  # mails recorded (new)
    sent: int = 0
    skipped: int = 0  # already invited, unsubscribed or bounced when recorded
    suppressed: int = 0  # unsubscribed or bounced by the time it was sent
    failed: int = 0  # mail that stayed dead after every attempt
    pages: int | None = None  # import.members: pages of rows to import
    created: int = 0  # import.members: members added
    existed: int = 0  # import.members: addresses already in the group, left as they were
    problems: int = 0  # import.members: rows not imported (their lines and fields are stored apart)
    error: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def settled(self) -> bool:
        if self.kind == "import.members":
            return self.pages_done
        return self.pages_done and self.sent + self.suppressed + self.failed >= self.recorded

    def out(self, zone_name: str) -> dict[str, Any]:
        def local(at: datetime | None) -> str | None:
            return timeutil.in_zone(at, zone_name).isoformat() if at else None

        return {"job_id": self.job_id, "kind": self.kind, "meetup_id": self.meetup_id,
                "status": self.status, "total": self.total, "recorded": self.recorded,
                "sent": self.sent, "skipped": self.skipped + self.suppressed, "failed": self.failed,
                "created": self.created, "existed": self.existed, "problems": self.problems,
                "error": self.error, "created_at": local(self.created_at),
                "started_at": local(self.started_at), "finished_at": local(self.finished_at)}
