"""Organizer API for introductions: the organizer introduces two members (JSON)."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.routes.http import JSON_TYPES, api, json_response, parse_model
from chalicelib.routes.organizer import organizer
from chalicelib.services import intros

bp = Blueprint(__name__)


@bp.route("/groups/{group_id}/intros", methods=["POST"], content_types=JSON_TYPES)
@api
def broker(group_id: str) -> Response:
    gid = organizer(group_id)
    return json_response(intros.out(intros.broker(gid, parse_model(bp.current_request, intros.IntroIn))), 201)
