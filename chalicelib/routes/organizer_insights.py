"""Organizer API: the relationship network (JSON), and the OpenAPI document of the organizer API."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib import openapi
from chalicelib.routes.http import api, json_response
from chalicelib.routes.organizer import organizer
from chalicelib.services import insights

bp = Blueprint(__name__)


@bp.route("/groups/{group_id}/network", methods=["GET"])
@api
def network(group_id: str) -> Response:
    return json_response(insights.network_out(organizer(group_id)))


@bp.route("/openapi.json", methods=["GET"])
def openapi_document() -> Response:
    """Public: it describes the API, not any group's data."""
    return json_response(openapi.document(bp.current_app.routes))
