"""Member pages for lunch pairing: preferences (/lunch/{token}) and one pairing (/pairing/{token}).

GET shows and never changes anything (mail scanners open links); POST acts.
"""

from __future__ import annotations

from chalice.app import Blueprint, Response
from pydantic import ValidationError

from chalicelib import deps, errors
from chalicelib.models import PairFeedbackIn
from chalicelib.routes.html import FORM_TYPES, first, page, parse_form, render
from chalicelib.services import lunch, pairs

bp = Blueprint(__name__)


@bp.route("/lunch/{token}", methods=["GET"])
@page
def show_preferences(token: str) -> Response:
    return render("lunch", **lunch.show_preferences(token).context())


@bp.route("/lunch/{token}", methods=["POST"], content_types=FORM_TYPES)
@page
def save_preferences(token: str) -> Response:
    form = parse_form(bp.current_request)
    try:
        view = lunch.save_preferences(token, form)
    except lunch.PrefsInvalid as exc:
        shown = lunch.show_preferences(token)
        return render("lunch", http_status=400, **shown.context(exc.posted), flash_kind="error",
                      flash=f"{lunch.field_label(exc.field or '')}: {exc.message}. Nothing was saved yet.")
    return render("lunch", **view.context(), flash="Saved. Thank you!", flash_kind="ok")


@bp.route("/pairing/{token}", methods=["GET"])
@page
def show_pairing(token: str) -> Response:
    return render("pairing", **pairs.show_pairing(token).context(deps.now()))


_FLASH = {"confirm": "Thanks for confirming. Enjoy the lunch!", "decline": "Thanks for telling us.",
          "block": "Understood: we won't pair you again.", "feedback": "Thanks for the feedback!"}


@bp.route("/pairing/{token}", methods=["POST"], content_types=FORM_TYPES)
@page
def answer_pairing(token: str) -> Response:
    form = parse_form(bp.current_request)
    action = first(form, "action")
    feedback = None
    if action == "feedback":
        feedback = _feedback(form)
    view = pairs.answer_pairing(token, action, feedback)
    return render("pairing", **view.context(deps.now()), flash=_FLASH.get(action), flash_kind="ok")


def _feedback(form: dict[str, list[str]]) -> PairFeedbackIn:
    met, rating = first(form, "met"), first(form, "rating")
    if met not in ("yes", "no"):
        raise errors.InvalidInput("say whether you met", field="met")
    if rating and rating not in ("1", "2", "3", "4", "5"):
        raise errors.InvalidInput("must be from 1 to 5", field="rating")
    try:
        return PairFeedbackIn(met=met == "yes", rating=int(rating) if rating else None,
                              note=first(form, "note"))
    except ValidationError as exc:
        raise errors.InvalidInput(exc.errors()[0]["msg"], field=str(exc.errors()[0]["loc"][0])) from None
