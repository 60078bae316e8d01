"""The words members pick from: goals, weekdays, parts of the day and the slots they make.

Defined once here; `models.py` validates against them, `matching.py` scores with them and
`mail/render.py` labels them on pages and in mail. Each is a tuple of (key, label) pairs in
the order a person reads them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final, Literal, get_args

Goal = Literal["find_job", "hiring", "mentor", "be_mentored", "give_intros", "learn", "meet_peers"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DayPart = Literal["breakfast", "lunch", "coffee", "after_work"]

GOAL_LABELS: Final[tuple[tuple[str, str], ...]] = (
    ("find_job", "Find a job"),
    ("hiring", "Hiring"),
    ("mentor", "Mentor someone"),
    ("be_mentored", "Be mentored"),
    ("give_intros", "Give intros"),
    ("learn", "Learn"),
    ("meet_peers", "Meet peers"),
)
WEEKDAY_LABELS: Final[tuple[tuple[str, str], ...]] = (
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
)
DAY_PART_LABELS: Final[tuple[tuple[str, str], ...]] = (
    ("breakfast", "Breakfast"),
    ("lunch", "Lunch"),
    ("coffee", "Coffee"),
    ("after_work", "After work"),
)

GOALS: Final[tuple[str, ...]] = get_args(Goal)
DAYS: Final[tuple[str, ...]] = get_args(Weekday)
DAY_PARTS: Final[tuple[str, ...]] = get_args(DayPart)
# A slot is "<weekday>-<part of day>", e.g. "tue-lunch": 28 in all, Monday breakfast first.
SLOTS: Final[tuple[str, ...]] = tuple(f"{day}-{part}" for day in DAYS for part in DAY_PARTS)


# Asks and offers are up to MAX_PHRASES short phrases each; old free text reads as the phrases
# between its commas, semicolons and line breaks.
MAX_PHRASES: Final = 5
PHRASE_LENGTH: Final = 80
_PHRASE_BREAK = re.compile(r"[\n;,\u2022|]+")


def phrases(said: str | Sequence[str]) -> tuple[str, ...]:
    """Asks or offers as phrases: a list as given, old free text split at commas, semicolons
    and line breaks; spaces tidied, blanks dropped."""
    parts = _PHRASE_BREAK.split(said) if isinstance(said, str) else said
    return tuple(tidy for part in parts if (tidy := " ".join(part.split())))
