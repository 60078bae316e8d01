"""Member pages for email settings (/settings/{token}) and for swapping an expired link for a
fresh one by email (/renew/{purpose}/{token}, the 410 page's button).

GET shows and never changes anything (mail scanners open links); POST acts.
"""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.routes.html import FORM_TYPES, page, parse_form, render
from chalicelib.services import fresh_links, settings

bp = Blueprint(__name__)


@bp.route("/settings/{token}", methods=["GET"])
@page
def show_settings(token: str) -> Response:
    return render("settings", **settings.show_settings(token).context())


@bp.route("/settings/{token}", methods=["POST"], content_types=FORM_TYPES)
@page
def save_settings(token: str) -> Response:
    form = parse_form(bp.current_request)
    try:
        view = settings.save_settings(token, form)
    except settings.SettingsInvalid as exc:
        return render("settings", http_status=400, **settings.show_settings(token).context(exc.posted),
                      flash_kind="error", flash=f"{settings.LABELS.get(exc.field or '', exc.field)}: "
                                                f"{exc.message}. Nothing was saved.")
    return render("settings", **view.context(), flash="Saved. Thank you!", flash_kind="ok")


@bp.route("/renew/{purpose}/{token}", methods=["POST"], content_types=FORM_TYPES)
@page
def email_fresh_link(purpose: str, token: str) -> Response:
    # No Origin check (unlike the open join and links forms): the link's own signature guards
    # this, it mails only the member it names, and under the pages' no-referrer policy a
    # browser posts with "Origin: null".
    return render("fresh_link", **fresh_links.email_fresh_link(purpose, token).context())
