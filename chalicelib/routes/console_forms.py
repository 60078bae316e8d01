"""Console forms as the models want them, and the models' complaints in plain words beside the
field that caused them. Parsing only: no I/O, nothing changed.

A form field is one value (a second value for the same name is refused); dates come from
`<input type="datetime-local">` ("2026-12-03T08:30", read in the meetup's zone by MeetupIn).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Final, TypeVar
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from chalicelib import errors
from chalicelib.models import Meetup, MeetupIn, MeetupPatch

MAX_FIELD: Final = 6000  # characters in any one field (the description allows 5000)

MEETUP_FIELDS: Final = ("title", "description", "starts_at", "ends_at", "timezone", "venue_name",
                        "venue_address", "online_url", "capacity", "guests_allowed", "rsvp_closes_at",
                        "visibility", "waitlist")
MEMBER_FIELDS: Final = ("email", "name", "headline", "timezone")

# Where a model's field (or a nested path) is shown on the form.
_PLACE: Final = {"venue": "venue_name", "venue.name": "venue_name", "venue.address": "venue_address"}


MeetupBody = TypeVar("MeetupBody", MeetupIn, MeetupPatch)


class FormErrors(Exception):
    """Raised when posted fields fail: `errors` maps form field -> message, `posted` is what was
    sent (to show again)."""

    def __init__(self, errors: dict[str, str], posted: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
        self.posted = posted


def posted(form: dict[str, list[str]], names: tuple[str, ...]) -> dict[str, str]:
    """One trimmed value per known field; a repeated or overlong field is an error beside it."""
    values: dict[str, str] = {}
    problems: dict[str, str] = {}
    for name in names:
        got = form.get(name) or [""]
        values[name] = got[0].strip()[:MAX_FIELD]
        if len(got) > 1:
            problems[name] = "was sent twice; send it once"
        elif len(got[0]) > MAX_FIELD:
            problems[name] = f"is too long (at most {MAX_FIELD} characters)"
    if problems:
        raise FormErrors(problems, values)
    return values


def _whole(values: dict[str, str], name: str, problems: dict[str, str]) -> int | None:
    text = values.get(name, "")
    if text == "":
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 7:
        problems[name] = "must be a whole number"
        return None
    return int(text)


def meetup_from(values: dict[str, str], model: type[MeetupBody]) -> MeetupBody:
    """A MeetupIn or MeetupPatch from the form (every field given: an empty one clears it).
    Everything wrong is said at once: a missing time or a seat count that is not a number, and
    beside them whatever the model finds in the other fields (an empty title, say)."""
    try:
        return model.model_validate(meetup_data(values))
    except FormErrors as missing:
        data = {**meetup_data(values, check=False), **{name: None for name in missing.errors}}
        try:
            model.model_validate(data)
        except ValidationError as exc:
            raise FormErrors(form_errors(exc, values).errors | missing.errors, values) from None
        raise


def meetup_data(values: dict[str, str], *, check: bool = True) -> dict[str, Any]:
    """A MeetupIn/MeetupPatch body from the form (every field given: an empty one clears it);
    FormErrors for what the model cannot say in the form's words, unless `check` is off."""
    problems: dict[str, str] = {}
    venue = None
    if values["venue_name"] or values["venue_address"]:
        venue = {"name": values["venue_name"], "address": values["venue_address"]}
    data: dict[str, Any] = {
        "title": values["title"], "description": values["description"],
        "starts_at": values["starts_at"] or None, "ends_at": values["ends_at"] or None,
        "timezone": values["timezone"], "venue": venue, "online_url": values["online_url"] or None,
        "capacity": _whole(values, "capacity", problems),
        "guests_allowed": _whole(values, "guests_allowed", problems) or 0,
        "rsvp_closes_at": values["rsvp_closes_at"] or None,
        "visibility": values["visibility"] or "members", "waitlist": values["waitlist"] == "on",
    }
    for name in ("starts_at", "ends_at"):
        if data[name] is None:
            problems[name] = "is required"
    if problems and check:
        raise FormErrors(problems, values)
    return data


def meetup_values(meetup: Meetup) -> dict[str, str]:
    """The form's fields for a stored meetup (times in its own zone, as the inputs show them)."""
    zone = ZoneInfo(meetup.timezone)

    def local(at: datetime) -> str:
        return at.astimezone(zone).strftime("%Y-%m-%dT%H:%M")

    venue = meetup.venue or {}
    return {
        "title": meetup.title, "description": meetup.description, "starts_at": local(meetup.starts_at),
        "ends_at": local(meetup.ends_at), "timezone": meetup.timezone, "venue_name": venue.get("name", ""),
        "venue_address": venue.get("address", ""), "online_url": meetup.online_url or "",
        "capacity": "" if meetup.capacity is None else str(meetup.capacity),
        "guests_allowed": str(meetup.guests_allowed),
        "rsvp_closes_at": "" if meetup.rsvp_closes_at == meetup.starts_at else local(meetup.rsvp_closes_at),
        "visibility": meetup.visibility, "waitlist": "on" if meetup.waitlist else "",
    }


_WORDS: Final = {
    "starts_at": "the start", "ends_at": "the end", "rsvp_closes_at": "answers close",
}


@contextmanager
def beside_fields(values: dict[str, str]) -> Iterator[None]:
    """Inside: a model's complaints, and a service's InvalidInput or Conflict, become FormErrors
    said beside the form's fields (`values`, as posted, shown again)."""
    try:
        yield
    except (ValidationError, errors.InvalidInput, errors.Conflict) as exc:
        raise form_errors(exc, values) from None


def form_errors(exc: Exception, values: dict[str, str]) -> FormErrors:
    """FormErrors from a model's ValidationError or InvalidInput (field names mapped to the form's)."""
    found: dict[str, str] = {}
    if isinstance(exc, ValidationError):
        for error in exc.errors():
            path = ".".join(str(p) for p in error["loc"]) or "form"
            found.setdefault(_PLACE.get(path, path.split(".")[0]), errors.field_message(dict(error)))
    elif isinstance(exc, errors.PowerlunchError):
        message = exc.message
        for name, words in _WORDS.items():
            message = message.replace(f"after {name}", f"after {words}")
        found[_PLACE.get(exc.field or "form", exc.field or "form")] = message
    else:
        raise exc
    shown: dict[str, str] = {}
    for name, message in found.items():  # a field the form has no input for: said above the form
        key = name if name in values else "form"
        shown.setdefault(key, message if key == name else f"{name}: {message}")
    return FormErrors(shown, values)
