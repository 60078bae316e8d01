"""Organizer API: the relationship network (JSON), and the OpenAPI document of the organizer API."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib import openapi
from chalicelib.routes.http import api, json_response, page, page_params
from chalicelib.routes.organizer import organizer
from chalicelib.services import insights

bp = Blueprint(__name__)


@bp.route("/groups/{group_id}/network", methods=["GET"])
@api
def network(group_id: str) -> Response:
    return json_response(insights.network_out(organizer(group_id)))


@bp.route("/groups/{group_id}/network/never-met", methods=["GET"])
@api
def never_met(group_id: str) -> Response:
    limit, cursor = page_params(bp.current_request)
    return json_response(page(*insights.never_met_page(organizer(group_id), limit, cursor)))


@bp.route("/openapi.json", methods=["GET"])
def openapi_document() -> Response:
    """Public: it describes the API, not any group's data."""
    return json_response(openapi.document(bp.current_app.routes))
