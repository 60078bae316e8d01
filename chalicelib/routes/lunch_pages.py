"""Member pages for lunch pairing: preferences (/lunch/{token}), one pairing (/pairing/{token}) and
a suggestion to catch up with a good match (/reconnect/{token}).

GET shows and never changes anything (mail scanners open links); POST acts.
"""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib import deps, errors
from chalicelib.routes.html import FORM_TYPES, first, joined_flash, page, parse_form, render, yes_flash
from chalicelib.services import followups, lunch, pairs

bp = Blueprint(__name__)


@bp.route("/lunch/{token}", methods=["GET"])
@page
def show_preferences(token: str) -> Response:
    return render("lunch", **lunch.show_preferences(token).context(), **joined_flash(bp.current_request))


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
    ask = dict(bp.current_request.query_params or {}).get("do")
    return render("pairing", **pairs.show_pairing(token, ask).context(deps.now()))


_FLASH = {"confirm": "Thanks for confirming.", "decline": "Thanks for telling us.",
          "block": "Understood: we won't pair you again.", "feedback": "Thanks for the feedback!"}


@bp.route("/pairing/{token}", methods=["POST"], content_types=FORM_TYPES)
@page
def answer_pairing(token: str) -> Response:
    form = parse_form(bp.current_request)
    action = first(form, "action")
    if action == "feedback":
        view = followups.give_feedback(token, _feedback(form))
    else:
        view = pairs.answer_pairing(token, action)
    return render("pairing", **view.context(deps.now()), flash=_FLASH.get(action), flash_kind="ok")


def _feedback(form: dict[str, list[str]]) -> followups.FeedbackAnswer:
    """Met (yes, with an optional rating 1-5 and note), no, or no_show (with the positions of
    the partners who didn't come, in a trio); a rating given with anything but yes is dropped,
    as a radio button left checked."""
    met, rating = first(form, "met"), first(form, "rating")
    if met not in ("yes", "no", "no_show"):
        raise errors.InvalidInput("say whether you met", field="met")
    if rating and rating not in ("1", "2", "3", "4", "5"):
        raise errors.InvalidInput("must be from 1 to 5", field="rating")
    absent = form.get("no_show", [])
    if any(not a.isdigit() or len(a) > 1 for a in absent):
        raise errors.InvalidInput("must name a partner", field="no_show")
    return followups.FeedbackAnswer(met=met, rating=int(rating) if rating and met == "yes" else None,  # type: ignore[arg-type]
                                    note=first(form, "note"), absent=tuple(sorted({int(a) for a in absent})))


@bp.route("/reconnect/{token}", methods=["GET"])
@page
def show_reconnect(token: str) -> Response:
    ask = dict(bp.current_request.query_params or {}).get("answer")
    return render("reconnect", **followups.show_reconnect(token, ask).context())


@bp.route("/reconnect/{token}", methods=["POST"], content_types=FORM_TYPES)
@page
def answer_reconnect(token: str) -> Response:
    answer = first(parse_form(bp.current_request), "answer")
    shown = followups.answer_reconnect(token, answer).context()
    flash = yes_flash(shown["connected"]) if answer == "yes" else "No problem. Nobody is told."
    return render("reconnect", **shown, flash=flash, flash_kind="ok")
