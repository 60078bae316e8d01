"""Lunch pairing: the programme, rounds, pairs and one record per member.

Every write here is idempotent or guarded, because rounds are retried after a crash:
rounds are created with `attribute_not_exists`, pairs likewise under deterministic ids,
and the per-member records only grow string sets (ADD of an element already there is a no-op).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from chalicelib import errors
from chalicelib.models import LunchPair, LunchProgram, LunchRecord, LunchRound, PairFeedbackIn
from chalicelib.store import keys
from chalicelib.store.core import ConditionFailed, Db, Item, set_remove
from chalicelib.store.schema import GSI1PK, GSI1SK, PK, SK

_KEY_FIELDS = (PK, SK, GSI1PK, GSI1SK)


def _pair_item(pair: LunchPair) -> Item:
    return {**keys.lunch_pair(pair.group_id, pair.pair_id), "type": "lunch_pair",
            **pair.model_dump(exclude={"responses", "feedback", "blocked_by"}),
            "responses": {}, "feedback": {}}


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
                     outcome: str | None = None, new_pairs_left: int | None = None) -> LunchRound:
        item = self.db.update(
            keys.lunch_round(group_id, round_id),
            "SET #st = :planned, pair_count = :n, sat_out = :out, skipped = :skipped, "
            "total_score = :score, planned_at = :at, outcome = :outcome, new_pairs_left = :left",
            condition="#st = :started", names={"#st": "status"},
            values={":planned": "planned", ":started": "started", ":n": pair_count,
                    ":out": list(sat_out), ":skipped": list(skipped), ":score": total_score,
                    ":at": at, ":outcome": outcome, ":left": new_pairs_left})
        return LunchRound.model_validate(_plain(item))

    def mark_done(self, group_id: str, round_id: str, *, at: datetime, followup_at: datetime) -> None:
        index = keys.lunch_followup_index(group_id, round_id, followup_at)
        self.db.update(keys.lunch_round(group_id, round_id),
                       "SET #st = :done, done_at = :at, GSI1PK = :gpk, GSI1SK = :gsk REMOVE lease_until",
                       condition="#st = :planned", names={"#st": "status"},
                       values={":done": "done", ":planned": "planned", ":at": at,
                               ":gpk": index[GSI1PK], ":gsk": index[GSI1SK]})

    def followups_due(self, now: datetime) -> Iterator[tuple[str, str]]:
        """(group_id, round_id) of done rounds whose follow-ups are due and not yet sent."""
        upper = keys.time_bound(now) + "~"
        cursor: str | None = None
        while True:
            page = self.db.query_page(partition=keys.LUNCH_FOLLOWUPS, index=True, upper=upper,
                                      limit=200, cursor=cursor)
            for item in page.items:
                yield item["group_id"], item["round_id"]
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

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

    def pairs_of_round(self, group_id: str, pair_prefix: str) -> list[LunchPair]:
        return [LunchPair.model_validate(_plain(i)) for i in
                self.db.query_all(partition=keys.group_pk(group_id),
                                  prefix=keys.lunch_pairs_of_round(pair_prefix), consistent=True)]

    def all_pairs(self, group_id: str) -> Iterator[LunchPair]:
        for item in self.db.query_all(partition=keys.group_pk(group_id), prefix=keys.LUNCH_PAIR_PREFIX):
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

    def scrub_pair(self, group_id: str, pair_id: str, member_id: str, reasons: Sequence[str]) -> None:
        """Erasure: drop the member's answers and the reasons that quote them."""
        try:
            self.db.update(keys.lunch_pair(group_id, pair_id),
                           "SET reasons = :reasons REMOVE responses.#m, feedback.#m",
                           condition="attribute_exists(PK)", names={"#m": member_id},
                           values={":reasons": list(reasons)})
        except ConditionFailed:
            return

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
                    ":met": {f"{round_id}/{other}" for other in pair.member_ids if other != member_id}}}}]

        # Unconditional, so nothing is refused; a conflict with a member's own write is retried.
        self.db.transact_each([(pair, member_id) for pair in pairs for member_id in pair.member_ids],
                              update)

    def record_sat_out(self, group_id: str, member_id: str, round_id: str) -> None:
        self.db.update(keys.lunch_member(group_id, member_id),
                       "SET member_id = :me, sat_out_round = :r",
                       values={":me": member_id, ":r": round_id})

    def record_paused(self, group_id: str, member_id: str, round_id: str) -> None:
        self.db.update(keys.lunch_member(group_id, member_id),
                       "SET member_id = :me, paused_round = :r",
                       values={":me": member_id, ":r": round_id})

    def get_record(self, group_id: str, member_id: str) -> LunchRecord:
        item = self.db.get(keys.lunch_member(group_id, member_id))
        return LunchRecord.model_validate(_plain(item)) if item else LunchRecord(member_id=member_id)

    def all_records(self, group_id: str) -> dict[str, LunchRecord]:
        return {i["member_id"]: LunchRecord.model_validate(_plain(i)) for i in
                self.db.query_all(partition=keys.group_pk(group_id), prefix=keys.LUNCH_MEMBER_PREFIX,
                                  consistent=True)}

    def delete_record(self, group_id: str, member_id: str) -> None:
        self.db.delete(keys.lunch_member(group_id, member_id))
