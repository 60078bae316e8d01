"""Organizer console: members (list, search by name or email prefix, add one, import a CSV,
edit, erase behind a confirmation step).

Every POST checks the session's CSRF token before anything else (`console_form`); a form that
fails is shown again with the error beside its field and nothing changed. GETs change nothing.
"""

from __future__ import annotations

import secrets
from typing import Final

from chalice.app import Blueprint, Response

from chalicelib import deps, errors
from chalicelib.models import Group, Job, Member, MemberIn, MemberPatch
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
from chalicelib.routes.console_forms import MEMBER_FIELDS, FormErrors, beside_fields, posted
from chalicelib.routes.html import first
from chalicelib.routes.http import cursor_param, path_id, query
from chalicelib.services import erasure, imports, lunch, members

bp = Blueprint(__name__)

PAGE: Final = 50
MAX_QUERY: Final = 200
DONE: Final = {"added": "Member added.", "saved": "Your changes are saved.",
               "erased": "The member is erased: their name, address and answers are gone."}
EDIT_FIELDS: Final = ("name", "headline", "timezone", "subscribed")


def _member_id(value: str) -> str:
    return path_id(value, "mem", "member_id")


def _list_page(session: Session, group: Group, *, status: int = 200, form: dict[str, str] | None = None,
               form_errors: dict[str, str] | None = None) -> Response:
    params = query(current_request())
    text = (params.get("q") or "").strip()[:MAX_QUERY]
    cursor = cursor_param(current_request())
    next_cursor = None
    if text:
        rows = members.search_members(group.group_id, text, limit=PAGE)
    else:
        rows, next_cursor = members.list_members(group.group_id, PAGE, cursor)
    return render_console("members", session=session, group=group, http_status=status, q=text, members=rows,
                          next_cursor=next_cursor, form=form or {name: "" for name in MEMBER_FIELDS},
                          form_errors=form_errors or {}, flash=DONE.get(params.get("done", "")))


@bp.route("/console/{group_id}/members", methods=["GET"])
@console_page
def list_members(*, session: Session, group: Group) -> Response:
    return _list_page(session, group)


@bp.route("/console/{group_id}/members", methods=["POST"], content_types=FORM_TYPES)
@console_page
def add_member(*, session: Session, group: Group) -> Response:
    form = console_form(session)
    try:
        values = posted(form, MEMBER_FIELDS)
        with beside_fields(values):
            given = MemberIn.model_validate({**values, "timezone": values["timezone"] or None})
        created, _ = members.add_members(group.group_id, [given])
        if not created:
            raise FormErrors({"email": "belongs to a member already: search for it above"}, values)
    except FormErrors as failed:
        return _list_page(session, group, status=400, form=failed.posted, form_errors=failed.errors)
    return redirect(f"/console/{group.group_id}/members/{created[0].member_id}/edit?done=added")


# ---------------------------------------------------------------- import


@bp.route("/console/{group_id}/members/import", methods=["GET"])
@console_page
def import_form(*, session: Session, group: Group) -> Response:
    return import_page(session, group)


@bp.route("/console/{group_id}/members/import", methods=["POST"], content_types=FORM_TYPES)
@console_page
def import_members(*, session: Session, group: Group) -> Response:
    form = console_form(session)
    text = first(form, "file") or first(form, "csv_text")

    def start() -> Response:
        try:
            if not text.strip():
                raise errors.InvalidInput("is empty: choose a CSV file, or paste its rows", field="file")
            job = imports.start_import(group.group_id, text)
        except errors.InvalidInput as exc:
            return import_page(session, group, status=400, csv_text=first(form, "csv_text")[:20000],
                                file_error=exc.message)
        return redirect(f"/console/{group.group_id}/jobs/{job.job_id}")

    return once_per_form(group, form, "import", start)


def import_page(session: Session, group: Group, *, status: int = 200, job: Job | None = None,
                 csv_text: str = "", file_error: str | None = None) -> Response:
    """The import form; below an import's report once its job has run (`job`)."""
    return render_console("members_import", session=session, group=group, http_status=status, active="members",
                          job=job, report=imports.report(job) if job else None, csv_text=csv_text,
                          file_error=file_error, max_rows=imports.MAX_ROWS, form_id=secrets.token_urlsafe(18))


# ---------------------------------------------------------------- one member


def _edit_values(member: Member) -> dict[str, str]:
    return {"name": member.name, "headline": member.headline, "timezone": member.timezone or "",
            "subscribed": "on" if member.subscribed else ""}


@bp.route("/console/{group_id}/members/{member_id}/edit", methods=["GET"])
@console_page
def edit_form(member_id: str, *, session: Session, group: Group) -> Response:
    member = members.get_member(group.group_id, _member_id(member_id))
    return _member_page(session, group, member, form=_edit_values(member), form_errors={},
                        flash=DONE.get(query(current_request()).get("done", "")))


@bp.route("/console/{group_id}/members/{member_id}/edit", methods=["POST"], content_types=FORM_TYPES)
@console_page
def edit_member(member_id: str, *, session: Session, group: Group) -> Response:
    form = console_form(session)
    mid = _member_id(member_id)
    try:
        values = posted(form, EDIT_FIELDS)
        with beside_fields(values):
            patch = MemberPatch.model_validate({"name": values["name"], "headline": values["headline"],
                                                "timezone": values["timezone"] or None,
                                                "subscribed": values["subscribed"] == "on"})
            members.update_member(group.group_id, mid, patch)
    except FormErrors as failed:
        member = members.get_member(group.group_id, mid)
        return _member_page(session, group, member, form=failed.posted, form_errors=failed.errors, status=400)
    return redirect(f"/console/{group.group_id}/members/{mid}/edit?done=saved")


def _member_page(session: Session, group: Group, member: Member, *, form: dict[str, str],
                 form_errors: dict[str, str], status: int = 200, flash: str | None = None) -> Response:
    """A member's page: their details, the edit form, and their lunches."""
    return render_console("member_edit", session=session, group=group, active="members", http_status=status,
                          member=member, form=form, form_errors=form_errors, flash=flash,
                          lunches=lunch.member_lunches(group, member, deps.now()))


@bp.route("/console/{group_id}/members/{member_id}/erase", methods=["GET"])
@console_page
def erase_form(member_id: str, *, session: Session, group: Group) -> Response:
    member = members.get_member(group.group_id, _member_id(member_id))
    return render_console("member_erase", session=session, group=group, active="members", member=member,
                          confirm_error=None)


@bp.route("/console/{group_id}/members/{member_id}/erase", methods=["POST"], content_types=FORM_TYPES)
@console_page
def erase_member(member_id: str, *, session: Session, group: Group) -> Response:
    form = console_form(session)
    mid = _member_id(member_id)
    member = members.get_member(group.group_id, mid)
    if first(form, "confirm").strip().lower() != member.email:
        return render_console("member_erase", session=session, group=group, active="members", http_status=400,
                              member=member,
                              confirm_error="must be the member's email address, to show you mean this member")
    erasure.erase_member(group.group_id, mid)
    return redirect(f"/console/{group.group_id}/members?done=erased")
