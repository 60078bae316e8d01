"""Organizer API for RSVPs: who answered (JSON pages and CSV), invitations, check-in."""

from __future__ import annotations

from typing import Annotated

from chalice.app import Blueprint, Response
from pydantic import Field, StringConstraints, model_validator

from chalicelib import errors
from chalicelib.models import InModel, RsvpStatus
from chalicelib.routes.http import (
    JSON_TYPES,
    api,
    job_accepted,
    json_response,
    once,
    page,
    page_params,
    parse_json,
    path_id,
    query,
)
from chalicelib.routes.organizer import organizer
from chalicelib.services import jobs, rsvp

bp = Blueprint(__name__)

_STATUSES: tuple[RsvpStatus, ...] = ("going", "waitlisted", "not_going")
MemberId = Annotated[str, StringConstraints(min_length=1, max_length=40)]


class InvitationsIn(InModel):
    """`{"member_ids": [...]}` for those members, `{}` or `{"all": true}` for every subscribed one."""

    member_ids: Annotated[list[MemberId], Field(min_length=1, max_length=1000)] | None = None
    all: bool | None = None

    @model_validator(mode="after")
    def _one_audience(self) -> InvitationsIn:
        if self.member_ids is not None and self.all:
            raise errors.InvalidInput("give member_ids or all, not both", field="all")
        if self.all is False and self.member_ids is None:
            raise errors.InvalidInput("give member_ids, or all: true", field="member_ids")
        return self


def _status_param() -> RsvpStatus | None:
    value = query(bp.current_request).get("status")
    if value is None or value == "":
        return None
    if value not in _STATUSES:
        raise errors.InvalidInput("must be going, waitlisted or not_going", field="status")
    return value  # type: ignore[return-value]


@bp.route("/groups/{group_id}/meetups/{meetup_id}/rsvps", methods=["GET"])
@api
def list_rsvps(group_id: str, meetup_id: str) -> Response:
    gid = organizer(group_id)
    limit, cursor = page_params(bp.current_request)
    rows, next_cursor = rsvp.list_rsvps(gid, path_id(meetup_id, "mtp", "meetup_id"), _status_param(),
                                        limit=limit, cursor=cursor)
    return json_response(page(rows, next_cursor))


@bp.route("/groups/{group_id}/meetups/{meetup_id}/rsvps.csv", methods=["GET"])
@api
def rsvps_csv(group_id: str, meetup_id: str) -> Response:
    gid = organizer(group_id)
    mid = path_id(meetup_id, "mtp", "meetup_id")
    body = rsvp.rsvps_csv(gid, mid, _status_param())
    return Response(body=body, status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="rsvps-{mid}.csv"'})


@bp.route("/groups/{group_id}/meetups/{meetup_id}/invitations", methods=["POST"],
          content_types=JSON_TYPES)
@api
def invite(group_id: str, meetup_id: str) -> Response:
    gid = organizer(group_id)
    raw = bp.current_request.raw_body or b""
    body = parse_json(bp.current_request) if raw.strip() else {}
    if not isinstance(body, dict):
        raise errors.InvalidInput("must be a JSON object", field="body")
    given = InvitationsIn.model_validate(body)
    mid = path_id(meetup_id, "mtp", "meetup_id")
    return once(bp.current_request, gid, lambda: job_accepted(
        jobs.invite_to_meetup(gid, mid, given.member_ids)))


@bp.route("/groups/{group_id}/meetups/{meetup_id}/rsvps/{member_id}/check-in", methods=["POST"])
@api
def check_in(group_id: str, meetup_id: str, member_id: str) -> Response:
    gid = organizer(group_id)
    row = rsvp.check_in(gid, path_id(meetup_id, "mtp", "meetup_id"),
                        path_id(member_id, "mem", "member_id"))
    return json_response(row)
