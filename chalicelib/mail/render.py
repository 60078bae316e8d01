"""Jinja2 rendering of member pages and emails (chalicelib/templates). No I/O but reading
templates, done once, on first use.

HTML templates autoescape; .txt templates (email text bodies and subjects) do not, so a
title like "<b>Tea & talk</b>" reads the same in the text part as the member typed it.
Undefined variables raise: a missing context key is a bug, not an empty string.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from chalicelib.vocabulary import DAY_PART_LABELS, GOAL_LABELS, WEEKDAY_LABELS
from chalicelib.vocabulary import SLOTS as VOCAB_SLOTS

TEMPLATES_DIR: Final = Path(__file__).resolve().parent.parent / "templates"
BASE_PAGE: Final = "pages/base.html"

# The choices the lunch preferences form offers, as (key, label) pairs; routes validate posted
# values against AVAILABILITY ("<weekday>-<part of day>", e.g. "tue-lunch").
GOALS: Final = GOAL_LABELS
WEEKDAYS: Final = WEEKDAY_LABELS
SLOTS: Final = DAY_PART_LABELS
AVAILABILITY: Final[frozenset[str]] = frozenset(VOCAB_SLOTS)

_MONTHS: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_STYLE_RE: Final = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def _offset(value: timedelta | None) -> str:
    total = int((value or timedelta()).total_seconds()) // 60
    sign = "+" if total >= 0 else "-"
    hours, minutes = divmod(abs(total), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def _local(value: datetime, tz: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("times shown to members must be timezone-aware")
    return value.astimezone(ZoneInfo(tz))


def _day(value: datetime | date) -> str:
    return f"{WEEKDAYS[value.weekday()][1]} {value.day} {_MONTHS[value.month - 1]} {value.year}"


def _zone_label(value: datetime) -> str:
    name = value.tzname() or ""
    offset = _offset(value.utcoffset())
    # Zones without an abbreviation report "+03" as their name: show the offset once.
    if not name or name[0] in "+-":
        return f"({offset})"
    return f"{name} ({offset})"


def format_datetime(value: datetime | str, tz: str) -> str:
    """'Thursday 26 March 2026, 12:30 CET (UTC+01:00)' in the zone tz; an ISO 8601 string (an API
    answer's time, as the console's round pages hold them) reads the same."""
    local = _local(datetime.fromisoformat(value) if isinstance(value, str) else value, tz)
    return f"{_day(local)}, {local:%H:%M} {_zone_label(local)}"


def format_day(value: datetime | date, tz: str = "UTC") -> str:
    """'Thursday 26 March 2026': a date, or the day of a time in the zone tz."""
    return _day(_local(value, tz) if isinstance(value, datetime) else value)


def format_when(starts_at: datetime, ends_at: datetime, tz: str) -> str:
    """A meetup's time in its own zone, e.g. 'Thursday 26 March 2026, 12:30–14:00 CET
    (UTC+01:00)'; both ends in full when it runs past midnight or across a DST change."""
    start, end = _local(starts_at, tz), _local(ends_at, tz)
    if start.date() == end.date() and start.utcoffset() == end.utcoffset():
        return f"{_day(start)}, {start:%H:%M}–{end:%H:%M} {_zone_label(start)}"
    return f"{format_datetime(starts_at, tz)} – {format_datetime(ends_at, tz)}"


_TITLES = frozenset({"dr", "mr", "mrs", "ms", "mx", "prof", "sir", "dame", "rev", "fr"})


def first_name(name: str) -> str:
    """What a greeting calls a member: the first word of their name ("Ana Duarte" -> "Ana"), as
    Meetup and Luma do; their whole name when it starts with a title, an initial or a family
    name before a comma ("Dr. Ana Duarte", "J. R. Smith", "Duarte, Ana")."""
    words = name.split()
    if not words:
        return name
    head = words[0]
    if head.endswith((".", ",")) or head.casefold() in _TITLES:
        return " ".join(words)
    return head


def slot_label(value: str) -> str:
    """'tue-lunch' -> 'Tuesday, lunch'; anything else is shown as given."""
    day, _, slot = value.partition("-")
    days, slots = dict(WEEKDAYS), dict(SLOTS)
    if day in days and slot in slots:
        return f"{days[day]}, {slots[slot].lower()}"
    return value


@functools.cache
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Templates load once per process, like the CSP hash of their style block: an edited
        # template cannot be served with a stale hash (the browser would drop its style).
        auto_reload=False,
    )
    env.filters["datetime"] = format_datetime
    env.filters["day"] = format_day
    env.filters["first_name"] = first_name
    env.filters["slot"] = slot_label
    env.globals["when"] = format_when
    env.globals["GOALS"] = GOALS
    env.globals["WEEKDAYS"] = WEEKDAYS
    env.globals["SLOTS"] = SLOTS
    return env


def render_page(name: str, **context: Any) -> str:
    """The HTML of templates/pages/<name>.html, to be served with page_csp()."""
    return _env().get_template(f"pages/{name}.html").render(**context)


def render_console_page(name: str, **context: Any) -> str:
    """The HTML of templates/console/<name>.html (organizer console; same style, same CSP)."""
    return _env().get_template(f"console/{name}.html").render(**context)


def render_email(name: str, **context: Any) -> tuple[str, str, str]:
    """(subject, text, html) from templates/email/<name>.subject.txt, .txt and .html."""
    env = _env()
    subject = env.get_template(f"email/{name}.subject.txt").render(**context)
    text = env.get_template(f"email/{name}.txt").render(**context)
    html = env.get_template(f"email/{name}.html").render(**context)
    # A subject is one header line: fold whatever the template produced into single spaces.
    return " ".join(subject.split()), text, html


def _style_source() -> str:
    env = _env()
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, BASE_PAGE)
    styles = _STYLE_RE.findall(source)
    if len(styles) != 1 or "{{" in styles[0] or "{%" in styles[0]:
        raise RuntimeError(f"{BASE_PAGE} must hold exactly one static <style> block")
    style: str = styles[0]
    return style


@functools.cache
def page_csp() -> str:
    """The Content-Security-Policy for every page: no script at all, only our one style block
    (by hash, computed from the template so it never goes stale)."""
    digest = hashlib.sha256(_style_source().encode("utf-8")).digest()
    style_hash = base64.b64encode(digest).decode("ascii")
    return (
        "default-src 'none'; "
        f"style-src 'sha256-{style_hash}'; "
        "img-src 'self' data:; "
        "form-action 'self'; "
        "base-uri 'none'; "
        "frame-ancestors 'none'"
    )


def page_headers() -> Mapping[str, str]:
    """Headers every member page is served with (token URLs must not leak or be cached)."""
    return {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": page_csp(),
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
