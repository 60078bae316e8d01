"""RSVP pages for members: GET shows the meetup and the member's answer (and changes nothing:
mail scanners open links), POST records an answer, meetup.ics adds it to a calendar."""

from __future__ import annotations

import re
from typing import Any

from chalice.app import Blueprint, Response

from chalicelib import deps, errors, links
from chalicelib.models import RsvpAnswer
from chalicelib.routes.html import FORM_TYPES, first, joined_flash, page, parse_form, render
from chalicelib.routes.http import query
from chalicelib.services import rsvp

bp = Blueprint(__name__)

_RESULT = {
    "going": "You're going. We've emailed you a calendar invitation.",
    "waitlisted": "It's full right now, so you're on the waitlist. We'll email you the moment a seat frees up.",
    "not_going": "Thanks for letting us know. Your seat goes to someone else.",
}


def _state(answered: rsvp.Answered) -> str:
    meetup = answered.meetup
    if meetup.status == "cancelled":
        return "cancelled"
    return "open" if meetup.is_open(deps.now()) else "closed"


def _page(token: str, answered: rsvp.Answered, code: int = 200, **extra: Any) -> Response:
    meetup, own = answered.meetup, answered.rsvp
    return render(
        "rsvp", http_status=code, group_name=answered.group.sender_name, member_name=answered.member.name,
        meetup=rsvp.meetup_view(meetup), state=_state(answered), closes_at=meetup.rsvp_closes_at,
        seats_left=meetup.seats_left, waitlist=meetup.waitlist,
        status=own.status if own else "none", guests=own.guests if own else 0,
        guests_allowed=meetup.guests_allowed, rsvp_url=f"{deps.settings().base_url}/rsvp/{token}",
        **extra)


@bp.route("/rsvp/{token}", methods=["GET"])
@page
def show(token: str) -> Response:
    answered = rsvp.view(links.read("rsvp", token))
    wanted = query(bp.current_request).get("answer")
    return _page(token, answered, preselect=wanted if wanted in ("going", "not_going") else None,
                 **joined_flash(bp.current_request))


def _answer_from(form: dict[str, list[str]]) -> RsvpAnswer:
    choice = first(form, "answer")
    if choice not in ("going", "not_going"):
        raise errors.InvalidInput("choose going or not going", field="answer")
    raw = first(form, "guests", "0").strip() or "0"
    if not raw.isdigit() or int(raw) > 5:
        raise errors.InvalidInput("must be a whole number from 0 to 5", field="guests")
    return RsvpAnswer(status=choice, guests=int(raw) if choice == "going" else 0)  # type: ignore[arg-type]


@bp.route("/rsvp/{token}", methods=["POST"], content_types=FORM_TYPES)
@page
def answer(token: str) -> Response:
    claims = links.read("rsvp", token)
    try:
        given = _answer_from(parse_form(bp.current_request))
        answered = rsvp.answer(claims, given)
    except (errors.InvalidInput, errors.Conflict) as exc:
        # The form again, with what went wrong above it; nothing was recorded.
        message = f"{exc.field.capitalize()}: {exc.message}" if exc.field == "guests" else exc.message
        return _page(token, rsvp.view(claims), exc.status, flash=message[0].upper() + message[1:],
                     flash_kind="error")
    if not answered.changed:
        return _page(token, answered, flash="That's already your answer: nothing changed.")
    assert answered.rsvp is not None
    return _page(token, answered, flash=_RESULT[answered.rsvp.status])


@bp.route("/rsvp/{token}/meetup.ics", methods=["GET"])
@page
def calendar_file(token: str) -> Response:
    answered = rsvp.view(links.read("rsvp", token))
    body = rsvp.calendar(answered.group, answered.meetup, "PUBLISH").decode("utf-8")
    name = re.sub(r"[^a-z0-9]+", "-", answered.meetup.title.lower()).strip("-")[:60] or "meetup"
    return Response(body=body, status_code=200, headers={
        "Content-Type": "text/calendar; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{name}.ics"',
        "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff"})
