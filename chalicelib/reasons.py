"""How members appear in words: names, the reasons a pair should meet, partners.

The matcher gives reasons as data (a kind, the member ids it names, the words it quotes) and
they are stored that way, never with a name, so an erased member leaves none behind. Here
they become sentences, said to the reader: Ana's intro says "You're both into fintech and
Python" and "Ana is hiring" becomes "You're hiring" in hers. The organizer's round view
reads them in the third person (`reader=None`). Partners with the same first name are told
apart by their full names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from chalicelib.models import LunchPair, Member, PairReason

FORMER_MEMBER = "a former member"
LATELY_DAYS = 28  # a repeat who met within this many days picks up where they left off; longer ago, catches up


def placeholder(member_id: str) -> str:
    """How a reason stored as text (before reasons were data) names a member."""
    return "{" + member_id + "}"


def first_name(member: Member | None) -> str:
    if member is None:
        return FORMER_MEMBER
    parts = member.name.split()
    return parts[0] if parts else member.name


def names_at_table(member_ids: Sequence[str], members: Mapping[str, Member]) -> dict[str, str]:
    """What to call each of them in one table's sentences: first names, the full name where
    two share a first name, and a number where even the full names are the same."""
    firsts = {mid: first_name(members.get(mid)) for mid in member_ids}
    names = {mid: members[mid].name if mid in members and list(firsts.values()).count(name) > 1 else name
             for mid, name in firsts.items()}
    full = dict(names)
    seen: dict[str, int] = {}
    for mid in member_ids:
        if mid in members and list(full.values()).count(full[mid]) > 1:
            seen[full[mid]] = seen.get(full[mid], 0) + 1
            names[mid] = f"{full[mid]} ({seen[full[mid]]})"
    return names


def stored(reasons: Iterable[Any], met_on: Callable[[int], date | None]) -> list[PairReason]:
    """The matcher's reasons as stored on a pair. A repeat says when they met (the date of the
    round `rounds_ago` back, from `met_on`), so the intro can say "in March"."""
    out = []
    for reason in reasons:
        words = dict(reason.words)
        if reason.kind == "repeat" and "rounds_ago" in words:
            when = met_on(int(words["rounds_ago"]))
            if when is not None:
                words["met_on"] = when.isoformat()
        out.append(PairReason(kind=reason.kind, who=list(reason.who), words=words))
    return out


# ---------------------------------------------------------------- saying it


@dataclass(frozen=True)
class _Person:
    """One member as a sentence names them: "you" for the reader."""

    name: str
    you: bool

    @property
    def subject(self) -> str:
        return "you" if self.you else self.name

    @property
    def is_(self) -> str:
        return "you're" if self.you else f"{self.name} is"

    def does(self, verb: str) -> str:
        """'Ana offers' / 'you offer'."""
        return f"you {verb}" if self.you else f"{self.name} {verb}s"


def _when(words: Mapping[str, str], today: date | None) -> tuple[str, bool]:
    """When a repeat pair last met, as a sentence says it, and whether that was lately: within
    LATELY_DAYS of `today` (the pair's day) or, with no date, the last round."""
    if "met_on" in words:
        met_on = date.fromisoformat(words["met_on"])
        days = (today - met_on).days if today is not None else LATELY_DAYS
        if days < LATELY_DAYS:
            days = max(0, days)
            return ("earlier today" if days == 0 else "yesterday" if days == 1 else "a few days ago" if days < 7
                    else "last week" if days < 14 else "a few weeks ago"), True
        return (f"in {met_on:%B}" if today is not None and met_on.year == today.year else f"in {met_on:%B %Y}"), False
    ago = int(words.get("rounds_ago", "0") or 0)
    return ("last round" if ago == 1 else f"{ago} rounds ago" if ago else "before"), ago == 1


def _both(x: _Person, y: _Person, pair_only: bool) -> str:
    """The subject of "… are both …": "You're both" with the reader in a pair of two."""
    if (x.you or y.you) and pair_only:
        return "you're both"
    other = y if x.you else x
    if x.you or y.you:
        return f"you and {other.name} are both"
    return f"{x.name} and {y.name} are both"


def _sentence(reason: PairReason, x: _Person, y: _Person, table_size: int, today: date | None) -> str:
    w = reason.words
    two = table_size == 2
    kind = reason.kind
    if kind == "interests":
        return f"{_both(x, y, two)} into {w.get('topics', '')}."
    if kind == "goal:find_job/hiring":
        return f"{y.is_} hiring and {x.is_} looking for a job."
    if kind == "goal:find_job/give_intros":
        return f"{x.is_} looking for a job and {y.does('like')} to make introductions."
    if kind == "goal:be_mentored/mentor":
        return f"{x.subject} would like a mentor and {y.does('offer')} mentoring."
    if kind.startswith("goal:"):
        if (x.you or y.you) and two:
            return "you both want to meet peers."
        return f"{_both(x, y, two).removesuffix(' are both').removesuffix(' both')} both want to meet peers."
    if kind == "ask":
        return f'{x.subject} asked for "{w.get("ask", "")}", and {y.subject} can help with "{w.get("offer", "")}".'
    if kind == "newcomer":
        return f"{x.is_} new here and {y.does('know')} many people in the group."
    if kind == "both_new":
        if x.you or y.you:
            return f"{_both(x, y, two)} new here: compare what brought you to the group."
        return f"{x.name} and {y.name} are both new here: they can compare what brought them to the group."
    if kind == "headlines":
        return (f'{x.is_} "{w.get("first", "")}" and {y.is_} "{w.get("second", "")}": '
                "ask each other what a good week looks like.")
    if kind == "looking_for":
        return f'{x.is_} looking for "{w.get("ask", "")}": {y.subject} may know who can help.'
    if kind == "offering":
        return f'{x.does("offer")} "{w.get("offer", "")}": {y.subject} may know who could use it.'
    if kind == "ask_about":
        return f'{x.subject} can ask {"you" if y.you else y.name} about being "{w.get("headline", "")}".'
    if kind == "blank":
        if (x.you or y.you) and two:
            return "neither of you has written much yet: start with what each of you is working on."
        return f"{x.subject} and {y.subject} have not written much yet: start with what each of you is working on."
    if kind == "repeat":  # only where nobody new fits them (see matching.plan_round)
        when, lately = _when(w, today)
        other = y if x.you else x
        if lately:
            if x.you or y.you:
                return f"you met {other.name} {when}: pick up where you left off."
            return f"{x.name} and {y.name} met {when}: they can pick up where they left off."
        if x.you or y.you:
            return f"you met {other.name} {when}; it's been a while, so catch up."
        return f"{x.name} and {y.name} met {when}; it's been a while, so catch up."
    return w.get("text", "")


def say(reason: PairReason, names: Mapping[str, str], *, reader: str | None = None,
        table_size: int = 2, today: date | None = None) -> str:
    """One reason as a sentence: to `reader` ("you"), or in the third person when None."""
    if reason.kind == "text":
        text = reason.words.get("text", "")
        for mid, name in names.items():
            text = text.replace(placeholder(mid), "you" if mid == reader else name)
        return text[:1].upper() + text[1:]
    who = [*reason.who, "", ""]
    x, y = (_Person(names.get(mid, FORMER_MEMBER), mid == reader) for mid in who[:2])
    text = _sentence(reason, x, y, table_size, today)
    return text[:1].upper() + text[1:]


def in_words(pair: LunchPair, members: Mapping[str, Member], reader: str | None = None) -> list[str]:
    """The pair's reasons, said to `reader` (None: the organizer's third person)."""
    names = names_at_table(pair.member_ids, members)
    today = pair.created_at.date()
    return [say(r, names, reader=reader, table_size=len(pair.member_ids), today=today) for r in pair.reasons]


def mentions(reason: PairReason, member_id: str) -> bool:
    """Whether the reason names or quotes this member (erasure drops those)."""
    return member_id in reason.who or placeholder(member_id) in reason.words.get("text", "")


def partners(pair: LunchPair, member_id: str, members: Mapping[str, Member]) -> list[dict[str, Any]]:
    """The others at the table, as pages and mail show them (no address: see services.pairs)."""
    return [{"name": members[o].name if o in members else "A former member",
             "headline": members[o].headline if o in members else None, "email": None}
            for o in pair.member_ids if o != member_id]
