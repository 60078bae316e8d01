"""Plumbing for member pages: HTML answers, form bodies, error pages, page headers.

Pages are server-rendered, work without JavaScript, and carry a strict CSP: no script at all.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from chalice.app import Request, Response
from pydantic import ValidationError

from chalicelib import errors, links
from chalicelib.routes.http import query, raw_body

FORM_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data"]
JOINED_FLASH = "Welcome! You're a member now. We've emailed you your personal links, so you can come back any time."

_ERROR_COPY = {
    403: ("This link doesn't work",
          "It may have been cut short or changed when it was copied.",
          "Open the link straight from the email we sent you, or ask the organizer to send it again."),
    404: ("We couldn't find that", "It may have been removed.",
          "Ask the organizer for a new link."),
    410: ("This link has expired", "Links in our emails only work for a while, to keep your answers safe.",
          "Look for a newer email from the group, or reply to any of its emails to ask for a new link."),
}


def page_headers() -> dict[str, str | list[str]]:
    from chalicelib.mail.render import page_headers as headers

    return {**headers(), "X-Frame-Options": "DENY"}


def html_response(html: str, status: int = 200) -> Response:
    return Response(body=html, status_code=status, headers=page_headers())


def render(name: str, *, http_status: int = 200, **context: Any) -> Response:
    """A page from templates/pages (Jinja2 loads on first use, not at import)."""
    from chalicelib.mail.render import render_page

    return html_response(render_page(name, **context), http_status)


def error_page(status: int, message: str | None = None, *, renew_url: str | None = None) -> Response:
    """The error page; `renew_url` (an expired link's) adds the "email me a fresh link" button."""
    title, default_message, hint = _ERROR_COPY.get(status, (
        "Something's not right", message or "We couldn't do that.", "Please try again."))
    if renew_url:
        hint = "We can email you a fresh link, to the address this one was sent to."
    return render("error", http_status=status, status_code=status, title=title,
                  message=default_message if status in _ERROR_COPY else (message or default_message),
                  hint=hint, group_name=None, renew_url=renew_url)


def page(func: Callable[..., Response]) -> Callable[..., Response]:
    """Wrap a member page view: bad links and bad forms become HTML error pages."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return func(*args, **kwargs)
        except links.LinkExpired as exc:
            return error_page(exc.status, renew_url=exc.renew_url)
        except (errors.Forbidden, errors.Gone, errors.NotFound) as exc:
            return error_page(exc.status)
        except errors.InvalidInput as exc:
            return error_page(400, f"{exc.field}: {exc.message}" if exc.field else exc.message)
        except ValidationError as exc:
            first = exc.errors()[0]
            return error_page(400, f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
        except errors.PowerlunchError as exc:
            return error_page(exc.status, exc.message)

    return wrapper


def refuse_cross_site(request: Request) -> None:
    """For forms anyone on the internet can post (join, my links, public meetup pages): a POST
    sent from another site's page is refused (403), so no site can make a visitor's browser
    sign them up or send mail in their name. Browsers send Origin with every form POST
    (Referer when Origin is withheld); it must be this app's own origin. A request with
    neither comes from no web page (curl, a script) and cannot be forged cross-site."""
    from urllib.parse import urlsplit

    from chalicelib import deps

    sent = request.headers.get("origin") or request.headers.get("referer")
    if sent is None:
        return
    ours, theirs = urlsplit(deps.settings().base_url), urlsplit(sent)
    if (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc):
        raise errors.Forbidden("this form can only be sent from its own page")


def parse_form(request: Request) -> dict[str, list[str]]:
    """A urlencoded (or simple multipart) form body as name -> values. Line breaks come as "\n":
    browsers send a textarea's lines with "\r\n", which the models refuse as a control character."""
    body = raw_body(request)
    header = request.headers.get("content-type") or ""
    if header.lower().startswith("multipart/form-data"):
        # The boundary is case-sensitive (browsers send "----WebKitFormBoundaryAbC..."): pass
        # the header as sent, or no part would be found.
        fields = _multipart(body, header)
    else:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise errors.InvalidInput("is not UTF-8 form data", field="body") from None
        try:
            fields = parse_qs(text, keep_blank_values=True, max_num_fields=200)
        except ValueError:  # more than max_num_fields: a 400, not a crash
            raise errors.InvalidInput("has too many fields", field="body") from None
    return {name: [v.replace("\r\n", "\n").replace("\r", "\n") for v in values] for name, values in fields.items()}


def _multipart(body: bytes, content_type: str) -> dict[str, list[str]]:
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    fields: dict[str, list[str]] = {}
    if message.is_multipart():
        for part in message.iter_parts():  # type: ignore[attr-defined]
            name = part.get_param("name", header="content-disposition")
            if isinstance(name, str):
                payload = part.get_payload(decode=True)
                text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
                fields.setdefault(name, []).append(text)
    return fields


def first(form: dict[str, list[str]], name: str, default: str = "") -> str:
    values = form.get(name)
    return values[0] if values else default


def joined_flash(request: Request) -> dict[str, Any]:
    """The welcome on the page a new member lands on after confirming (services/join.JOINED):
    shown, nothing changed (the POST that confirmed did that)."""
    return {"flash": JOINED_FLASH, "flash_kind": "ok"} if query(request).get("joined") == "1" else {}


def yes_flash(connected: bool) -> str:
    """The thanks for a yes to an introduction or a reconnect: the second yes connects the two,
    so there is nothing left to wait for."""
    return "Thanks! You both said yes." if connected else "Thanks! We'll let you know."
