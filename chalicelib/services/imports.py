"""Importing members from a CSV file (the console): every row checked before anything is
written, valid rows created, bad rows reported by line and field.

The request reads and checks the whole file (`plan_import`, pure), stores the good rows in
pages and the bad ones as the report, records an `import.members` job and hands its first page
to the jobs worker; the console follows the job's page. The worker creates one page of members
(`import_page_work`), then hands on the next: a file of 5,000 rows never has to fit in one
request. A row is one member and its email guard in one transaction (store.members.create_many),
so a row is written whole or not at all, and an address already in the group is counted as
existing: importing the same file twice, or a page delivered twice, creates nobody twice.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import ValidationError

from chalicelib import deps, errors, ids, observe, workers
from chalicelib.models import Job, MemberIn
from chalicelib.services import jobs, members

log = logging.getLogger(__name__)

MAX_ROWS = 5000
PAGE_SIZE = 250  # rows a jobs-worker message creates: 250 transactions, a few seconds
COLUMNS = ("email", "name", "headline", "timezone")
REQUIRED = ("email", "name")


@dataclass(frozen=True)
class RowError:
    line: int  # the file's line the row starts on (the header is line 1)
    field: str
    message: str


@dataclass(frozen=True)
class Plan:
    rows: list[tuple[int, MemberIn]] = field(default_factory=list)
    problems: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class ImportReport:
    created: int
    existed: int
    problems: list[RowError]

    @property
    def rows_read(self) -> int:
        return self.created + self.existed + len(self.problems)


def plan_import(text: str) -> Plan:
    """Read and check the whole file (pure: no I/O). A header row names the columns (email and
    name required; headline and timezone optional, in any order). Raises InvalidInput naming
    `file` when the file as a whole cannot be read; otherwise answers the good rows and the
    problems of the bad ones."""
    text = text.removeprefix("\ufeff")  # a spreadsheet's byte-order mark
    if "\x00" in text:
        raise errors.InvalidInput("is not a CSV text file", field="file")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        while header is not None and not any(c.strip() for c in header):
            header = next(reader, None)
        if header is None:
            raise errors.InvalidInput("is empty: the first line must name the columns, e.g. email,name",
                                      field="file")
        names = [c.strip().lower() for c in header]
        unknown = [n for n in names if n not in COLUMNS]
        if unknown:
            raise errors.InvalidInput(f"has a column we don't know: “{unknown[0][:40]}” (use "
                                      f"{', '.join(COLUMNS)})", field="file")
        missing = [n for n in REQUIRED if n not in names]
        if missing:
            raise errors.InvalidInput(f"needs a column named {missing[0]}", field="file")
        if len(set(names)) != len(names):
            raise errors.InvalidInput("names a column twice", field="file")
        plan = Plan()
        seen: dict[str, int] = {}
        line = reader.line_num + 1
        count = 0
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            count += 1
            if count > MAX_ROWS:
                raise errors.InvalidInput(f"has more than {MAX_ROWS:,} rows; split it into smaller files",
                                          field="file")
            if len(cells) > len(names):
                plan.problems.append(RowError(start, "row", f"has {len(cells)} cells; the header names {len(names)}"))
                continue
            row = {n: (cells[i].strip() if i < len(cells) else "") for i, n in enumerate(names)}
            data: dict[str, str | None] = {"email": row["email"], "name": row["name"],
                                           "headline": row.get("headline", "")}
            data["timezone"] = row.get("timezone") or None
            try:
                member = MemberIn.model_validate(data)
            except errors.InvalidInput as exc:
                plan.problems.append(RowError(start, exc.field or "row", exc.message))
                continue
            except ValidationError as exc:
                first = exc.errors()[0]
                where = str(first["loc"][0]) if first["loc"] else "row"
                blank = not row.get(where) and where in REQUIRED
                plan.problems.append(RowError(start, where, "is required" if blank else
                                              errors.field_message(dict(first))))
                continue
            if member.email in seen:
                plan.problems.append(RowError(start, "email", f"is the same as on line {seen[member.email]}"))
                continue
            seen[member.email] = start
            plan.rows.append((start, member))
    except csv.Error as exc:
        raise errors.InvalidInput(f"could not be read as CSV near line {reader.line_num}: {exc}",
                                  field="file") from None
    return plan


def start_import(group_id: str, text: str) -> Job:
    """Check the whole file, keep its good rows for the jobs worker and its bad ones for the
    report, and start the job. Raises InvalidInput naming `file` when nothing can be read."""
    plan = plan_import(text)
    now = deps.now()
    rows = [{"line": line, **member.model_dump(mode="json", include={"email", "name", "headline", "timezone"})}
            for line, member in plan.rows]
    pages = [rows[start:start + PAGE_SIZE] for start in range(0, len(rows), PAGE_SIZE)]
    job = Job(job_id=ids.new_id("job", now_ms=int(now.timestamp() * 1000)), group_id=group_id,
              kind="import.members", created_at=now, pages=len(pages), problems=len(plan.problems))
    deps.store().jobs.create_import(job, pages, [asdict(p) for p in plan.problems])
    workers.send("job.import", group_id=group_id, job_id=job.job_id, page=0)
    return job


def import_page_work(body: dict[str, Any]) -> None:
    """Create one page of an import's members, then hand on the next page (or finish)."""
    job = jobs.page_to_do(body, ("import.members",))
    if job is None:
        return
    store = deps.store()
    group_id, job_id, page = job.group_id, job.job_id, job.page
    rows = store.jobs.import_rows(group_id, job_id, page) if page < (job.pages or 0) else []
    if rows is None:  # kept a week: the job was stuck that long
        store.jobs.finish(job, "failed", deps.now(), error="the file's rows expired before they were imported")
        return
    incoming = [MemberIn.model_validate({k: v for k, v in row.items() if k != "line"}) for row in rows]
    created, existed = members.add_members(group_id, incoming) if incoming else ([], [])
    last = page + 1 >= (job.pages or 0)
    moved = store.jobs.record_page(job, cursor=None, last=last, now=deps.now(), counts={
        "total": len(rows), "created": len(created), "existed": len(existed)})
    if moved is None:
        return
    if rows:
        store.jobs.drop_import_rows(group_id, job_id, page)
    if not last:
        workers.send("job.import", group_id=group_id, job_id=job_id, page=page + 1)
    elif store.jobs.finish_if_settled(moved, deps.now()):
        observe.count(observe.JOBS_FINISHED)


def report(job: Job) -> ImportReport:
    """What an import did so far: counts from the job, the rows not imported from its report."""
    problems = [RowError(int(p["line"]), str(p["field"]), str(p["message"]))
                for p in deps.store().jobs.import_problems(job.group_id, job.job_id)] if job.problems else []
    return ImportReport(created=job.created, existed=job.existed, problems=problems)
