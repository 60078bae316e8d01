"""Organizer API for lunch pairing: the programme, invitations, rounds and stats (JSON)."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.models import LunchInvitesIn, LunchProgramIn, LunchRoundEditIn, LunchRoundIn
from chalicelib.routes.http import (
    JSON_TYPES,
    api,
    job_accepted,
    json_response,
    once,
    page,
    page_params,
    parse_json,
    parse_model,
    path_id,
    raw_body,
)
from chalicelib.routes.organizer import organizer
from chalicelib.services import followups, groups, jobs, lunch, pairing, review

bp = Blueprint(__name__)


@bp.route("/groups/{group_id}/lunch-program", methods=["GET"])
@api
def get_program(group_id: str) -> Response:
    gid = organizer(group_id)
    return json_response(lunch.program_out(lunch.get_program(gid), groups.get_group(gid).timezone))


@bp.route("/groups/{group_id}/lunch-program", methods=["PUT"], content_types=JSON_TYPES)
@api
def put_program(group_id: str) -> Response:
    gid = organizer(group_id)
    program, created = lunch.put_program(gid, parse_model(bp.current_request, LunchProgramIn))
    return json_response(lunch.program_out(program, groups.get_group(gid).timezone), 201 if created else 200)


@bp.route("/groups/{group_id}/lunch-program/invitations", methods=["POST"], content_types=JSON_TYPES)
@api
def invite(group_id: str) -> Response:
    gid = organizer(group_id)
    raw = bp.current_request.raw_body or b""
    body = LunchInvitesIn.model_validate(parse_json(bp.current_request)) if raw.strip() else LunchInvitesIn()
    return once(bp.current_request, gid, lambda: job_accepted(jobs.invite_to_lunch(gid, body.member_ids)))


@bp.route("/groups/{group_id}/lunch-rounds", methods=["POST"], content_types=JSON_TYPES)
@api
def start_round(group_id: str) -> Response:
    gid, request = organizer(group_id), bp.current_request
    body = parse_model(request, LunchRoundIn) if raw_body(request).strip() else LunchRoundIn()
    return once(request, gid, lambda: json_response(
        pairing.start_round_now(gid, again=body.again).out(groups.get_group(gid).timezone), 202))


@bp.route("/groups/{group_id}/lunch-rounds", methods=["GET"])
@api
def list_rounds(group_id: str) -> Response:
    gid = organizer(group_id)
    limit, cursor = page_params(bp.current_request)
    items, next_cursor = pairing.list_rounds(gid, limit, cursor)
    tz = groups.get_group(gid).timezone
    return json_response(page([r.out(tz) for r in items], next_cursor))


@bp.route("/groups/{group_id}/lunch-rounds/{round_id}", methods=["GET"])
@api
def get_round(group_id: str, round_id: str) -> Response:
    gid = organizer(group_id)
    return json_response(pairing.round_detail(gid, path_id(round_id, "lrd", "round_id")))


@bp.route("/groups/{group_id}/lunch-rounds/{round_id}", methods=["PATCH"], content_types=JSON_TYPES)
@api
def edit_round(group_id: str, round_id: str) -> Response:
    gid, rid = organizer(group_id), path_id(round_id, "lrd", "round_id")
    return json_response(review.edit(gid, rid, parse_model(bp.current_request, LunchRoundEditIn)))


@bp.route("/groups/{group_id}/lunch-rounds/{round_id}/approve", methods=["POST"], content_types=JSON_TYPES)
@api
def approve_round(group_id: str, round_id: str) -> Response:
    gid = organizer(group_id)
    return json_response(review.approve(gid, path_id(round_id, "lrd", "round_id")))


@bp.route("/groups/{group_id}/stats", methods=["GET"])
@api
def stats(group_id: str) -> Response:
    return json_response(followups.stats(organizer(group_id)))
