"""The console's delivery log: what became of a group's mail lately, readable with one Query.

The outbox is keyed per recipient (MAILTO#g#m), which suits sending and erasure but not "this
group's dead mail". So the outbox writes a little beside it, in one partition per group
(DELIVERY#g): per UTC day of recording, counters (recorded: the mail worker's first claim of it;
sent, suppressed, dead), tallied by the worker and added once its batch is done, one UpdateItem
per group and day, so requests pay nothing and a batch of ten one call; one item per dead mail
with its error; one item per member whose address bounced or who complained. Days and dead mail
expire after about a month (TTL `expires_at`, also checked on read); the problem items stay, and
reads check the member.
The counters are written after the mails' own writes, so a worker that dies mid-batch can leave
those mails uncounted, and mail recorded but not yet claimed is not counted as queued until the
worker claims it (seconds; the sweep's two minutes for a lost message): the outbox itself stays
the truth.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, Literal

from chalicelib import timeutil
from chalicelib.store import keys
from chalicelib.store.core import Db
from chalicelib.store.schema import PK, SK, TTL_ATTRIBUTE

KEPT: Final = timedelta(days=32)  # a day's counters and a dead mail are shown for 30 days
Counted = Literal["recorded", "sent", "suppressed", "dead"]
COUNTED: Final[tuple[Counted, ...]] = ("recorded", "sent", "suppressed", "dead")


@dataclass(frozen=True)
class DeadMail:
    mail_id: str
    member_id: str
    kind: str
    error: str
    attempts: int
    created_at: datetime
    died_at: datetime
    to_email: str | None = None


@dataclass(frozen=True)
class Problem:
    member_id: str
    flag: str  # "bounced" | "complained"
    at: datetime


@dataclass
class DeliveryLog:
    days: dict[date, Counter[str]] = field(default_factory=dict)
    dead: list[DeadMail] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def totals(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for counts in self.days.values():
            total.update(counts)
        return total


def _expires(at: datetime) -> int:
    return int((at + KEPT).timestamp())


class DeliveryRepo:
    def __init__(self, db: Db) -> None:
        self.db = db
        self.tally: Counter[tuple[str, date, str]] = Counter()

    def count(self, group_id: str, day: date, counts: dict[str, int]) -> None:
        """Add to a day's counters (one UpdateItem)."""
        counts = {k: n for k, n in counts.items() if n and k in COUNTED}
        if not counts:
            return
        names = {f"#c{i}": k for i, k in enumerate(counts)}
        values: dict[str, Any] = {f":c{i}": n for i, n in enumerate(counts.values())}
        values[":ttl"] = _expires(datetime(day.year, day.month, day.day, tzinfo=UTC))
        values[":day"] = day.isoformat()
        adds = ", ".join(f"#c{i} :c{i}" for i in range(len(counts)))
        self.db.update(keys.delivery_day(group_id, day),
                       f"ADD {adds} SET #ttl = :ttl, #day = :day",
                       names={**names, "#ttl": TTL_ATTRIBUTE, "#day": "day"}, values=values)

    def note(self, mail: Any, what: str) -> None:
        """Tally one mail as recorded (its first claim) or finished (sent, suppressed, dead);
        written by `flush`, which the mail worker calls once its batch is done."""
        if what in COUNTED:
            self.tally[(mail.group_id, mail.created_at.astimezone(UTC).date(), what)] += 1

    def flush(self) -> None:
        """Write the tally: one UpdateItem per group and day of recording."""
        by_day: dict[tuple[str, date], dict[str, int]] = {}
        for (group_id, day, what), n in self.tally.items():
            by_day.setdefault((group_id, day), {})[what] = n
        self.tally.clear()
        for (group_id, day), counts in by_day.items():
            self.count(group_id, day, counts)

    def died(self, mail: Any, error: str, at: datetime) -> None:
        """A mail given up on: counted, and kept with its error for the delivery page."""
        self.note(mail, "dead")
        self.db.put({**keys.delivery_dead(mail.group_id, timeutil.to_store(mail.created_at), mail.mail_id),
                     "type": "delivery_dead", "mail_id": mail.mail_id, "member_id": mail.member_id,
                     "kind": mail.kind, "error": error[:500], "attempts": mail.attempts,
                     "created_at": mail.created_at, "died_at": at, "to_email": mail.to_email,
                     TTL_ATTRIBUTE: _expires(mail.created_at)})

    def problem(self, group_id: str, member_id: str, flag: str, at: datetime) -> None:
        """A member whose address bounced or who complained (kept: reads check the member)."""
        self.db.put({**keys.delivery_problem(group_id, member_id), "type": "delivery_problem",
                     "member_id": member_id, "flag": flag, "at": at})

    def read(self, group_id: str, now: datetime, *, days: int = 30) -> DeliveryLog:
        """The last `days` days of the group's log: one Query (paged only past 1 MB)."""
        since = (now - timedelta(days=days)).astimezone(UTC)
        log = DeliveryLog()
        for item in self.db.query_all(partition=keys.delivery_log(group_id)):
            if int(item.get(TTL_ATTRIBUTE) or 2**40) <= int(now.timestamp()):
                continue
            sort_key = str(item[SK])
            if sort_key.startswith(keys.DELIVERY_DAY_PREFIX):
                day = date.fromisoformat(str(item["day"]))
                if day >= since.date():
                    log.days[day] = Counter({k: int(item.get(k, 0)) for k in COUNTED})
            elif sort_key.startswith(keys.DELIVERY_DEAD_PREFIX):
                created = timeutil.from_store(str(item["created_at"]))
                if created >= since:
                    log.dead.append(DeadMail(
                        mail_id=str(item["mail_id"]), member_id=str(item["member_id"]), kind=str(item["kind"]),
                        error=str(item.get("error", "")), attempts=int(item.get("attempts", 0)),
                        created_at=created, died_at=timeutil.from_store(str(item["died_at"])),
                        to_email=item.get("to_email")))
            elif sort_key.startswith(keys.DELIVERY_PROBLEM_PREFIX):
                log.problems.append(Problem(member_id=str(item["member_id"]), flag=str(item["flag"]),
                                            at=timeutil.from_store(str(item["at"]))))
        log.dead.sort(key=lambda d: d.died_at, reverse=True)
        return log

    def erase(self, group_id: str, member_id: str) -> int:
        """Delete what the log holds about one mailbox (a member, or an address's `addr_` id):
        its dead mail, whose error may quote the address, and its problem item. One Query of
        the group's log (a month of it), then the deletes."""
        found = [item for item in self.db.query_all(partition=keys.delivery_log(group_id))
                 if item.get("member_id") == member_id]
        return self.db.write_batch(deletes=[{PK: i[PK], SK: i[SK]} for i in found])
