"""Script and markup payloads in everything the console's own pages show (group, meetup title,
member names and addresses, a dead mail's error, what was typed into a form) come out escaped
once, and every route of routes/console.py is fetched with the member pages' security headers:
CSP without inline script, frame denial, nosniff, no-referrer (same-origin on the two open
sign-in forms). The other console blueprints carry their own tests."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from app import app
from chalicelib import deps
from chalicelib.services import bounces, console
from tests.api.test_console_auth import ORGANIZER, get, post, sign_in
from tests.api.test_console_pages import kill_one_mail, new_meetup
from tests.api.test_escaping import check_page_headers, payload, safe_html

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ses"
SHOWN = {"group": payload("group"), "title": payload("title"), "name": payload("name")}


def console_routes() -> set[tuple[str, str]]:
    return {(method, path) for path, methods in app.routes.items() for method, entry in methods.items()
            if entry.view_function.__module__ == "chalicelib.routes.console"}


def checked(response: Any, where: str, status: int = 200) -> str:
    assert response.status_code == status, (where, response.status_code, response.body[:300])
    headers = {k.lower(): v for k, v in response.headers.items()}
    if status == 303:
        assert headers["cache-control"] == "no-store" and headers["x-content-type-options"] == "nosniff"
        return ""
    # The open sign-in forms (and the signed-out page, which is one) are same-origin, so their
    # POSTs carry our Origin; everything else is no-referrer, checked by the member pages' rules.
    open_form = re.match(r"^\w+ /console(/signin/[^/]+)?$", where) or where == "POST /console/signout"
    if open_form:
        assert headers["referrer-policy"] == "same-origin", where
        check_page_headers(SimpleNamespace(headers={**response.headers, "Referrer-Policy": "no-referrer"}), where)
    else:
        check_page_headers(response, where)
    page = response.body.decode() if isinstance(response.body, bytes) else str(response.body)
    return safe_html(page, where)


def token_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page)
    assert found
    return found.group(1)


def test_console_pages_escape_payloads_and_send_the_security_headers(
        client: Any, org: Any, clock: Any, outbox_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    r = org.patch(org.base, {"name": SHOWN["group"], "sender_name": "Sender"})
    assert r.status_code == 200, r.data
    gid = org.group_id
    console.add_organizer(gid, ORGANIZER)
    new_meetup(org, clock, SHOWN["title"])
    r = org.post("members", {"members": [{"email": "jane@example.com", "name": SHOWN["name"]}]})
    assert r.status_code == 201, r.data
    bounces.handle(json.loads((FIXTURES / "notification-bounce-permanent.json").read_text()))
    kill_one_mail(org, clock, monkeypatch)

    seen: set[tuple[str, str]] = set()

    def call(method: str, path: str, template: str, status: int = 200, form: dict[str, str] | None = None,
             cookie: str | None = None) -> str:
        seen.add((method, template))
        response = get(client, path, cookie) if method == "GET" else post(client, path, form or {}, cookie)
        return checked(response, f"{method} {path}" if template != "/console/signin/{token}" else
                       f"{method} /console/signin/x", status)

    call("GET", "/console", "/console")
    typed = call("POST", "/console", "/console", 400, {"email": payload("email")})
    assert payload("email") in typed  # shown again, escaped once
    call("POST", "/console", "/console", 200, {"email": ORGANIZER})
    cookie = sign_in(client, outbox_dir)
    text = call("GET", f"/console/{gid}", "/console/{group_id}", cookie=cookie)
    assert SHOWN["group"] in text and SHOWN["title"] in text
    text = call("GET", f"/console/{gid}/delivery", "/console/{group_id}/delivery", cookie=cookie)
    assert SHOWN["name"] in text and "550 mailbox <dead@example.com> unavailable" in text
    page = get(client, f"/console/{gid}/organizers", cookie).body.decode()
    text = call("GET", f"/console/{gid}/organizers", "/console/{group_id}/organizers", cookie=cookie)
    text = call("POST", f"/console/{gid}/organizers", "/console/{group_id}/organizers", 400,
                {"csrf_token": token_of(page), "email": payload("cohost")}, cookie)
    assert payload("cohost") in text
    call("POST", f"/console/{gid}/organizers", "/console/{group_id}/organizers", 403,
         {"email": "x@example.com"}, cookie)
    text = call("GET", "/console/groups", "/console/groups", cookie=cookie)
    assert SHOWN["group"] in text
    call("POST", "/console/groups", "/console/groups", 404, {"csrf_token": token_of(page), "group_id": "<b>x</b>"},
         cookie)
    call("GET", "/console/signin/" + "a" * 43, "/console/signin/{token}", 404)
    call("POST", "/console/signin/" + "a" * 43, "/console/signin/{token}", 404)
    call("POST", "/console/signout", "/console/signout", 200, {"csrf_token": token_of(page)}, cookie)
    assert seen == console_routes(), console_routes() - seen
    assert deps.store().groups.require(gid).organizers == [ORGANIZER]
