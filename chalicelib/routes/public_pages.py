"""Public pages anyone may open: join a group (/join, confirmed at /welcome), get one's links by
email (/links), a shareable meetup page (/events). Every POST refuses cross-site forms first
and answers the same to members and strangers; GET changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.models import Group
from chalicelib.routes import html
from chalicelib.routes.html import FORM_TYPES, page, page_headers, parse_form, refuse_cross_site
from chalicelib.services import join

bp = Blueprint(__name__)
# Under the member pages' no-referrer policy a browser posts forms with "Origin: null", which
# refuse_cross_site must refuse; same-origin sends our origin to ourselves and nothing elsewhere.
REFERRER_POLICY = "same-origin"


def render(name: str, *, http_status: int = 200, **context: Any) -> Response:
    response = html.render(name, http_status=http_status, **context)
    response.headers["Referrer-Policy"] = REFERRER_POLICY
    return response


def _group_page(template: str, group: Group, code: int = 200, **context: object) -> Response:
    return render(template, http_status=code, group_name=group.sender_name, join_open=group.join_open,
                  **{"sent": False, "posted": {}, **context})


def _group_form(template: str, group_id: str, answer: Callable[[Group, dict[str, list[str]]], None]) -> Response:
    """A group's public form: refused cross-site, then answered; the same page comes back saying
    it was sent, or what to fix beside what was typed."""
    refuse_cross_site(bp.current_request)
    group = join.public_group(group_id)
    try:
        answer(group, parse_form(bp.current_request))
    except join.FormInvalid as exc:
        return _group_page(template, group, 400, posted=exc.posted, flash=exc.flash, flash_kind="error")
    return _group_page(template, group, sent=True)


@bp.route("/join/{group_id}", methods=["GET"])
@page
def show_join(group_id: str) -> Response:
    return _group_page("join", join.public_group(group_id))


@bp.route("/join/{group_id}", methods=["POST"], content_types=FORM_TYPES)
@page
def ask_to_join(group_id: str) -> Response:
    return _group_form("join", group_id, lambda group, form: join.ask_to_join(group, join.join_form(form)))


@bp.route("/welcome/{token}", methods=["GET"])
@page
def show_welcome(token: str) -> Response:
    return render("welcome", **join.show_welcome(token).context())


@bp.route("/welcome/{token}", methods=["POST"], content_types=FORM_TYPES)
@page
def welcome(token: str) -> Response:
    refuse_cross_site(bp.current_request)
    return Response(body="", status_code=303, headers={**page_headers(), "Referrer-Policy": REFERRER_POLICY,
                                                             "Location": join.welcome(token)})


@bp.route("/links/{group_id}", methods=["GET"])
@page
def show_links(group_id: str) -> Response:
    return _group_page("links", join.public_group(group_id))


@bp.route("/links/{group_id}", methods=["POST"], content_types=FORM_TYPES)
@page
def ask_for_links(group_id: str) -> Response:
    return _group_form("links", group_id, lambda group, form: join.ask_for_links(group, join.address_form(form)))


@bp.route("/events/{group_id}/{meetup_id}", methods=["GET"])
@page
def show_event(group_id: str, meetup_id: str) -> Response:
    return render("event", **join.event(group_id, meetup_id).context(), sent=False)


@bp.route("/events/{group_id}/{meetup_id}", methods=["POST"], content_types=FORM_TYPES)
@page
def ask_for_event(group_id: str, meetup_id: str) -> Response:
    refuse_cross_site(bp.current_request)
    view = join.event(group_id, meetup_id)
    try:
        join.ask_for_event(view, join.event_form(parse_form(bp.current_request)))
    except join.FormInvalid as exc:
        return render("event", http_status=400, **{**view.context(), "posted": exc.posted}, sent=False,
                      flash=exc.flash, flash_kind="error")
    return render("event", **view.context(), sent=view.state == "open")
