"""Lunch pairing: the programme, rounds, pairs and one record per member.

Every write here is idempotent or guarded, because rounds are retried after a crash:
rounds are created with `attribute_not_exists`, pairs likewise under deterministic ids,
and the per-member records only grow string sets (ADD of an element already there is a no-op).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib import errors, timeutil
from chalicelib.models import (
    FINISHED_ROUNDS,
    LunchPair,
    LunchProgram,
    LunchReconnect,
    LunchRecord,
    LunchRound,
    Noted,
    PairFeedbackIn,
    PairReason,
    RoundEdit,
)
from chalicelib.store import keys
from chalicelib.store.core import WHOLE_GROUP_PAGE, ConditionFailed, Db, Item, TransactionCancelled, set_remove
from chalicelib.store.schema import GSI1PK, GSI1SK, PK, SK, TTL_ATTRIBUTE

_KEY_FIELDS = (PK, SK, GSI1PK, GSI1SK)
MANUAL_DAY_KEPT = timedelta(days=2)  # a day guard is only read on its own local date


def _pair_item(pair: LunchPair) -> Item:
    return {**keys.lunch_pair(pair.group_id, pair.pair_id), "type": "lunch_pair",
            **pair.model_dump(exclude={"responses", "feedback", "blocked_by"}),
            "responses": {}, "feedback": {}}


_OUTCOME = tuple(name for name in LunchPair.model_fields if name not in ("reasons", "score", "slot", "slot_zone"))


def _plain(item: Item) -> Item:
    return {k: v for k, v in item.items() if k not in _KEY_FIELDS}


class LunchRepo:
    def __init__(self, db: Db) -> None:
        self.db = db

    # ---- programme

    def get_program(self, group_id: str) -> LunchProgram | None:
        item = self.db.get(keys.lunch_program(group_id))
        return LunchProgram.model_validate(_plain(item)) if item else None

    def put_program(self, program: LunchProgram) -> None:
        """Create or replace the settings (an update, so the round counter on the item stays)."""
        changes: Item = {"type": "lunch_program", **program.model_dump()}
        index = keys.lunch_program_index(program.group_id)
        changes.update(index if program.enabled else dict.fromkeys(index))
        expression, names, values = set_remove(changes)
        self.db.update(keys.lunch_program(program.group_id), expression, names=names,
                       values=values or None)

    def enabled_programs(self) -> Iterator[LunchProgram]:
        """Every enabled programme (a sparse GSI1 partition; a Query, never a Scan)."""
        for item in self.db.query_all(partition=keys.LUNCH_PROGRAMS, index=True):
            yield LunchProgram.model_validate(_plain(item))

    def next_round_seq(self, group_id: str) -> int:
        """The group's next round number (gaps are harmless: it only orders rounds)."""
        item = self.db.update(keys.lunch_program(group_id), "ADD round_seq :one",
                              condition="attribute_exists(PK)", values={":one": 1})
        return int(item["round_seq"])

    # ---- rounds

    def create_round(self, lunch_round: LunchRound) -> bool:
        """Create the round once; False when a round with this id exists already."""
        item = {**keys.lunch_round(lunch_round.group_id, lunch_round.round_id), "type": "lunch_round",
                **lunch_round.model_dump()}
        try:
            self.db.put(item, condition="attribute_not_exists(PK)")
        except ConditionFailed:
            return False
        return True

    def create_manual_round(self, lunch_round: LunchRound, *, again: bool) -> bool:
        """Create an organizer's round with the guard of its local date in one transaction, so
        however many plain starts race on one day, one wins; False for the others. `again`
        overwrites the guard instead (an extra round still counts as that day's)."""
        guard = {**keys.lunch_manual_day(lunch_round.group_id, date.fromisoformat(lunch_round.local_date)),
                 "type": "lunch_manual_day", "round_id": lunch_round.round_id,
                 TTL_ATTRIBUTE: int((lunch_round.created_at + MANUAL_DAY_KEPT).timestamp())}
        actions: list[dict[str, Any]] = [
            {"Put": {"Item": {**keys.lunch_round(lunch_round.group_id, lunch_round.round_id),
                              "type": "lunch_round", **lunch_round.model_dump()},
                     "ConditionExpression": "attribute_not_exists(PK)"}},
            {"Put": {"Item": guard} if again else
             {"Item": guard, "ConditionExpression": "attribute_not_exists(PK)"}}]
        # Busy cancellations are retried inside; a refusal is a condition that held against us.
        refused = self.db.transact_each([lunch_round], lambda _: actions).refused
        if refused and refused[0].failed[0]:
            raise errors.AlreadyExists("a lunch round with this id exists already", field="round_id")
        return not refused

    def unfinished_round(self, group_id: str, *, recent: int = 10) -> LunchRound | None:
        """The newest of the group's last `recent` rounds that is not done yet, or None. One
        strongly consistent Query page, newest first: a round older than that is abandoned."""
        page = self.db.query_page(partition=keys.group_pk(group_id), prefix=keys.LUNCH_ROUND_PREFIX,
                                  forward=False, limit=recent, consistent=True)
        rounds = [LunchRound.model_validate(_plain(i)) for i in page.items]
        return next((r for r in rounds if r.status not in FINISHED_ROUNDS), None)

    def get_round(self, group_id: str, round_id: str) -> LunchRound | None:
        item = self.db.get(keys.lunch_round(group_id, round_id))
        return LunchRound.model_validate(_plain(item)) if item else None

    def require_round(self, group_id: str, round_id: str) -> LunchRound:
        found = self.get_round(group_id, round_id)
        if found is None:
            raise errors.NotFound("no such lunch round", field="round_id")
        return found

    def list_rounds(self, group_id: str, *, limit: int, cursor: str | None) -> tuple[list[LunchRound], str | None]:
        page = self.db.query_page(partition=keys.group_pk(group_id), prefix=keys.LUNCH_ROUND_PREFIX,
                                  forward=False, limit=limit, cursor=cursor)
        return [LunchRound.model_validate(_plain(i)) for i in page.items], page.next_cursor

    def all_rounds(self, group_id: str) -> list[LunchRound]:
        """Oldest first, by round number (ids sort by time only to the millisecond)."""
        rounds = [LunchRound.model_validate(_plain(i)) for i in
                  self.db.query_all(partition=keys.group_pk(group_id), prefix=keys.LUNCH_ROUND_PREFIX,
                                    consistent=True)]
        return sorted(rounds, key=lambda r: (r.seq, r.round_id))

    def lease_round(self, group_id: str, round_id: str, now: datetime, until: datetime) -> bool:
        """Take the round for one worker; False when it is done or another worker holds it."""
        try:
            self.db.update(keys.lunch_round(group_id, round_id), "SET lease_until = :until",
                           condition="attribute_exists(PK) AND #st <> :done AND "
                                     "(attribute_not_exists(lease_until) OR lease_until < :now)",
                           names={"#st": "status"},
                           values={":until": until, ":now": now, ":done": "done"})
        except ConditionFailed:
            return False
        return True

    def release_round(self, group_id: str, round_id: str) -> None:
        self.db.update(keys.lunch_round(group_id, round_id), "REMOVE lease_until",
                       condition="attribute_exists(PK)")

    def mark_planned(self, group_id: str, round_id: str, *, pair_count: int, sat_out: Sequence[str],
                     skipped: Sequence[str], total_score: float, at: datetime,
                     outcome: str | None = None, new_pairs_left: int | None = None,
                     participants: int = 0, running_dry: bool = False) -> LunchRound:
        item = self.db.update(
            keys.lunch_round(group_id, round_id),
            "SET #st = :planned, pair_count = :n, sat_out = :out, skipped = :skipped, "
            "total_score = :score, planned_at = :at, outcome = :outcome, new_pairs_left = :left, "
            "participants = :people, running_dry = :dry",
            condition="#st = :started", names={"#st": "status"},
            values={":planned": "planned", ":started": "started", ":n": pair_count,
                    ":out": list(sat_out), ":skipped": list(skipped), ":score": total_score,
                    ":at": at, ":outcome": outcome, ":left": new_pairs_left,
                    ":people": participants, ":dry": running_dry})
        return LunchRound.model_validate(_plain(item))

    def mark_done(self, group_id: str, round_id: str, *, at: datetime, followup_at: datetime) -> None:
        index = keys.lunch_followup_index(group_id, round_id, followup_at)
        self.db.update(keys.lunch_round(group_id, round_id),
                       "SET #st = :done, done_at = :at, GSI1PK = :gpk, GSI1SK = :gsk REMOVE lease_until",
                       condition="#st = :planned", names={"#st": "status"},
                       values={":done": "done", ":planned": "planned", ":at": at,
                               ":gpk": index[GSI1PK], ":gsk": index[GSI1SK]})

    # ---- review before sending: planned -> review -> planned (approved) | expired

    def hold_for_review(self, group_id: str, round_id: str, until: datetime) -> LunchRound | None:
        """A planned round waits for the organizer until `until` (found again by the sparse
        LUNCH_REVIEWS index); None when it is not a planned, unapproved round any more."""
        index = keys.lunch_review_index(group_id, round_id, until)
        try:
            item = self.db.update(
                keys.lunch_round(group_id, round_id),
                "SET #st = :review, review_until = :until, GSI1PK = :gpk, GSI1SK = :gsk REMOVE lease_until",
                condition="#st = :planned AND (attribute_not_exists(approved_at) OR approved_at = :none)",
                names={"#st": "status"},
                values={":review": "review", ":planned": "planned", ":until": until, ":none": None,
                        ":gpk": index[GSI1PK], ":gsk": index[GSI1SK]})
        except ConditionFailed:
            return None
        return LunchRound.model_validate(_plain(item))

    def approve_round(self, group_id: str, round_id: str, now: datetime) -> LunchRound | None:
        """In review and not past `review_until`: approved, planned again (the worker finishes
        it). None when the round is not in review or its time is up."""
        try:
            item = self.db.update(keys.lunch_round(group_id, round_id),
                                  "SET #st = :planned, approved_at = :now REMOVE GSI1PK, GSI1SK",
                                  condition="#st = :review AND review_until > :now", names={"#st": "status"},
                                  values={":planned": "planned", ":review": "review", ":now": now})
        except ConditionFailed:
            return None
        return LunchRound.model_validate(_plain(item))

    def expire_round(self, group_id: str, round_id: str, now: datetime) -> bool:
        """In review past `review_until`: expired (the index entry stays until the expiry's
        work is done: `expiry_handled`). False when it was approved or expired already."""
        try:
            self.db.update(keys.lunch_round(group_id, round_id), "SET #st = :expired, expired_at = :now",
                           condition="#st = :review AND review_until <= :now", names={"#st": "status"},
                           values={":expired": "expired", ":review": "review", ":now": now})
        except ConditionFailed:
            return False
        return True

    def expiry_handled(self, group_id: str, round_id: str) -> None:
        with contextlib.suppress(ConditionFailed):
            self.db.update(keys.lunch_round(group_id, round_id), "REMOVE GSI1PK, GSI1SK",
                           condition="#st = :expired", names={"#st": "status"}, values={":expired": "expired"})

    def reviews_due(self, now: datetime) -> Iterator[tuple[str, str]]:
        """(group_id, round_id) of rounds held for review until `now` or before, whose expiry
        is not handled yet (a Query of the sparse index, never a Scan)."""
        for item in self.db.query_all(partition=keys.LUNCH_REVIEWS, index=True, upper=keys.due_by(now),
                                      page_size=200):
            yield item["group_id"], item["round_id"]

    def edit_round(self, lunch_round: LunchRound, *, drop: Sequence[LunchPair], add: Sequence[LunchPair],
                   sat_out: Sequence[str], edit: RoundEdit, now: datetime) -> LunchRound:
        """One organizer edit in one transaction: the pairs it replaces go, the new ones come,
        and the round's counts, sit-outs and edit log change, only if the round is still in
        review at the version the edit was made on (errors.StaleWrite otherwise)."""
        group_id, round_id = lunch_round.group_id, lunch_round.round_id
        score = lunch_round.total_score - sum(p.score for p in drop) + sum(p.score for p in add)
        actions: list[dict[str, Any]] = [{"Update": {
            "Key": keys.lunch_round(group_id, round_id),
            "UpdateExpression": "SET version = :next, sat_out = :out, pair_count = pair_count + :dn, "
                                "total_score = :score, edits = list_append(if_not_exists(edits, :empty), :edit)",
            # Every round is written with its version (0), so a held one always has it.
            "ConditionExpression": "#st = :review AND review_until > :now AND version = :v",
            "ExpressionAttributeNames": {"#st": "status"},
            "ExpressionAttributeValues": {
                ":next": lunch_round.version + 1, ":v": lunch_round.version,
                ":out": list(sat_out), ":dn": len(add) - len(drop), ":score": round(score, 4),
                ":empty": [], ":edit": [edit.model_dump()], ":review": "review", ":now": now}}}]
        actions += [{"Delete": {"Key": keys.lunch_pair(group_id, p.pair_id),
                                "ConditionExpression": "attribute_exists(PK)"}} for p in drop]
        actions += [{"Put": {"Item": _pair_item(p), "ConditionExpression": "attribute_not_exists(PK)"}}
                    for p in add]
        try:
            self.db.transact(actions)
        except TransactionCancelled:
            raise errors.StaleWrite("the round changed meanwhile (approved, expired or edited): "
                                    "load it again", field="version") from None
        return self.require_round(group_id, round_id)

    def delete_pairs(self, group_id: str, pair_ids: Sequence[str]) -> None:
        self.db.write_batch(deletes=[keys.lunch_pair(group_id, p) for p in pair_ids])

    def followups_due(self, now: datetime) -> Iterator[tuple[str, str]]:
        """(group_id, round_id) of done rounds whose follow-ups are due and not yet sent."""
        for item in self.db.query_all(partition=keys.LUNCH_FOLLOWUPS, index=True, upper=keys.due_by(now),
                                      page_size=200):
            yield item["group_id"], item["round_id"]

    def mark_followed_up(self, group_id: str, round_id: str) -> None:
        self.db.update(keys.lunch_round(group_id, round_id),
                       "SET followups_sent = :t REMOVE GSI1PK, GSI1SK",
                       condition="attribute_exists(PK)", values={":t": True})

    # ---- pairs

    def put_pairs(self, pairs: Sequence[LunchPair]) -> int:
        """Write each pair once, in transactions of 100 conditional puts; answers how many were
        new (a rerun finds the ones an earlier attempt wrote, and leaves them as they are)."""
        new = self.db.transact_each(pairs, lambda p: [{"Put": {
            "Item": _pair_item(p), "ConditionExpression": "attribute_not_exists(PK)"}}])
        return len(new.written)

    def get_pair(self, group_id: str, pair_id: str) -> LunchPair | None:
        item = self.db.get(keys.lunch_pair(group_id, pair_id))
        return LunchPair.model_validate(_plain(item)) if item else None

    def get_pairs(self, group_id: str, pair_ids: Sequence[str]) -> list[LunchPair]:
        items = self.db.get_many([keys.lunch_pair(group_id, p) for p in pair_ids])
        return [LunchPair.model_validate(_plain(i)) for i in items]

    def pairs_of_round(self, group_id: str, round_id: str) -> list[LunchPair]:
        return [LunchPair.model_validate(_plain(i)) for i in
                self.db.query_all(partition=keys.group_pk(group_id),
                                  prefix=keys.lunch_pairs_of_round(round_id), consistent=True)]

    def all_pairs(self, group_id: str) -> Iterator[LunchPair]:
        for item in self.db.query_all(partition=keys.group_pk(group_id), prefix=keys.LUNCH_PAIR_PREFIX):
            yield LunchPair.model_validate(_plain(item))

    def all_outcomes(self, group_id: str) -> Iterator[LunchPair]:
        """Every pair with who was in it, their answers and feedback, but not why they were paired,
        their score or slot (left at their defaults): for reads of a whole group's history that
        only count what happened (the insights page)."""
        for item in self.db.query_all(partition=keys.group_pk(group_id), prefix=keys.LUNCH_PAIR_PREFIX,
                                      attributes=_OUTCOME, page_size=WHOLE_GROUP_PAGE):
            yield LunchPair.model_validate(_plain(item))

    def _pair_update(self, group_id: str, pair_id: str, member_id: str, expression: str,
                     values: dict[str, Any]) -> LunchPair:
        """A guarded update: the pair exists and the member is in it."""
        try:
            item = self.db.update(keys.lunch_pair(group_id, pair_id), expression,
                                  condition="attribute_exists(PK) AND contains(member_ids, :me)",
                                  names={"#m": member_id} if "#m" in expression else None,
                                  values={":me": member_id, **values})
        except ConditionFailed:
            raise errors.NotFound("no such pairing") from None
        return LunchPair.model_validate(_plain(item))

    def respond(self, group_id: str, pair_id: str, member_id: str, response: str) -> LunchPair:
        return self._pair_update(group_id, pair_id, member_id, "SET responses.#m = :r",
                                 {":r": response})

    def give_feedback(self, group_id: str, pair_id: str, member_id: str, feedback: PairFeedbackIn,
                      at: datetime) -> LunchPair:
        value = {**feedback.model_dump(), "at": at}
        return self._pair_update(group_id, pair_id, member_id, "SET feedback.#m = :f", {":f": value})

    def block(self, group_id: str, pair_id: str, member_id: str, others: Sequence[str]) -> LunchPair:
        """The member never wants to meet `others` again: kept on the pair and on their record."""
        pair = self._pair_update(group_id, pair_id, member_id, "ADD blocked_by :mine",
                                 {":mine": {member_id}})
        if others:
            self.db.update(keys.lunch_member(group_id, member_id),
                           "SET member_id = :me ADD blocked :others",
                           values={":me": member_id, ":others": set(others)})
        return pair

    def scrub_pair(self, group_id: str, pair_id: str, member_id: str, reasons: Sequence[PairReason]) -> None:
        """Erasure: drop the member's answers and the reasons that quote them."""
        try:
            self.db.update(keys.lunch_pair(group_id, pair_id),
                           "SET reasons = :reasons REMOVE responses.#m, feedback.#m",
                           condition="attribute_exists(PK)", names={"#m": member_id},
                           values={":reasons": [r.model_dump() for r in reasons]})
        except ConditionFailed:
            return

    def respond_once(self, group_id: str, pair_id: str, member_id: str, response: str) -> LunchPair | None:
        """Record the answer unless it is already this one; None when nothing changed (so a
        repeated click sends nothing twice)."""
        try:
            item = self.db.update(keys.lunch_pair(group_id, pair_id), "SET responses.#m = :r",
                                  condition="attribute_exists(PK) AND contains(member_ids, :me) "
                                            "AND (attribute_not_exists(responses.#m) OR responses.#m <> :r)",
                                  names={"#m": member_id}, values={":me": member_id, ":r": response})
        except ConditionFailed:
            return None
        return LunchPair.model_validate(_plain(item))

    def mark_connected(self, group_id: str, pair_id: str, at: datetime) -> bool:
        """Note that everyone confirmed and was connected; False when it was noted already."""
        try:
            self.db.update(keys.lunch_pair(group_id, pair_id), "SET connected_at = :at",
                           condition="attribute_exists(PK) AND "
                                     "(attribute_not_exists(connected_at) OR connected_at = :none)",
                           values={":at": at, ":none": None})
        except ConditionFailed:
            return False
        return True

    def forget_meeting(self, group_id: str, round_id: str, member_id: str, others: Sequence[str]) -> None:
        """A decline: the member and `others` did not meet in this round, so the repeat rule
        does not count it (set DELETEs on both sides; a rerun removes nothing more)."""
        self.db.transact_each([member_id, *others], lambda mid: [{"Update": {
            "Key": keys.lunch_member(group_id, mid),
            "UpdateExpression": "SET member_id = :me DELETE met :gone",
            "ExpressionAttributeValues": {
                ":me": mid,
                ":gone": ({Noted(round_id, o).stored() for o in others} if mid == member_id
                          else {Noted(round_id, member_id).stored()})}}}])

    # ---- timers: work a round owes later (nudges, re-matches), found by the hourly run

    def arm_timer(self, group_id: str, kind: str, ref: str, due_at: datetime, armed_at: datetime) -> None:
        """Due at `due_at` (an earlier due time is kept). `armed_at` tells a worker that more
        work arrived while it ran, so it leaves the timer for the next run."""
        index = keys.lunch_timer_index(group_id, kind, ref, due_at)
        due: str = timeutil.to_store(due_at)
        item = self.db.get(keys.lunch_timer(group_id, kind, ref))
        if item is not None and item["due_at"] <= due:
            index, due = {GSI1PK: item[GSI1PK], GSI1SK: item[GSI1SK]}, item["due_at"]
        self.db.put({**keys.lunch_timer(group_id, kind, ref), **index, "type": "lunch_timer",
                     "group_id": group_id, "kind": kind, "ref": ref, "due_at": due,
                     "armed_at": armed_at})

    def timers_due(self, now: datetime) -> Iterator[Item]:
        """Timers due by `now`: {group_id, kind, ref, due_at, armed_at} (times as stored text)."""
        for item in self.db.query_all(partition=keys.LUNCH_TIMERS, index=True, upper=keys.due_by(now),
                                      page_size=200):
            yield _plain(item)

    def get_timer(self, group_id: str, kind: str, ref: str) -> Item | None:
        item = self.db.get(keys.lunch_timer(group_id, kind, ref))
        return _plain(item) if item else None

    def clear_timer(self, group_id: str, kind: str, ref: str, armed_at: str) -> bool:
        """Done with it, unless it was armed again since it was read (then it stays)."""
        try:
            self.db.delete(keys.lunch_timer(group_id, kind, ref), condition="armed_at = :seen",
                           values={":seen": armed_at})
        except ConditionFailed:
            return False
        return True

    # ---- per-member records

    def record_round(self, group_id: str, round_id: str, pairs: Sequence[LunchPair]) -> None:
        """Note for every member who they met in this round, in transactions of 100 updates
        (idempotent: set ADDs, so a rerun adds nothing twice)."""
        def update(entry: tuple[LunchPair, str]) -> list[dict[str, Any]]:
            pair, member_id = entry
            return [{"Update": {
                "Key": keys.lunch_member(group_id, member_id),
                "UpdateExpression": "SET member_id = :me ADD met :met, pairs :pair",
                "ExpressionAttributeValues": {
                    ":me": member_id, ":pair": {pair.pair_id},
                    ":met": {Noted(round_id, other).stored() for other in pair.member_ids if other != member_id}}}}]

        # Unconditional, so nothing is refused; a conflict with a member's own write is retried.
        self.db.transact_each([(pair, member_id) for pair in pairs for member_id in pair.member_ids],
                              update)

    def record_sat_out(self, group_id: str, member_id: str, round_id: str) -> None:
        """The last round sat out, and every one (a set: sit-outs are shared out over rounds)."""
        self.db.update(keys.lunch_member(group_id, member_id),
                       "SET member_id = :me, sat_out_round = :r ADD sat_out_rounds :rs",
                       values={":me": member_id, ":r": round_id, ":rs": {round_id}})

    def record_paused(self, group_id: str, member_id: str, round_id: str) -> None:
        self.db.update(keys.lunch_member(group_id, member_id),
                       "SET member_id = :me, paused_round = :r",
                       values={":me": member_id, ":r": round_id})

    def get_record(self, group_id: str, member_id: str) -> LunchRecord:
        item = self.db.get(keys.lunch_member(group_id, member_id))
        return LunchRecord.model_validate(_plain(item)) if item else LunchRecord(member_id=member_id)

    def get_records(self, group_id: str, member_ids: Sequence[str]) -> dict[str, LunchRecord]:
        """The records of these members only (BatchGetItem); a member without one gets an empty one."""
        found = {i["member_id"]: LunchRecord.model_validate(_plain(i)) for i in
                 self.db.get_many([keys.lunch_member(group_id, m) for m in member_ids])}
        return {m: found.get(m) or LunchRecord(member_id=m) for m in member_ids}

    def all_records(self, group_id: str) -> dict[str, LunchRecord]:
        return {i["member_id"]: LunchRecord.model_validate(_plain(i)) for i in
                self.db.query_all(partition=keys.group_pk(group_id), prefix=keys.LUNCH_MEMBER_PREFIX,
                                  consistent=True)}

    def delete_record(self, group_id: str, member_id: str) -> None:
        self.db.delete(keys.lunch_member(group_id, member_id))

    # ---- follow-ups, no-shows, reconnects

    def record_no_show(self, group_id: str, member_id: str, round_id: str, pair_id: str) -> LunchRecord:
        """A partner said the member didn't show up to this pairing (a set: one entry per pairing
        however many partners say so, or how often)."""
        item = self.db.update(keys.lunch_member(group_id, member_id),
                              "SET member_id = :me ADD no_shows :entry",
                              values={":me": member_id, ":entry": {Noted(round_id, pair_id).stored()}})
        return LunchRecord.model_validate(_plain(item))

    def record_kept(self, group_id: str, round_id: str, kept: Sequence[tuple[str, bool]]) -> None:
        """Per (member, kept): whether the member kept their lunch of this round; a member who
        didn't has the round in `missed_rounds` (set ADD / DELETE: reruns change nothing)."""
        def update(entry: tuple[str, bool]) -> list[dict[str, Any]]:
            member_id, ok = entry
            return [{"Update": {
                "Key": keys.lunch_member(group_id, member_id),
                "UpdateExpression": f"SET member_id = :me {'DELETE' if ok else 'ADD'} missed_rounds :r",
                "ExpressionAttributeValues": {":me": member_id, ":r": {round_id}}}}]

        self.db.transact_each(list(kept), update)

    def bench(self, group_id: str, member_id: str, *, after_round: str, for_pair: str) -> bool:
        """Pause the member's pairings for the rounds after `after_round`, because of the report
        in `for_pair`; False when that report paused them already (a retry)."""
        try:
            self.db.update(keys.lunch_member(group_id, member_id),
                           "SET benched_after = :after, benched_for = :pair",
                           condition="attribute_exists(PK) AND "
                                     "(attribute_not_exists(benched_for) OR benched_for <> :pair)",
                           values={":after": after_round, ":pair": for_pair})
        except ConditionFailed:
            return False
        return True

    def reconnects_after(self, group_id: str, round_id: str, lunch_at: datetime, due_at: datetime) -> None:
        """The round's good matches get reconnect suggestions from `due_at` (idempotent put)."""
        self.db.put({**keys.lunch_reconnects_due(group_id, round_id),
                     **keys.lunch_reconnects_index(group_id, round_id, due_at),
                     "type": "lunch_reconnects_due", "group_id": group_id, "round_id": round_id,
                     "lunch_at": lunch_at, "due_at": due_at})

    def groups_with_reconnects_due(self, now: datetime) -> Iterator[str]:
        """Groups with a round whose reconnects are due (Query GSI1 by time; each group once)."""
        seen: set[str] = set()
        for item in self.db.query_all(partition=keys.LUNCH_RECONNECTS, index=True, upper=keys.due_by(now),
                                      page_size=200):
            if item["group_id"] not in seen:
                seen.add(item["group_id"])
                yield item["group_id"]

    def reconnect_rounds(self, group_id: str) -> list[tuple[str, datetime, datetime]]:
        """(round_id, lunch_at, due_at) of the group's rounds still owed reconnect suggestions."""
        return [(i["round_id"], timeutil.from_store(i["lunch_at"]), timeutil.from_store(i["due_at"]))
                for i in self.db.query_all(partition=keys.group_pk(group_id),
                                           prefix=keys.LUNCH_RECONNECTS_DUE_PREFIX, consistent=True)]

    def reconnects_done(self, group_id: str, round_id: str) -> None:
        self.db.delete(keys.lunch_reconnects_due(group_id, round_id))

    def suggest_reconnect(self, reconnect: LunchReconnect, *, month_ago: datetime) -> str:
        """Record the suggestion and note the mail on both members' records, in one transaction:
        "new"; "exists" when it was recorded before (a retry); "too_soon" when either member had
        a reconnect suggestion since `month_ago` (nothing written)."""
        group_id, now = reconnect.group_id, reconnect.created_at
        actions: list[dict[str, Any]] = [{"Put": {
            "Item": {**keys.lunch_reconnect(group_id, reconnect.reconnect_id), "type": "lunch_reconnect",
                     **reconnect.model_dump()},
            "ConditionExpression": "attribute_not_exists(PK)"}}]
        for member_id in reconnect.member_ids:
            actions.append({"Update": {
                "Key": keys.lunch_member(group_id, member_id),
                "UpdateExpression": "SET member_id = :me, reconnect_mailed_at = :now",
                "ConditionExpression": "attribute_not_exists(reconnect_mailed_at) OR reconnect_mailed_at < :since",
                "ExpressionAttributeValues": {":me": member_id, ":now": now, ":since": month_ago}}})
        refused = self.db.transact_each([reconnect], lambda _: actions).refused
        if not refused:
            return "new"
        return "exists" if refused[0].failed[0] else "too_soon"

    def get_reconnect(self, group_id: str, reconnect_id: str) -> LunchReconnect | None:
        item = self.db.get(keys.lunch_reconnect(group_id, reconnect_id))
        return LunchReconnect.model_validate(_plain(item)) if item else None

    def answer_reconnect(self, group_id: str, reconnect_id: str, member_id: str, answer: str) -> LunchReconnect:
        try:
            item = self.db.update(keys.lunch_reconnect(group_id, reconnect_id), "SET answers.#m = :a",
                                  condition="attribute_exists(PK) AND contains(member_ids, :me)",
                                  names={"#m": member_id}, values={":me": member_id, ":a": answer})
        except ConditionFailed:
            raise errors.NotFound("no such suggestion") from None
        return LunchReconnect.model_validate(_plain(item))

    def put_reconnect_pair(self, reconnect_id: str, pair: LunchPair, at: datetime) -> None:
        """The pair two members who both said yes meet as, their yeses as confirmations, and
        the reconnect on both records (so the next round does not pair them too); idempotent."""
        group_id = pair.group_id
        with contextlib.suppress(ConditionFailed):  # written by an earlier attempt
            self.db.put({**_pair_item(pair), "responses": dict(pair.responses)},
                        condition="attribute_not_exists(PK)")
        for member_id in pair.member_ids:
            others = {Noted(timeutil.to_store(at), o).stored() for o in pair.member_ids if o != member_id}
            self.db.update(keys.lunch_member(group_id, member_id), "SET member_id = :me ADD reconnected :r",
                           values={":me": member_id, ":r": others})
        with contextlib.suppress(ConditionFailed):  # a suggestion erased meanwhile stays gone
            self.db.update(keys.lunch_reconnect(group_id, reconnect_id), "SET connected_pair_id = :p",
                           condition="attribute_exists(PK)", values={":p": pair.pair_id})
