"""Organizer console: the lunch programme's settings, the rounds (pairs, reasons, scores,
responses, feedback) and a held round's review (swap, take a pair out, approve).

Built on routes/console.py: every POST checks the session's CSRF token first (`console_form`)
and answers 303 to a page (post/redirect/get); a form that fails is shown again with the
error beside its field and nothing changed. GETs change nothing.
"""

from __future__ import annotations

from typing import Any, Final

from chalice.app import Blueprint, Response
from pydantic import ValidationError

from chalicelib import errors, slots
from chalicelib.models import Group, LunchProgramIn, LunchRoundEditIn
from chalicelib.routes.console import FORM_TYPES, Session, console_form, console_page, current_request, redirect
from chalicelib.routes.console import render_console as render
from chalicelib.routes.console_forms import FormErrors, beside_fields
from chalicelib.routes.html import first
from chalicelib.routes.http import cursor_param, path_id, query
from chalicelib.services import lunch, pairing, review

bp = Blueprint(__name__)

ROUNDS_PAGE: Final = 5
PROGRAM_FIELDS: Final = ("enabled", "cadence", "weekday", "local_hour", "repeat_window", "odd_rule",
                         "reconnect_after_months", "review", "slot_times",
                         *(f"slot_{part}" for part in slots.DEFAULT_TIMES))
# What a page says after a POST redirected to it (?done=...): fixed words, never echoed input.
DONE: Final = {
    "saved": "The lunch programme is saved.", "started": "The round is running.",
    "edited": "Changed: the score change is shown under Your changes.",
    "approved": "Approved: the introductions are on their way.",
}


def _done() -> str | None:
    return DONE.get(query(current_request()).get("done", ""))


def _round_id(value: str) -> str:
    return path_id(value, "lrd", "round_id")


# ---------------------------------------------------------------- the programme


def program_values(program: Any) -> dict[str, str]:
    """The form's fields for a stored programme (or the defaults when there is none)."""
    data = (program or LunchProgramIn()).model_dump()
    values = {name: "" if data.get(name) is None else str(data[name]) for name in PROGRAM_FIELDS if name in data}
    values.update(enabled="on" if data["enabled"] else "", review="on" if data["review"] else "", slot_times="")
    values.update({f"slot_{part}": time for part, time in data["slot_times"].items()})
    return values


def program_data(form: dict[str, list[str]]) -> tuple[dict[str, Any], dict[str, str]]:
    """A LunchProgramIn body from the form, and the values to show again."""
    values = {name: first(form, name).strip()[:100] for name in PROGRAM_FIELDS}
    problems: dict[str, str] = {}

    def whole(name: str) -> int | None:
        text = values[name]
        if text == "":
            return None
        if not text.isascii() or not text.isdigit() or len(text) > 6:
            problems[name] = "must be a whole number"
            return None
        return int(text)

    data: dict[str, Any] = {
        "enabled": values["enabled"] == "on", "review": values["review"] == "on",
        "cadence": values["cadence"], "weekday": values["weekday"], "odd_rule": values["odd_rule"],
        "local_hour": whole("local_hour"), "repeat_window": whole("repeat_window"),
        "reconnect_after_months": whole("reconnect_after_months"),
        "slot_times": {part: values[f"slot_{part}"] for part in slots.DEFAULT_TIMES if values[f"slot_{part}"]},
    }
    for name in ("local_hour", "reconnect_after_months"):
        if data[name] is None and name not in problems:
            problems[name] = "is required"
    if problems:
        raise FormErrors(problems, values)
    return data, values


def _program_page(session: Session, group: Group, program: Any, *, status: int = 200,
                  values: dict[str, str] | None = None, problems: dict[str, str] | None = None) -> Response:
    return render("lunch", session=session, group=group, http_status=status, program=program,
                  form=values or program_values(program), form_errors=problems or {}, flash=_done(),
                  zone=group.timezone)


@bp.route("/console/{group_id}/lunch", methods=["GET"])
@console_page(also=("lunch_program",))
def show_program(*, session: Session, group: Group, loaded: dict[str, Any]) -> Response:
    return _program_page(session, group, loaded["lunch_program"])


@bp.route("/console/{group_id}/lunch", methods=["POST"], content_types=FORM_TYPES)
@console_page(also=("lunch_program",))
def save_program(*, session: Session, group: Group, loaded: dict[str, Any]) -> Response:
    form = console_form(session)
    try:
        data, values = program_data(form)
        with beside_fields(values):
            lunch.put_program(group.group_id, LunchProgramIn.model_validate(data))
    except FormErrors as exc:
        return _program_page(session, group, loaded["lunch_program"], status=400, values=exc.posted,
                             problems=exc.errors)
    return redirect(f"/console/{group.group_id}/lunch?done=saved")


# ---------------------------------------------------------------- rounds


@bp.route("/console/{group_id}/rounds", methods=["GET"])
@console_page
def rounds(*, session: Session, group: Group) -> Response:
    cursor = cursor_param(current_request())
    page, next_cursor = pairing.list_rounds(group.group_id, ROUNDS_PAGE, cursor)
    shown = [pairing.round_detail(group.group_id, r.round_id) for r in page]
    return render("rounds", session=session, group=group, rounds=shown, next_cursor=next_cursor, flash=_done(),
                  single=False)


@bp.route("/console/{group_id}/rounds", methods=["POST"], content_types=FORM_TYPES)
@console_page
def start_round(*, session: Session, group: Group) -> Response:
    form = console_form(session)
    try:
        started = pairing.start_round_now(group.group_id, again=first(form, "again") == "on")
    except errors.Conflict as exc:
        page, next_cursor = pairing.list_rounds(group.group_id, ROUNDS_PAGE, None)
        shown = [pairing.round_detail(group.group_id, r.round_id) for r in page]
        return render("rounds", session=session, group=group, http_status=409, rounds=shown,
                      next_cursor=next_cursor, flash=exc.message, flash_kind="error", single=False)
    done = pairing.round_detail(group.group_id, started.round_id)
    where = "/review" if done["status"] == "review" else ""
    return redirect(f"/console/{group.group_id}/rounds/{started.round_id}{where}?done=started")


@bp.route("/console/{group_id}/rounds/{round_id}", methods=["GET"])
@console_page
def one_round(round_id: str, *, session: Session, group: Group) -> Response:
    shown = pairing.round_detail(group.group_id, _round_id(round_id))
    return render("rounds", session=session, group=group, rounds=[shown], next_cursor=None, flash=_done(),
                  single=True)


# ---------------------------------------------------------------- review


def _review_page(session: Session, group: Group, round_id: str, *, status: int = 200,
                 problems: dict[str, str] | None = None, posted: dict[str, str] | None = None) -> Response:
    shown = pairing.round_detail(group.group_id, round_id)
    people = [(m, n) for p in shown["pairs"] for m, n in zip(p["member_ids"], p["names"], strict=True)]
    people += [(s["member_id"], s["name"]) for s in shown["sat_out"]]
    return render("review", session=session, group=group, http_status=status, active="rounds", round=shown,
                  people=sorted(people, key=lambda p: (p[1] or "", p[0])), form_errors=problems or {},
                  posted=posted or {}, flash=_done(), edits=[review.edit_out(e, shown) for e in _edits(shown)])


def _edits(shown: dict[str, Any]) -> list[Any]:
    from chalicelib.models import RoundEdit

    return [RoundEdit.model_validate(e) for e in shown.get("edits", [])]


@bp.route("/console/{group_id}/rounds/{round_id}/review", methods=["GET"])
@console_page
def show_review(round_id: str, *, session: Session, group: Group) -> Response:
    return _review_page(session, group, _round_id(round_id))


@bp.route("/console/{group_id}/rounds/{round_id}/review", methods=["POST"], content_types=FORM_TYPES)
@console_page
def edit_round(round_id: str, *, session: Session, group: Group) -> Response:
    rid = _round_id(round_id)
    form = console_form(session)
    action = first(form, "action")
    values = {"swap_a": first(form, "swap_a"), "swap_b": first(form, "swap_b")}
    version = first(form, "version")
    if not (version.isascii() and version.isdigit() and len(version) < 10):
        return _review_page(session, group, rid, status=400, posted=values, problems={
            "form": "This form is out of date or damaged: nothing changed. Reload the page and try again."})
    body: dict[str, Any] = {"version": int(version)}
    if action == "remove":
        body["remove_pair"] = first(form, "pair_id")
    else:
        body["swap"] = [values["swap_a"], values["swap_b"]]
    try:
        review.edit(group.group_id, rid, LunchRoundEditIn.model_validate(body))
    except (ValidationError, errors.InvalidInput, errors.Conflict) as exc:
        field = "swap" if action != "remove" else "form"
        message = exc.message if isinstance(exc, errors.PowerlunchError) else _first_error(exc)
        if isinstance(exc, errors.PowerlunchError) and exc.field in ("version", "round_id"):
            field = "form"
        return _review_page(session, group, rid, status=409 if isinstance(exc, errors.Conflict) else 400,
                            problems={field: message}, posted=values)
    return redirect(f"/console/{group.group_id}/rounds/{rid}/review?done=edited")


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return str(error.get("msg", "is not valid")).removeprefix("Value error, ")


@bp.route("/console/{group_id}/rounds/{round_id}/approve", methods=["POST"], content_types=FORM_TYPES)
@console_page
def approve(round_id: str, *, session: Session, group: Group) -> Response:
    rid = _round_id(round_id)
    console_form(session)
    try:
        review.approve(group.group_id, rid)
    except errors.Conflict as exc:
        return _review_page(session, group, rid, status=409, problems={"form": exc.message})
    return redirect(f"/console/{group.group_id}/rounds/{rid}?done=approved")
