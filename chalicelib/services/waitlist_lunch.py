"""The waitlist gets a lunch (issue 14, part 4): when a full meetup starts, members still on
its waitlist are paired among themselves under the lunch rules (city, availability, blocks,
the programme's repeat window) and get a lunch intro: "the room was full, so here is someone
from the waitlist to meet this week". Once per meetup, at most one pair each; an odd one out
sits out (no trio, no re-match). The pairs are LunchPairs of origin "waitlist", so the pairing
pages' confirm, decline and connect flow works for them as for a round's.

Like a round's, a waitlist lunch is noted in both members' lunch records ("<round id>/<partner>",
taken back by a decline), so the repeat rule counts it (pairing._waitlist_met) and the introduce
page lists the partner once the lunch happened.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib import deps, ids, links, matching, reasons, timeutil
from chalicelib.models import LunchPair

LATE = timedelta(hours=2)  # a meetup that started longer ago than this is left alone


def waitlists_due(now: datetime) -> list[dict[str, str]]:
    """Hourly: the meetups that started within the last hour, as ids for the pairing worker."""
    return [{"group_id": group_id, "meetup_id": meetup_id}
            for group_id, meetup_id in deps.store().rsvps.starting_between(now - timedelta(hours=1), now)]


def waitlist_work(body: dict[str, Any]) -> int:
    """The pairing worker: pair one started meetup's waitlist; answers how many pairs it made
    (0 when the meetup's waitlist was paired before: a rerun or a redelivery)."""
    from chalicelib.services import outbox, pairing, rsvp

    store, now = deps.store(), deps.now()
    found = rsvp.scheduled_in(body)
    if found is None or not found[1].starts_at <= now < found[1].starts_at + LATE:
        return 0
    group, meetup = found
    group_id, meetup_id = group.group_id, meetup.meetup_id
    round_id = ids.waitlist_round(meetup_id)
    if store.lunch.pairs_of_round(group_id, round_id):
        return 0  # once per meetup
    waiting = [r.member_id for r in store.rsvps.all(meetup_id) if r.status == "waitlisted"]
    members = {m.member_id: m for m in store.members.get_many(group_id, waiting)}
    today = timeutil.in_zone(now, group.timezone).date()
    eligible = [m for m in members.values() if m.lunch.pairable_on(today) and m.mailable]
    if len(eligible) < 2:
        return 0
    program = store.lunch.get_program(group_id)
    profiles, history = pairing._profiles_and_history(group_id, eligible, round_id)
    plan = matching.plan_round(profiles, history, odd_rule="sit_out",
                               repeat_window=program.repeat_window if program else None,
                               seed=pairing.seed_of(round_id))
    made = [LunchPair(pair_id=ids.pair_id(round_id, planned.member_ids), round_id=round_id, group_id=group_id,
                      member_ids=list(planned.member_ids), score=planned.score,
                      reasons=reasons.stored(planned.reasons, lambda ago: None), slot=planned.slot,
                      origin="waitlist", created_at=now) for planned in plan.pairs]
    # The records first: a crash before the pairs are saved replans the same pairs (same seed,
    # and a record entry without its pair counts for nothing), where the other order would
    # leave pairs that the repeat rule never sees.
    store.lunch.record_round(group_id, round_id, made)
    store.lunch.put_pairs(made)
    batch = [(members[mid], outbox.email(
        "lunch_intro", f"lunch_intro:{pair.pair_id}:{mid}", group, members[mid], waitlist=True, rematch=False,
        partners=reasons.partners(pair, mid, members), reasons=reasons.in_words(pair, members, reader=mid),
        suggested_slot=pair.slot, pairing_url=links.pairing_url(group_id, pair.pair_id, mid)))
        for pair in made for mid in pair.member_ids]
    outbox.queue_many(group, batch)
    return len(made)
