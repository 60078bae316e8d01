"""Importing members from a CSV file (the console): every row checked before anything is
written, valid rows created, bad rows reported by line and field.

A row is one member and its email guard in one transaction (store.members.create_many), so a
row is written whole or not at all, and an address already in the group is counted as existing:
importing the same file twice creates nobody the second time.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from pydantic import ValidationError

from chalicelib import errors
from chalicelib.models import MemberIn
from chalicelib.services import members

MAX_ROWS = 5000
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


def _message(error: dict[str, object]) -> str:
    text = str(error.get("msg", "is not valid"))
    return text.removeprefix("Value error, ")


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
                message = "is required" if not row.get(where) and where in REQUIRED else _message(dict(first))
                plan.problems.append(RowError(start, where, message))
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


def import_members(group_id: str, text: str) -> ImportReport:
    """Create the file's valid rows (new addresses only) and report the bad ones."""
    plan = plan_import(text)
    created, existed = members.add_members(group_id, [m for _, m in plan.rows]) if plan.rows else ([], [])
    return ImportReport(created=len(created), existed=len(existed), problems=plan.problems)
