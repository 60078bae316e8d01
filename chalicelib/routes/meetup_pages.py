"""The member page after a meetup: "did you meet them?" about the people suggested to them
there (/met/{token}). GET shows and never changes anything (mail scanners open links); POST acts.
"""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.routes.html import FORM_TYPES, first, page, parse_form, render
from chalicelib.services import meetup_people

bp = Blueprint(__name__)


@bp.route("/met/{token}", methods=["GET"])
@page
def show_met(token: str) -> Response:
    who = dict(bp.current_request.query_params or {}).get("who")
    return render("met", **meetup_people.show_met(token, who).context())


@bp.route("/met/{token}", methods=["POST"], content_types=FORM_TYPES)
@page
def answer_met(token: str) -> Response:
    who = first(parse_form(bp.current_request), "who")
    return render("met", **meetup_people.answer_met(token, who).context(),
                  flash="Thanks for telling us. You can now introduce them to others.", flash_kind="ok")
