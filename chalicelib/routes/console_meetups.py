"""Organizer console: meetups (list, create, edit, duplicate, cancel, message attendees), a
meetup's people (RSVPs by status, check-in, CSV, invitations) and an invitation job's progress.

Every POST checks the session's CSRF token before anything else (`console_form`) and answers
303 to a page (post/redirect/get); a form that fails is shown again with the error beside its
field and nothing changed. GETs change nothing.
"""

from __future__ import annotations

import secrets
from typing import Final

from chalice.app import Blueprint, Response

from chalicelib import errors
from chalicelib.models import Group, MeetupCancelIn, MeetupIn, MeetupMessageIn, MeetupPatch, RsvpStatus
from chalicelib.routes import console_members
from chalicelib.routes.console import (
    FORM_TYPES,
    Session,
    console_form,
    console_page,
    current_request,
    once_per_form,
    redirect,
    render_console,
)
from chalicelib.routes.console_forms import (
    MEETUP_FIELDS,
    FormErrors,
    beside_fields,
    meetup_from,
    meetup_values,
    posted,
)
from chalicelib.routes.html import first
from chalicelib.routes.http import cursor_param, path_id, query
from chalicelib.services import console_meetups, jobs, meetups, rsvp

bp = Blueprint(__name__)

PAGE: Final = 25
STATUSES: Final[tuple[RsvpStatus, ...]] = ("going", "waitlisted", "not_going")
# What a page says after a POST redirected to it (?done=...): fixed words, never echoed input.
DONE: Final = {
    "created": "Meetup created.", "saved": "Your changes are saved.",
    "duplicated": "This is the copy: check it and edit anything that differs.",
    "cancelled": "The meetup is cancelled. Everyone going or waitlisted is being emailed.",
    "messaged": "Your note is on its way.", "checked_in": "Checked in.",
}


def _done() -> str | None:
    return DONE.get(query(current_request()).get("done", ""))


def _base(group: Group) -> str:
    return f"/console/{group.group_id}/meetups"


def _meetup_id(value: str) -> str:
    return path_id(value, "mtp", "meetup_id")


# ---------------------------------------------------------------- the list, and creating


def _list_page(session: Session, group: Group, *, status: int = 200, form: dict[str, str] | None = None,
               form_errors: dict[str, str] | None = None) -> Response:
    params = query(current_request())
    when = "past" if params.get("when") == "past" else "upcoming"
    cursor = cursor_param(current_request())
    rows, next_cursor = meetups.list_meetups(group.group_id, upcoming=when == "upcoming", limit=PAGE,
                                             cursor=cursor)
    blank = {name: "" for name in MEETUP_FIELDS} | {"timezone": group.timezone, "waitlist": "on",
                                                    "guests_allowed": "0", "visibility": "members",
                                                    "form_id": secrets.token_urlsafe(18)}
    return render_console("meetups", session=session, group=group, http_status=status, which=when,
                          meetups=rows, next_cursor=next_cursor, form=form or blank,
                          form_errors=form_errors or {}, flash=_done())


@bp.route("/console/{group_id}/meetups", methods=["GET"])
@console_page
def list_meetups(*, session: Session, group: Group) -> Response:
    return _list_page(session, group)


@bp.route("/console/{group_id}/meetups", methods=["POST"], content_types=FORM_TYPES)
@console_page
def create_meetup(*, session: Session, group: Group) -> Response:
    form = console_form(session)

    def create() -> Response:
        try:
            values = posted(form, MEETUP_FIELDS)
            with beside_fields(values):
                meetup = meetups.create_meetup(group.group_id, meetup_from(values, MeetupIn))
        except FormErrors as failed:
            return _list_page(session, group, status=400, form=failed.posted | {"form_id": first(form, "form_id")},
                              form_errors=failed.errors)
        return redirect(f"{_base(group)}/{meetup.meetup_id}?done=created")

    return once_per_form(group, form, "create", create)


# ---------------------------------------------------------------- one meetup


def _meetup_page(session: Session, group: Group, meetup_id: str, *, status: int = 200,
                 message: dict[str, str] | None = None, message_errors: dict[str, str] | None = None,
                 cancel: dict[str, str] | None = None, cancel_errors: dict[str, str] | None = None,
                 flash: str | None = None, flash_kind: str = "ok") -> Response:
    meetup = meetups.get_meetup(group.group_id, meetup_id)
    return render_console(
        "meetup", session=session, group=group, http_status=status, active="meetups", meetup=meetup,
        message=message or {"message_id": secrets.token_urlsafe(18), "note": "", "going": "on", "waitlisted": ""},
        form_id=secrets.token_urlsafe(18),
        message_errors=message_errors or {}, cancel=cancel or {"reason": ""}, cancel_errors=cancel_errors or {},
        flash=flash or _done(), flash_kind=flash_kind)


@bp.route("/console/{group_id}/meetups/{meetup_id}", methods=["GET"])
@console_page
def show_meetup(meetup_id: str, *, session: Session, group: Group) -> Response:
    return _meetup_page(session, group, _meetup_id(meetup_id))


@bp.route("/console/{group_id}/meetups/{meetup_id}/edit", methods=["GET"])
@console_page
def edit_meetup_form(meetup_id: str, *, session: Session, group: Group) -> Response:
    meetup = meetups.get_meetup(group.group_id, _meetup_id(meetup_id))
    return render_console("meetup_edit", session=session, group=group, active="meetups", meetup=meetup,
                          form=meetup_values(meetup), form_errors={})


@bp.route("/console/{group_id}/meetups/{meetup_id}/edit", methods=["POST"], content_types=FORM_TYPES)
@console_page
def edit_meetup(meetup_id: str, *, session: Session, group: Group) -> Response:
    form = console_form(session)
    mid = _meetup_id(meetup_id)
    try:
        values = posted(form, MEETUP_FIELDS)
        with beside_fields(values):
            meetups.update_meetup(group.group_id, mid, meetup_from(values, MeetupPatch))
    except FormErrors as failed:
        meetup = meetups.get_meetup(group.group_id, mid)
        return render_console("meetup_edit", session=session, group=group, active="meetups", http_status=400,
                              meetup=meetup,
                              form=failed.posted, form_errors=failed.errors)
    return redirect(f"{_base(group)}/{mid}?done=saved")


@bp.route("/console/{group_id}/meetups/{meetup_id}/duplicate", methods=["POST"], content_types=FORM_TYPES)
@console_page
def duplicate_meetup(meetup_id: str, *, session: Session, group: Group) -> Response:
    form = console_form(session)
    step = first(form, "step")
    if step not in ("week", "month"):
        raise errors.InvalidInput("choose a week or a month later", field="step")
    mid = _meetup_id(meetup_id)

    def duplicate() -> Response:
        copy = console_meetups.duplicate_meetup(group.group_id, mid, step)  # type: ignore[arg-type]
        return redirect(f"{_base(group)}/{copy.meetup_id}?done=duplicated")

    return once_per_form(group, form, f"duplicate:{mid}:{step}", duplicate)


@bp.route("/console/{group_id}/meetups/{meetup_id}/cancel", methods=["POST"], content_types=FORM_TYPES)
@console_page
def cancel_meetup(meetup_id: str, *, session: Session, group: Group) -> Response:
    form = console_form(session)
    mid = _meetup_id(meetup_id)
    try:
        values = posted(form, ("reason",))
        with beside_fields(values):
            given = MeetupCancelIn.model_validate(values)
    except FormErrors as failed:
        return _meetup_page(session, group, mid, status=400, cancel=failed.posted, cancel_errors=failed.errors)
    meetups.cancel_meetup(group.group_id, mid, given.reason)
    return redirect(f"{_base(group)}/{mid}?done=cancelled")


@bp.route("/console/{group_id}/meetups/{meetup_id}/message", methods=["POST"], content_types=FORM_TYPES)
@console_page
def message_attendees(meetup_id: str, *, session: Session, group: Group) -> Response:
    form = console_form(session)
    mid = _meetup_id(meetup_id)
    try:
        values = posted(form, ("message_id", "note", "going", "waitlisted"))
        with beside_fields(values):
            given = MeetupMessageIn.model_validate({
                "message_id": values["message_id"], "note": values["note"],
                "going": values["going"] == "on", "waitlisted": values["waitlisted"] == "on"})
    except FormErrors as failed:
        return _meetup_page(session, group, mid, status=400, message=failed.posted, message_errors=failed.errors)
    done = console_meetups.message_attendees(group.group_id, mid, given)
    if done.recipients == 0:
        flash = "Nobody is going or waitlisted yet, so nobody was emailed."
    elif done.queued == 0:
        flash = "This note was sent already; nobody gets it twice."
    else:
        flash = f"Your note is on its way to {done.queued} member{'s' if done.queued != 1 else ''}."
    return _meetup_page(session, group, mid, flash=flash)


# ---------------------------------------------------------------- a meetup's people


def _status() -> RsvpStatus | None:
    value = query(current_request()).get("status") or None
    if value is not None and value not in STATUSES:
        raise errors.InvalidInput("must be going, waitlisted or not_going", field="status")
    return value  # type: ignore[return-value]


@bp.route("/console/{group_id}/meetups/{meetup_id}/people", methods=["GET"])
@console_page
def people(meetup_id: str, *, session: Session, group: Group) -> Response:
    mid = _meetup_id(meetup_id)
    meetup = meetups.get_meetup(group.group_id, mid)
    status = _status()
    cursor = cursor_param(current_request())
    rows, next_cursor = rsvp.list_rsvps(group.group_id, mid, status, limit=50, cursor=cursor)
    return render_console("people", session=session, group=group, active="meetups", meetup=meetup,
                          status=status, rows=rows, next_cursor=next_cursor, flash=_done())


@bp.route("/console/{group_id}/meetups/{meetup_id}/people.csv", methods=["GET"])
@console_page
def people_csv(meetup_id: str, *, session: Session, group: Group) -> Response:
    mid = _meetup_id(meetup_id)
    body = rsvp.rsvps_csv(group.group_id, mid, _status())
    return Response(body=body, status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="people-{mid}.csv"'})


@bp.route("/console/{group_id}/meetups/{meetup_id}/people/{member_id}/check-in", methods=["POST"],
          content_types=FORM_TYPES)
@console_page
def check_in(meetup_id: str, member_id: str, *, session: Session, group: Group) -> Response:
    form = console_form(session)
    mid = _meetup_id(meetup_id)
    rsvp.check_in(group.group_id, mid, path_id(member_id, "mem", "member_id"))
    back = first(form, "status")
    suffix = f"&status={back}" if back in STATUSES else ""
    return redirect(f"{_base(group)}/{mid}/people?done=checked_in{suffix}")


@bp.route("/console/{group_id}/meetups/{meetup_id}/invite", methods=["POST"], content_types=FORM_TYPES)
@console_page
def invite(meetup_id: str, *, session: Session, group: Group) -> Response:
    console_form(session)
    job = jobs.invite_to_meetup(group.group_id, _meetup_id(meetup_id), None)
    return redirect(f"/console/{group.group_id}/jobs/{job.job_id}")


@bp.route("/console/{group_id}/jobs/{job_id}", methods=["GET"])
@console_page
def job(job_id: str, *, session: Session, group: Group) -> Response:
    found = jobs.get_job(group.group_id, path_id(job_id, "job", "job_id"))
    if found.kind == "import.members":
        page = console_members.import_page(session, group, job=found)
    else:
        meetup = meetups.get_meetup(group.group_id, found.meetup_id) if found.meetup_id else None
        page = render_console("job", session=session, group=group, job=found, meetup=meetup,
                              active="meetups" if found.kind == "invite.meetup" else "lunch")
    if found.status in ("queued", "running"):
        page.headers["Refresh"] = "5"  # the browser reloads it: progress without JavaScript
    return page
