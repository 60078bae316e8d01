"""Unsubscribe pages: GET shows a button (mail scanners open links), POST acts — including the
RFC 8058 one-click POST a mail client sends with `List-Unsubscribe=One-Click`."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib import links
from chalicelib.routes.html import FORM_TYPES, page, render
from chalicelib.services import subscriptions

bp = Blueprint(__name__)


@bp.route("/unsubscribe/{token}", methods=["GET"])
@page
def show(token: str) -> Response:
    group, member = subscriptions.from_link(token)
    return render("unsubscribe", group_name=group.sender_name, done=member is None or not member.subscribed,
                  settings_url=member and links.settings_url(group.group_id, member.member_id))


@bp.route("/unsubscribe/{token}", methods=["POST"], content_types=FORM_TYPES)
@page
def act(token: str) -> Response:
    group, member = subscriptions.unsubscribe(token)
    return render("unsubscribe", group_name=group.sender_name, done=True,
                  settings_url=member and links.settings_url(group.group_id, member.member_id))
