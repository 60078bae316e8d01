"""What feedback does, as rules (pure: no I/O, no clock). The follow-up email says the same.

- A pairing counts as met when someone said they met, or when everyone confirmed and nobody
  said they didn't (`pair_met`).
- "They didn't show" names the partner(s) who didn't come. A member reported so in
  NO_SHOW_REPORTS pairings within NO_SHOW_WINDOW rounds is paused from pairing for the next
  NO_SHOW_PAUSE_ROUNDS rounds (`pause_trigger`), told why once, and back by themselves after.
- When someone must sit out, it is whoever sat out least over the last SIT_OUT_WINDOW rounds;
  on an equal score, members who kept their last KEPT_ROUNDS lunches are paired before those
  who didn't (`round_facts` gives the matcher both).
- Two members who met and both rated it GOOD_RATING or more are a good match (`good_matches`);
  the programme's `reconnect_after_months` later they are asked whether to catch up, and once
  reconnected the next round does not pair them as well.
services/followups.py acts on these; services/pairing.py reads `round_facts` when it plans.
"""

from __future__ import annotations

import calendar
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib import timeutil
from chalicelib.models import LunchPair, LunchRecord, LunchRound, Noted

NO_SHOW_REPORTS = 2  # pairings a member is reported not to show up to ...
NO_SHOW_WINDOW = 6  # ... within this many rounds ...
NO_SHOW_PAUSE_ROUNDS = 2  # ... pause them for this many rounds
SIT_OUT_WINDOW = 10  # rounds over which sit-outs are shared out
KEPT_ROUNDS = 3  # rounds whose lunches say who keeps their lunches
GOOD_RATING = 4  # both rated at least this: a good match


def everyone_confirmed(pair: LunchPair) -> bool:
    return pair.connected_at is not None or all(pair.responses.get(m) == "confirmed" for m in pair.member_ids)


def pair_met(pair: LunchPair) -> bool:
    """Met when someone said so; else, when nobody said they didn't and everyone confirmed."""
    said = [f.met for f in pair.feedback.values()]
    if any(said):
        return True
    return not said and everyone_confirmed(pair)


def no_shows(pair: LunchPair) -> set[str]:
    """Members of the pair a partner reported as not showing up."""
    return {m for mid, f in pair.feedback.items() for m in f.no_show if m != mid and m in pair.member_ids}


def kept(pair: LunchPair, member_id: str) -> bool:
    """The member kept this lunch: not reported as a no-show, and either said they met (or came
    and reported who didn't), or confirmed and said nothing since. Declined, silent, or "we
    didn't meet" is not kept."""
    if member_id in no_shows(pair):
        return False
    said = pair.feedback.get(member_id)
    if said is not None:
        return said.met or bool(said.no_show)
    return pair.responses.get(member_id) == "confirmed"


def good_matches(pair: LunchPair) -> list[tuple[str, str]]:
    """Two members of a round's pairing who both met and rated it GOOD_RATING or more (and did
    not report each other as a no-show); sorted ids."""
    if pair.origin == "reconnect":
        return []
    found = []
    for a, b in itertools.combinations(sorted(pair.member_ids), 2):
        fa, fb = pair.feedback.get(a), pair.feedback.get(b)
        if fa is None or fb is None or not (fa.met and fb.met):
            continue
        if (fa.rating or 0) >= GOOD_RATING and (fb.rating or 0) >= GOOD_RATING \
                and b not in fa.no_show and a not in fb.no_show:
            found.append((a, b))
    return found


def add_months(at: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months on (the month's last day when shorter)."""
    years, month = divmod(at.month - 1 + months, 12)
    year = at.year + years
    return at.replace(year=year, month=month + 1, day=min(at.day, calendar.monthrange(year, month + 1)[1]))


def pause_trigger(record: LunchRecord, position: Mapping[str, int]) -> str | None:
    """The newest no-show report when NO_SHOW_REPORTS of those since the last pause lie within
    NO_SHOW_WINDOW rounds, else None."""
    def at(entry: str) -> int:
        return position.get(Noted.read(entry).when, -1)  # a no-show report: (round, pair)

    since = at(record.benched_for) if record.benched_for else -1
    reports = sorted((e for e in record.no_shows if at(e) > since), key=at)
    for first, last in zip(reports, reports[NO_SHOW_REPORTS - 1:], strict=False):
        if at(last) - at(first) < NO_SHOW_WINDOW:
            return reports[-1]
    return None


@dataclass(frozen=True)
class RoundFacts:
    """What feedback tells the next round's matcher, per member id."""

    sat_outs: dict[str, int] = field(default_factory=dict)  # rounds sat out of the last SIT_OUT_WINDOW
    missed: dict[str, int] = field(default_factory=dict)  # of the last KEPT_ROUNDS pairings, not kept
    paused: set[str] = field(default_factory=set)  # paused for no-shows: not in this round
    met: dict[frozenset[str], int] = field(default_factory=dict)  # reconnects, as rounds ago
    blocked: set[frozenset[str]] = field(default_factory=set)  # reconnected since the last round


def round_facts(records: Mapping[str, LunchRecord], all_rounds: Sequence[LunchRound],
                current_round: str) -> RoundFacts:
    """Sit-outs, kept lunches, no-show pauses and reconnects for planning `current_round`, from
    the members' records and the group's rounds (oldest first)."""
    rounds = [r for r in all_rounds if r.round_id != current_round and r.happened]
    order = [r.round_id for r in rounds]
    position = {rid: i for i, rid in enumerate(order)}
    window, recent = set(order[-SIT_OUT_WINDOW:]), set(order[-KEPT_ROUNDS:])
    facts = RoundFacts()
    for member_id, record in records.items():
        sat = ({record.sat_out_round} | set(record.sat_out_rounds)) & window
        if sat:
            facts.sat_outs[member_id] = len(sat)
        if record.benched_after in position and \
                len(order) - 1 - position[record.benched_after] < NO_SHOW_PAUSE_ROUNDS:
            facts.paused.add(member_id)
        for when, partner in record.reconnections():
            since = sum(1 for r in rounds if timeutil.to_store(r.created_at) >= when)
            key = frozenset((member_id, partner))
            if since == 0:
                facts.blocked.add(key)
            facts.met[key] = min(max(since, 1), facts.met.get(key, max(since, 1)))
        missed = set(record.missed_rounds) & recent
        if missed:
            facts.missed[member_id] = len(missed)
    return facts
