"""The organizer console: sign-in by emailed link, sessions, and the framework every console
page is built on. Pages are `/console/{group_id}/...`, server-rendered from
templates/console/, no JavaScript, usable at 390 px, with the member pages' security headers.

How to write a console page (other blueprints import from here; this API is kept stable)::

    from chalice.app import Blueprint, Response
    from chalicelib.routes.console import (FORM_TYPES, console_form, console_page, redirect,
                                           render_console)

    bp = Blueprint(__name__)          # registered in app.py like the others

    @bp.route("/console/{group_id}/meetups", methods=["GET"])
    @console_page
    def meetups(*, session: Session, group: Group) -> Response:
        return render_console("meetups", session=session, group=group, meetups=[...])

    @bp.route("/console/{group_id}/meetups/{meetup_id}/cancel", methods=["POST"],
              content_types=FORM_TYPES)
    @console_page
    def cancel(meetup_id: str, *, session: Session, group: Group) -> Response:
        form = console_form(session)     # parsed form; CSRF checked (403 and nothing done if not)
        ...
        return redirect(f"/console/{group.group_id}/meetups/{meetup_id}")

- `@console_page` (under `@bp.route`, on routes whose path starts `/console/{group_id}`):
  reads the session cookie and the group in one BatchGetItem; no or ended session → 303 to
  /console; a session for another group, or an address no longer organizing it → the 404
  page; a session that has not picked a group yet → 303 to /console/groups. The view gets the
  other path parameters by name plus keyword-only `session` (services.console.Session: `.email`,
  `.group_id`) and `group` (models.Group). Domain errors become console error pages
  (errors.NotFound 404, Forbidden 403, Conflict 409, InvalidInput/ValidationError 400, ...),
  never a 500 for bad input. Catch FormInvalid yourself to show the error beside its field.
- `render_console(name, *, session, group, http_status=200, active=None, **context)`: renders
  templates/console/<name>.html with page_headers(). Templates `{% extends "console/base.html" %}`
  and fill `title` and `content`; the base shows the group, the nav (Home, Meetups, Members,
  Lunch, Rounds, Delivery, Insights, Organizers; `active` is the nav key, by default the one
  `name` starts with) and sign-out. Context always has `group`, `session`, `email`,
  `console_base` ("/console/<group_id>"), `csrf` (the hidden input, ready to place in every
  `<form method="post">`), `flash`/`flash_kind` when given. Macros for fields with errors:
  `{% import "console/_macros.html" as m %}` → `m.field(name, label, value, error, type=...)`.
- `csrf_field(session)` → the hidden input (Markup); `check_csrf(session, form)` raises
  errors.Forbidden (403) unless the form's `csrf_token` was made for this very session;
  `console_form(session)` = parse_form + check_csrf; call it before changing anything.
- `@console_page(also=("lunch_program",))` also reads those items of the group
  (store.console.PRELOADS) in the same BatchGetItem, passed as keyword `loaded` (name -> model
  or None): a page's own reads stay few (the home page makes 4 calls in all).
- `redirect(location)` → a 303 with the page headers (post/redirect/get).
- `console_error(status, message=None, *, session=None, group=None)` → an error page.
- `current_request()` → the Chalice request (query params, headers).

Every console page is `Referrer-Policy: no-referrer` like the member pages, except the two open
forms before a session exists (/console and /console/signin/{token}): those are `same-origin`
(as the public pages) so a browser's form POST carries our Origin for `refuse_cross_site`.
The session's own forms are guarded by the CSRF token and the SameSite=Lax cookie instead.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Final, overload
from urllib.parse import urlencode

from chalice.app import Blueprint, Request, Response
from markupsafe import Markup, escape
from pydantic import ValidationError

from chalicelib import errors
from chalicelib.models import Group
from chalicelib.routes.html import FORM_TYPES, first, page_headers, parse_form, refuse_cross_site
from chalicelib.services import console, idempotency
from chalicelib.services.console import FormInvalid, Session, SigninRefused

bp = Blueprint(__name__)

__all__ = [
    "FORM_TYPES",
    "NAV",
    "FormInvalid",
    "Session",
    "bp",
    "check_csrf",
    "console_error",
    "console_form",
    "console_page",
    "csrf_field",
    "current_request",
    "once_per_form",
    "redirect",
    "render_console",
]

# (key, label, path under /console/<group_id>)
NAV: Final = (
    ("home", "Home", ""),
    ("meetups", "Meetups", "/meetups"),
    ("members", "Members", "/members"),
    ("lunch", "Lunch", "/lunch"),
    ("rounds", "Rounds", "/rounds"),
    ("delivery", "Delivery", "/delivery"),
    ("insights", "Insights", "/insights"),
    ("organizers", "Organizers", "/organizers"),
)
OPEN_FORM_REFERRER: Final = "same-origin"
_ERROR_TITLES: Final = {
    400: "That didn't work", 403: "This form can't be used", 404: "We couldn't find that",
    409: "That clashes with something", 410: "That has gone", 503: "The service is busy",
}
_ERROR_HINTS: Final = {
    403: "Go back, reload the page and try again. If it keeps happening, sign out and in again.",
    404: "It may have been removed, or it belongs to a group this session is not signed in to.",
}


# ---------------------------------------------------------------- the framework


def current_request() -> Request:
    request = bp.current_request
    assert request is not None
    return request


def _headers(referrer: str | None = None, cookie: str | None = None) -> dict[str, Any]:
    headers: dict[str, Any] = dict(page_headers())
    if referrer:
        headers["Referrer-Policy"] = referrer
    if cookie:
        headers["Set-Cookie"] = cookie
    return headers


def _page(template: str, *, http_status: int = 200, referrer: str | None = None, cookie: str | None = None,
          **context: Any) -> Response:
    from chalicelib.mail.render import render_console_page

    context.setdefault("group", None)
    context.setdefault("session", None)
    context.setdefault("group_name", context["group"].name if context["group"] else None)
    context.setdefault("nav", [])
    context.setdefault("active", None)
    context.setdefault("csrf", "")
    context.setdefault("email", context["session"].email if context["session"] else None)
    context.setdefault("flash", None)
    context.setdefault("flash_kind", "ok")
    return Response(body=render_console_page(template, **context), status_code=http_status,
                    headers=_headers(referrer, cookie))


def csrf_field(session: Session) -> Markup:
    """The hidden input carrying the session's CSRF token; put it in every POST form."""
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(
        escape(console.csrf_token(session)))


def check_csrf(session: Session, form: dict[str, list[str]]) -> None:
    """403 (errors.Forbidden) unless the form carries this session's token."""
    if not console.csrf_ok(session, first(form, "csrf_token") or None):
        raise errors.Forbidden("the form's security token is missing or belongs to another session")


def console_form(session: Session) -> dict[str, list[str]]:
    """The posted form, after its CSRF token was checked."""
    form = parse_form(current_request())
    check_csrf(session, form)
    return form


def once_per_form(group: Group, form: dict[str, list[str]], what: str, produce: Callable[[], Response]) -> Response:
    """A form that creates something carries a one-off `form_id`: sent twice (a double click,
    a retry), it creates once and the second answer repeats the first."""
    form_id = first(form, "form_id")
    if not form_id:
        return produce()
    return idempotency.run_once(group.group_id, f"console:{what}:{form_id}",
                                urlencode(sorted((k, v) for k, vs in form.items() for v in vs
                                                 if k != "csrf_token")).encode(), produce)


def render_console(name: str, *, session: Session, group: Group, http_status: int = 200,
                   active: str | None = None, **context: Any) -> Response:
    """A console page from templates/console/<name>.html, with the nav and the CSRF field. A
    form sent back with errors beside its fields (`form_errors`, `message_errors`, ...) is also
    said at the top, where the page opens: on a phone the fields can be far below."""
    base = f"/console/{group.group_id}"
    wrong = sum(len(found) for key, found in context.items() if key.endswith("_errors") and isinstance(found, dict))
    if wrong and not context.get("flash"):
        context |= {"flash": "Nothing was saved yet: " + ("one answer below needs" if wrong == 1 else
                                                        f"{wrong} answers below need") + " a fix.",
                    "flash_kind": "error"}
    if active is None:
        active = next((key for key, _, _ in NAV if name.startswith(key)), None)
    return _page(name, http_status=http_status, session=session, group=group, active=active,
                 console_base=base, nav=[(key, label, base + path) for key, label, path in NAV],
                 csrf=csrf_field(session), **context)


def redirect(location: str, *, cookie: str | None = None) -> Response:
    return Response(body="", status_code=303, headers={**_headers(cookie=cookie), "Location": location})


def console_error(status: int, message: str | None = None, *, session: Session | None = None,
                  group: Group | None = None) -> Response:
    title = _ERROR_TITLES.get(status, "Something's not right")
    hint = _ERROR_HINTS.get(status, "")
    if status == 404:
        message = None  # never say whose it is
    context: dict[str, Any] = {"title": title, "message": message, "hint": hint, "status_code": status}
    if session is not None and group is not None:
        return render_console("error", session=session, group=group, http_status=status, active="", **context)
    return _page("error", http_status=status, session=session,
                 csrf=csrf_field(session) if session else "", **context)


def _error_response(exc: Exception, session: Session | None, group: Group | None) -> Response:
    if isinstance(exc, ValidationError):
        where = exc.errors()[0]
        return console_error(400, f"{'.'.join(str(p) for p in where['loc'])}: {where['msg']}",
                             session=session, group=group)
    assert isinstance(exc, errors.PowerlunchError)
    if isinstance(exc, errors.InvalidInput) and exc.field:
        return console_error(400, f"{exc.field}: {exc.message}", session=session, group=group)
    if isinstance(exc, errors.Unauthorized):
        return redirect("/console")
    return console_error(exc.status, exc.message, session=session, group=group)


View = Callable[..., Response]


@overload
def console_page(func: View) -> View: ...


@overload
def console_page(*, also: tuple[str, ...]) -> Callable[[View], View]: ...


def console_page(func: View | None = None, *, also: tuple[str, ...] = ()) -> View | Callable[[View], View]:
    """Wrap a `/console/{group_id}/...` view: session and group resolved and checked, errors
    turned into console pages (see the module docstring). `@console_page(also=("lunch_program",))`
    reads those items (store.console.PRELOADS) in the same BatchGetItem and passes them as the
    keyword argument `loaded` (name -> model or None)."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(group_id: str, **params: Any) -> Response:
            session: Session | None = None
            group: Group | None = None
            try:
                session, group, loaded = console.session_for_group(
                    current_request().headers.get("cookie"), group_id, also)
                if session is None:
                    return redirect("/console")
                if group is None:
                    if session.group_id is None:
                        return redirect("/console/groups")
                    return console_error(404, session=session)
                if also:
                    params["loaded"] = loaded
                return view(session=session, group=group, **params)
            except (errors.PowerlunchError, ValidationError) as exc:
                return _error_response(exc, session, group)

        return wrapper

    return decorate(func) if func is not None else decorate


def _open_page(func: Callable[..., Response]) -> Callable[..., Response]:
    """The pages before a session (sign-in): errors become console error pages."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return func(*args, **kwargs)
        except (errors.PowerlunchError, ValidationError) as exc:
            return _error_response(exc, None, None)

    return wrapper


# ---------------------------------------------------------------- sign-in


@bp.route("/console", methods=["GET"])
@_open_page
def start() -> Response:
    session = console.current_session(current_request().headers.get("cookie"))
    if session is not None:
        return redirect(f"/console/{session.group_id}" if session.group_id else "/console/groups")
    return _page("start", referrer=OPEN_FORM_REFERRER, posted={}, field_error=None, sent=False)


@bp.route("/console", methods=["POST"], content_types=FORM_TYPES)
@_open_page
def ask_for_link() -> Response:
    refuse_cross_site(current_request())
    form = parse_form(current_request())
    try:
        console.ask_for_link(first(form, "email"))
    except FormInvalid as exc:
        return _page("start", http_status=400, referrer=OPEN_FORM_REFERRER, posted=exc.posted,
                     field_error=exc.message, sent=False)
    return _page("start", referrer=OPEN_FORM_REFERRER, posted={}, field_error=None, sent=True)


@bp.route("/console/signin/{token}", methods=["GET"])
@_open_page
def show_signin(token: str) -> Response:
    state = console.signin_state(token)
    return _page("signin", http_status=_SIGNIN_STATUS[state], referrer=OPEN_FORM_REFERRER, state=state,
                 token=token)


_SIGNIN_STATUS: Final = {"ok": 200, "used": 410, "expired": 410, "invalid": 404}


@bp.route("/console/signin/{token}", methods=["POST"], content_types=FORM_TYPES)
@_open_page
def sign_in(token: str) -> Response:
    refuse_cross_site(current_request())
    try:
        session, _ = console.sign_in(token)
    except SigninRefused as exc:
        return _page("signin", http_status=_SIGNIN_STATUS[exc.state], referrer=OPEN_FORM_REFERRER,
                     state=exc.state, token=token)
    return redirect(f"/console/{session.group_id}" if session.group_id else "/console/groups",
                    cookie=console.set_cookie_header(session))


@bp.route("/console/groups", methods=["GET"])
@_open_page
def show_groups() -> Response:
    session = console.current_session(current_request().headers.get("cookie"))
    if session is None:
        return redirect("/console")
    return _page("groups", session=session, csrf=csrf_field(session), groups=console.groups_of(session))


@bp.route("/console/groups", methods=["POST"], content_types=FORM_TYPES)
@_open_page
def choose_group() -> Response:
    session = console.current_session(current_request().headers.get("cookie"))
    if session is None:
        return redirect("/console")
    form = console_form(session)
    chosen = console.choose_group(session, first(form, "group_id"))
    return redirect(f"/console/{chosen.group_id}")


@bp.route("/console/signout", methods=["POST"], content_types=FORM_TYPES)
@_open_page
def sign_out() -> Response:
    session = console.current_session(current_request().headers.get("cookie"))
    if session is not None:
        check_csrf(session, parse_form(current_request()))
        console.sign_out(session)
    return _page("start", referrer=OPEN_FORM_REFERRER, cookie=console.clear_cookie_header(), posted={},
                 field_error=None, sent=False, flash="You are signed out.", flash_kind="ok")


# ---------------------------------------------------------------- the console's own pages


@bp.route("/console/{group_id}", methods=["GET"])
@console_page(also=("lunch_program",))
def home(*, session: Session, group: Group, loaded: dict[str, Any]) -> Response:
    from chalicelib.services import console_home

    return render_console("home", session=session, group=group,
                          **console_home.home(group, loaded["lunch_program"]).context())


@bp.route("/console/{group_id}/delivery", methods=["GET"])
@console_page
def delivery(*, session: Session, group: Group) -> Response:
    from chalicelib.services import console_home

    return render_console("delivery", session=session, group=group, **console_home.delivery(group).context())


@bp.route("/console/{group_id}/organizers", methods=["GET"])
@console_page
def organizers(*, session: Session, group: Group) -> Response:
    return render_console("organizers", session=session, group=group, posted={}, field_error=None)


@bp.route("/console/{group_id}/organizers", methods=["POST"], content_types=FORM_TYPES)
@console_page
def change_organizers(*, session: Session, group: Group) -> Response:
    form = console_form(session)
    remove = first(form, "remove")
    try:
        if remove:
            email, changed = console.remove_organizer(group.group_id, remove)
            flash = f"{email} is no longer an organizer." if changed else f"{email} was not an organizer."
        else:
            email, changed = console.add_organizer(group.group_id, first(form, "email"))
            flash = (f"{email} is now an organizer: they sign in at /console with that address." if changed
                     else f"{email} is an organizer already.")
    except FormInvalid as exc:
        return render_console("organizers", session=session, group=group, http_status=400,
                              posted=exc.posted, field_error=exc.message)
    except errors.Conflict as exc:
        return render_console("organizers", session=session, group=group, http_status=409, posted={},
                              field_error=None, flash=exc.message, flash_kind="error")
    if remove and email == session.email:
        return redirect("/console")  # they took themselves off: this group's pages are closed to them now
    fresh = console.group(group.group_id)
    return render_console("organizers", session=session, group=fresh, posted={}, field_error=None, flash=flash)
