"""Member pages for introductions: introduce two people you met (/introduce/{token}) and answer
an introduction offered to you (/offer/{token}).

GET shows and never changes anything (mail scanners open links); POST acts.
"""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib import errors
from chalicelib.routes.html import FORM_TYPES, first, page, parse_form, render, yes_flash
from chalicelib.services import intros

bp = Blueprint(__name__)


@bp.route("/introduce/{token}", methods=["GET"])
@page
def show_introduce(token: str) -> Response:
    return render("introduce", **intros.show_introduce(token).context())


@bp.route("/introduce/{token}", methods=["POST"], content_types=FORM_TYPES)
@page
def introduce(token: str) -> Response:
    form = parse_form(bp.current_request)
    picked, note = form.get("member_ids", []), first(form, "note")
    try:
        view, _ = intros.introduce(token, picked, note)
    except errors.PowerlunchError as exc:
        if isinstance(exc, (errors.Forbidden, errors.Gone, errors.NotFound)):
            raise
        shown = intros.show_introduce(token).context() | {"posted": {"member_ids": picked, "note": note}}
        return render("introduce", http_status=exc.status, **shown, flash_kind="error",
                      flash=f"{exc.field}: {exc.message}" if isinstance(exc, errors.InvalidInput) else exc.message)
    return render("introduce", **view.context(), flash_kind="ok",
                  flash="Sent. We'll tell you how it goes; nobody learns who said no.")


@bp.route("/offer/{token}", methods=["GET"])
@page
def show_offer(token: str) -> Response:
    ask = dict(bp.current_request.query_params or {}).get("answer")
    return render("offer", **intros.show_offer(token, ask).context())


_FLASH = {"no": "No problem. Nobody is told who said no.", "met": "Thanks for telling us."}


@bp.route("/offer/{token}", methods=["POST"], content_types=FORM_TYPES)
@page
def answer_offer(token: str) -> Response:
    answer = first(parse_form(bp.current_request), "answer")
    shown = intros.answer_offer(token, answer).context()
    flash = yes_flash(shown["connected"]) if answer == "yes" else _FLASH.get(answer)
    return render("offer", **shown, flash=flash, flash_kind="ok")
