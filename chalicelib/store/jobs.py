"""Background jobs (invitations): created once, advanced page by page, counted by the mail worker."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from chalicelib import errors
from chalicelib.models import Job
from chalicelib.store import keys
from chalicelib.store.core import ConditionFailed, Db, Item
from chalicelib.store.schema import GSI1PK, GSI1SK, TTL_ATTRIBUTE

ROWS_KEPT = timedelta(days=7)  # an import's rows, should its worker never get to them
PROBLEMS_KEPT = timedelta(days=30)  # an import's report of rows not imported
PROBLEMS_PER_ITEM = 500  # about 100 KB: well under DynamoDB's 400 KB an item

_COUNTERS = ("total", "recorded", "sent", "skipped", "suppressed", "failed", "created", "existed")


def _adds(counts: Mapping[str, int], names: dict[str, str], values: dict[str, Any]) -> str:
    """The ADD clause for the non-zero counters (names and values added in place)."""
    parts = []
    for name in _COUNTERS:
        if counts.get(name):
            names[f"#{name}"] = name
            values[f":{name}"] = counts[name]
            parts.append(f"#{name} :{name}")
    return ", ".join(parts)


def _job(item: Item) -> Job:
    return Job.model_validate({k: v for k, v in item.items() if k not in (GSI1PK, GSI1SK)})


class JobRepo:
    def __init__(self, db: Db) -> None:
        self.db = db

    def create(self, job: Job) -> None:
        item = {**keys.job(job.group_id, job.job_id),
                **keys.running_job_index(job.group_id, job.job_id, job.created_at),
                "type": "job", **job.model_dump()}
        self.db.put(item, condition="attribute_not_exists(PK)")

    def get(self, group_id: str, job_id: str) -> Job | None:
        item = self.db.get(keys.job(group_id, job_id))
        return _job(item) if item else None

    def require(self, group_id: str, job_id: str) -> Job:
        job = self.get(group_id, job_id)
        if job is None:
            raise errors.NotFound("no such job in this group", field="job_id")
        return job

    def record_page(self, job: Job, *, cursor: str | None, last: bool, counts: Mapping[str, int],
                    now: datetime) -> Job | None:
        """Move the job past page `job.page` and add its counts, once: a redelivered message
        for a page already recorded finds the page moved on, and changes nothing (None)."""
        names = {"#page": "page", "#st": "status", "#done": "pages_done", "#start": "started_at",
                 "#cur": "cursor"}
        values: dict[str, Any] = {":page": job.page, ":next": job.page + 1, ":running": "running",
                                  ":now": now, ":last": last, ":false": False}
        sets = ["#page = :next", "#st = :running", "#done = :last", "#start = if_not_exists(#start, :now)"]
        if cursor is not None:
            sets.append("#cur = :cursor")
            values[":cursor"] = cursor
        expression = "SET " + ", ".join(sets) + (" REMOVE #cur" if cursor is None else "")
        adds = _adds(counts, names, values)
        if adds:
            expression += " ADD " + adds
        try:
            item = self.db.update(keys.job(job.group_id, job.job_id), expression,
                                  condition="#page = :page AND #done = :false", names=names, values=values)
        except ConditionFailed:
            return None
        return _job(item)

    def count_mail(self, group_id: str, job_id: str, counts: Mapping[str, int]) -> Job | None:
        """The mail worker's tally for one batch (sent, suppressed, failed): one UpdateItem."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        adds = _adds(counts, names, values)
        if not adds:
            return None
        try:
            item = self.db.update(keys.job(group_id, job_id), "ADD " + adds,
                                  condition="attribute_exists(PK)", names=names, values=values)
        except ConditionFailed:
            return None  # the job is gone (the group was erased): nothing to count
        return _job(item)

    def finish(self, job: Job, status: str, now: datetime, error: str | None = None) -> bool:
        """Done (or failed): leave the running index. Only a running or queued job finishes;
        answers whether this call finished it (of two racing callers, one does)."""
        try:
            self.db.update(keys.job(job.group_id, job.job_id),
                           "SET #st = :status, finished_at = :now, #err = :error REMOVE #gpk, #gsk",
                           condition="#st IN (:queued, :running)",
                           names={"#st": "status", "#err": "error", "#gpk": GSI1PK, "#gsk": GSI1SK},
                           values={":status": status, ":now": now, ":error": error,
                                   ":queued": "queued", ":running": "running"})
        except ConditionFailed:
            return False
        return True

    def finish_if_settled(self, job: Job, now: datetime) -> bool:
        """`done` once every page is recorded and every recorded mail is sent, suppressed or
        dead (as `job`, just read back, says); answers whether this call finished it."""
        return job.status == "running" and job.settled and self.finish(job, "done", now)

    def running_since(self, before: datetime) -> Iterator[tuple[str, str]]:
        """(group id, job id) of every job still queued or running that started before `before`."""
        cursor: str | None = None
        while True:
            page = self.db.query_page(partition=keys.RUNNING_JOBS, index=True,
                                      upper=keys.time_bound(before), limit=200, cursor=cursor)
            for item in page.items:
                yield item["group_id"], item["job_id"]
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    # ---- CSV imports: the checked rows wait in pages for the jobs worker; the report stays

    def create_import(self, job: Job, pages: Sequence[Sequence[Mapping[str, Any]]],
                      problems: Sequence[Mapping[str, Any]]) -> None:
        """The pages of rows and the rows not imported, then the job that points at them."""
        rows_until = int((job.created_at + ROWS_KEPT).timestamp())
        report_until = int((job.created_at + PROBLEMS_KEPT).timestamp())
        puts = [{**keys.import_rows(job.group_id, job.job_id, number), "type": "import_rows",
                 "rows": [dict(row) for row in page], TTL_ATTRIBUTE: rows_until}
                for number, page in enumerate(pages)]
        puts += [{**keys.import_problems(job.group_id, job.job_id, number // PROBLEMS_PER_ITEM),
                  "type": "import_problems", TTL_ATTRIBUTE: report_until,
                  "problems": [dict(p) for p in problems[number:number + PROBLEMS_PER_ITEM]]}
                 for number in range(0, len(problems), PROBLEMS_PER_ITEM)]
        self.db.write_batch(puts)
        self.create(job)

    def import_rows(self, group_id: str, job_id: str, page: int) -> list[dict[str, Any]] | None:
        """One page of rows (None once imported, or expired)."""
        item = self.db.get(keys.import_rows(group_id, job_id, page))
        return None if item is None else list(item["rows"])

    def drop_import_rows(self, group_id: str, job_id: str, page: int) -> None:
        self.db.delete(keys.import_rows(group_id, job_id, page))

    def import_problems(self, group_id: str, job_id: str) -> list[dict[str, Any]]:
        """The rows an import did not take, in file order."""
        return [problem for item in self.db.query_all(partition=keys.group_pk(group_id),
                                                      prefix=keys.import_problems_prefix(job_id))
                for problem in item["problems"]]
