"""Organizer API: groups, members and meetups (JSON, bearer key of the group)."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib import errors
from chalicelib.models import GroupPatch, MeetupIn, MeetupPatch, MemberIn, MemberPatch, MembersIn
from chalicelib.routes.http import (
    JSON_TYPES,
    api,
    json_response,
    once,
    page,
    page_params,
    parse_json,
    parse_model,
    path_id,
    query,
)
from chalicelib.services import erasure, groups, jobs, meetups, members

bp = Blueprint(__name__)


def organizer(group_id: str) -> str:
    """Authenticate the request for this group; answers the group id."""
    path_id(group_id, "grp", "group_id")
    return groups.authenticate(bp.current_request.headers.get("authorization"), group_id)


# ---------------------------------------------------------------- group


@bp.route("/groups/{group_id}", methods=["GET"])
@api
def get_group(group_id: str) -> Response:
    return json_response(groups.get_group(organizer(group_id)).out())


@bp.route("/groups/{group_id}", methods=["PATCH"], content_types=JSON_TYPES)
@api
def patch_group(group_id: str) -> Response:
    gid = organizer(group_id)
    return json_response(groups.update_group(gid, parse_model(bp.current_request, GroupPatch)).out())


# ---------------------------------------------------------------- members


@bp.route("/groups/{group_id}/members", methods=["POST"], content_types=JSON_TYPES)
@api
def add_members(group_id: str) -> Response:
    gid = organizer(group_id)
    body = parse_json(bp.current_request)
    incoming = (MembersIn.model_validate(body).members if isinstance(body, dict) and "members" in body
                else [MemberIn.model_validate(body)])
    created, existed = members.add_members(gid, incoming)
    tz = groups.get_group(gid).timezone
    answer: dict[str, Any] = {"created": [m.out(tz) for m in created],
                              "existed": [m.out(tz) for m in existed]}
    return json_response(answer, 201 if created else 200)


@bp.route("/groups/{group_id}/members", methods=["GET"])
@api
def list_members(group_id: str) -> Response:
    gid = organizer(group_id)
    limit, cursor = page_params(bp.current_request)
    items, next_cursor = members.list_members(gid, limit, cursor)
    tz = groups.get_group(gid).timezone
    return json_response(page([m.out(tz) for m in items], next_cursor))


@bp.route("/groups/{group_id}/members/{member_id}", methods=["GET"])
@api
def get_member(group_id: str, member_id: str) -> Response:
    gid = organizer(group_id)
    member = members.get_member(gid, path_id(member_id, "mem", "member_id"))
    return json_response(member.out(groups.get_group(gid).timezone))


@bp.route("/groups/{group_id}/members/{member_id}", methods=["PATCH"], content_types=JSON_TYPES)
@api
def patch_member(group_id: str, member_id: str) -> Response:
    gid = organizer(group_id)
    patch = parse_model(bp.current_request, MemberPatch)
    member = members.update_member(gid, path_id(member_id, "mem", "member_id"), patch)
    return json_response(member.out(groups.get_group(gid).timezone))


@bp.route("/groups/{group_id}/members/{member_id}", methods=["DELETE"])
@api
def delete_member(group_id: str, member_id: str) -> Response:
    erasure.erase_member(organizer(group_id), path_id(member_id, "mem", "member_id"))
    return Response(body="", status_code=204)


# ---------------------------------------------------------------- meetups


@bp.route("/groups/{group_id}/meetups", methods=["POST"], content_types=JSON_TYPES)
@api
def create_meetup(group_id: str) -> Response:
    gid = organizer(group_id)
    request = bp.current_request
    return once(request, gid, lambda: json_response(
        meetups.create_meetup(gid, parse_model(request, MeetupIn)).out(), 201))


@bp.route("/groups/{group_id}/meetups", methods=["GET"])
@api
def list_meetups(group_id: str) -> Response:
    gid = organizer(group_id)
    when = query(bp.current_request).get("when", "upcoming")
    if when not in ("upcoming", "past"):
        raise errors.InvalidInput("must be 'upcoming' or 'past'", field="when")
    limit, cursor = page_params(bp.current_request)
    items, next_cursor = meetups.list_meetups(gid, upcoming=when == "upcoming", limit=limit,
                                              cursor=cursor)
    return json_response(page([m.out() for m in items], next_cursor))


@bp.route("/groups/{group_id}/meetups/{meetup_id}", methods=["GET"])
@api
def get_meetup(group_id: str, meetup_id: str) -> Response:
    gid = organizer(group_id)
    return json_response(meetups.get_meetup(gid, path_id(meetup_id, "mtp", "meetup_id")).out())


@bp.route("/groups/{group_id}/meetups/{meetup_id}", methods=["PATCH"], content_types=JSON_TYPES)
@api
def patch_meetup(group_id: str, meetup_id: str) -> Response:
    gid = organizer(group_id)
    patch = parse_model(bp.current_request, MeetupPatch)
    meetup = meetups.update_meetup(gid, path_id(meetup_id, "mtp", "meetup_id"), patch)
    return json_response(meetup.out())


@bp.route("/groups/{group_id}/meetups/{meetup_id}/cancel", methods=["POST"])
@api
def cancel_meetup(group_id: str, meetup_id: str) -> Response:
    gid = organizer(group_id)
    return json_response(meetups.cancel_meetup(gid, path_id(meetup_id, "mtp", "meetup_id")).out())


@bp.route("/groups/{group_id}/jobs/{job_id}", methods=["GET"])
@api
def get_job(group_id: str, job_id: str) -> Response:
    gid = organizer(group_id)
    return json_response(jobs.get_job(gid, path_id(job_id, "job", "job_id")).out(groups.get_group(gid).timezone))
