"""Console: the insights page (show rates, rounds, members over time, the relationship network)."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.models import Group
from chalicelib.routes.console import console_page, current_request, render_console
from chalicelib.routes.http import query
from chalicelib.services import insights
from chalicelib.services.console import Session

bp = Blueprint(__name__)


@bp.route("/console/{group_id}/insights", methods=["GET"])
@console_page
def insights_page(*, session: Session, group: Group) -> Response:
    start = query(current_request()).get("never_met_from", "")
    return render_console("insights", session=session, group=group,
                          **insights.page(group, int(start) if start.isdigit() and len(start) < 10 else 0))
