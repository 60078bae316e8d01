"""Reading a member CSV (pure): good rows kept, bad rows reported by their line and field."""

from __future__ import annotations

import pytest

from chalicelib import errors
from chalicelib.services.imports import MAX_ROWS, plan_import


def test_rows_report_line_and_field_including_quoted_newlines() -> None:
    text = (
        "\ufeffName,Email,headline\r\n"
        "Ana,ana@example.com,Designer\r\n"
        '"Bo\nLi",bo@example.com,x\r\n'  # a cell spanning two lines: the next row is on line 5
        ",cy@example.com,\r\n"
        "Dee,not-an-address,\r\n"
        "\r\n"
        "Eve,ANA@example.com,\r\n"
        "Fay,fay@example.com,a,extra\r\n"
    )
    plan = plan_import(text)
    assert [(line, m.email) for line, m in plan.rows] == [(2, "ana@example.com"), (3, "bo@example.com")]
    assert [(p.line, p.field) for p in plan.problems] == [(5, "name"), (6, "email"), (8, "email"), (9, "row")]
    assert plan.problems[0].message == "is required"
    assert plan.problems[1].message == "is not an email address"  # the form's words, not pydantic's
    assert "line 2" in plan.problems[2].message


def test_timezone_column_is_checked() -> None:
    plan = plan_import("email,name,timezone\na@example.com,A,Europe/Atlantis\nb@example.com,B,\n")
    assert [(p.line, p.field) for p in plan.problems] == [(2, "timezone")]
    assert plan.rows[0][1].timezone is None


@pytest.mark.parametrize("text, words", [
    ("", "empty"),
    ("email\nx@example.com\n", "name"),
    ("email,name,phone\n", "phone"),
    ("email,name,name\n", "twice"),
    ("email,name\n\x00\n", "CSV"),
])
def test_a_file_that_cannot_be_read_names_the_file(text: str, words: str) -> None:
    with pytest.raises(errors.InvalidInput) as raised:
        plan_import(text)
    assert raised.value.field == "file" and words in raised.value.message


def test_more_than_the_row_limit_is_refused_whole() -> None:
    rows = "".join(f"M{i},m{i}@example.com\n" for i in range(MAX_ROWS + 1))
    with pytest.raises(errors.InvalidInput, match="5,000"):
        plan_import("name,email\n" + rows)
    assert len(plan_import("name,email\n" + rows.rsplit("M", 1)[0]).rows) == MAX_ROWS
