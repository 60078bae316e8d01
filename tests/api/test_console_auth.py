"""Organizer console sign-in (issue 13, parts 1 and 2): a link mailed to an organizer works
once and for 15 minutes, strangers get the same page, sessions are bound to one group and end
server-side, cookies carry the right flags, and every session form needs its CSRF token."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib import deps, workers
from chalicelib.services import console
from chalicelib.store import keys

BASE = "https://lunch.example.test"  # BASE_URL in tests/conftest.py
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ORGANIZER = "host@example.com"


def body(response: Any) -> str:
    return response.body.decode() if isinstance(response.body, bytes) else str(response.body)


def post(client: Any, path: str, form: dict[str, str], cookie: str | None = None, **headers: str) -> Any:
    h = {**FORM, "Origin": BASE, **headers}
    if cookie:
        h["Cookie"] = cookie
    return client.http.post(path, headers=h, body=urlencode(form).encode())


def get(client: Any, path: str, cookie: str | None = None) -> Any:
    return client.http.get(path, headers={"Cookie": cookie} if cookie else {})


def signin_mails(outbox: Path, address: str) -> list[Any]:
    found = []
    for path in sorted(outbox.glob("*-console_signin-*.eml")) if outbox.exists() else []:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if address in str(message["To"]):
            found.append(message)
    return found


def link_of(message: Any) -> str:
    text = str(message.get_body(preferencelist=("plain",)).get_content())
    match = re.search(re.escape(BASE) + r"(/console/signin/[A-Za-z0-9_\-]+)", text)
    assert match, text
    return match.group(1)


def ask_link(client: Any, outbox: Path, address: str = ORGANIZER) -> str:
    before = {link_of(m) for m in signin_mails(outbox, address)}
    response = post(client, "/console", {"email": address})
    assert response.status_code == 200
    new = {link_of(m) for m in signin_mails(outbox, address)} - before
    assert len(new) == 1
    return new.pop()


def cookie_of(response: Any) -> str:
    header = response.headers["Set-Cookie"]
    return header.split(";", 1)[0]


def sign_in(client: Any, outbox: Path, address: str = ORGANIZER) -> str:
    link = ask_link(client, outbox, address)
    response = post(client, link, {})
    assert response.status_code == 303, body(response)
    return cookie_of(response)


@pytest.fixture
def group_id(org: Any) -> str:
    console.add_organizer(org.group_id, ORGANIZER)
    return str(org.group_id)


@pytest.fixture
def other_group_id(other_org: Any) -> str:
    console.add_organizer(other_org.group_id, "other@example.com")
    return str(other_org.group_id)


# ---------------------------------------------------------------- links


def test_an_organizer_signs_in_from_the_emailed_link_and_reaches_home(client: Any, group_id: str,
                                                                       outbox_dir: Path) -> None:
    link = ask_link(client, outbox_dir)
    shown = get(client, link)
    assert shown.status_code == 200 and 'method="post"' in body(shown)
    assert "Set-Cookie" not in shown.headers  # a GET (a mail scanner) signs nobody in
    response = post(client, link, {})
    assert response.status_code == 303 and response.headers["Location"] == f"/console/{group_id}"
    home = get(client, f"/console/{group_id}", cookie_of(response))
    assert home.status_code == 200
    assert "Lisbon Founders" in body(home) and ORGANIZER in body(home)


def test_a_link_works_once_then_says_it_was_used(client: Any, group_id: str, outbox_dir: Path) -> None:
    link = ask_link(client, outbox_dir)
    assert post(client, link, {}).status_code == 303
    again = post(client, link, {})
    assert again.status_code == 410 and "Set-Cookie" not in again.headers
    assert "this link was used; ask for a new one" in body(again).lower()
    assert "this link was used" in body(get(client, link)).lower()


def test_a_link_expires_after_15_minutes(client: Any, group_id: str, outbox_dir: Path, clock: Any) -> None:
    link = ask_link(client, outbox_dir)
    clock.advance(minutes=14, seconds=59)
    assert get(client, link).status_code == 200
    clock.advance(seconds=1)
    refused = post(client, link, {})
    assert refused.status_code == 410 and "Set-Cookie" not in refused.headers
    assert "expired" in body(refused)
    # ...and the record carries the TTL attribute DynamoDB deletes it by
    token = link.rsplit("/", 1)[1]
    item = deps.store().db.get(keys.console_signin(token))
    assert item is not None and item["expires_at"] == int(clock().timestamp())


def test_unknown_address_gets_the_same_page_and_no_mail(client: Any, group_id: str, outbox_dir: Path) -> None:
    known = post(client, "/console", {"email": ORGANIZER})
    unknown = post(client, "/console", {"email": "stranger@example.com"})
    assert unknown.status_code == known.status_code == 200
    assert body(unknown) == body(known)
    assert signin_mails(outbox_dir, "stranger@example.com") == []


def test_the_request_does_the_same_work_for_an_organizer_and_a_stranger(
        client: Any, group_id: str, outbox_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What POST /console does can't tell who organizes a group, by its page or by its timing:
    the same DynamoDB calls and one queue message either way; the jobs worker does the rest."""
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(workers, "send_many", lambda kind, many, **_: sent.extend(
        workers.message(kind, **ids) for ids in many) or len(many))
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    events = deps.dynamodb_client().meta.events
    events.register("before-call.dynamodb", record)
    try:
        work = {}
        for address in (ORGANIZER, "stranger@example.com"):
            calls.clear()
            assert post(client, "/console", {"email": address}).status_code == 200
            work[address] = (list(calls), [m["kind"] for m in sent])
            sent.clear()
    finally:
        events.unregister("before-call.dynamodb", record)
    assert work[ORGANIZER] == work["stranger@example.com"] == (["PutItem"], ["console.signin"])
    assert signin_mails(outbox_dir, ORGANIZER) == []  # nothing mailed by the request itself


def test_a_redelivered_signin_message_mails_one_link(client: Any, group_id: str, outbox_dir: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(workers, "send_many", lambda kind, many, **_: sent.extend(
        workers.message(kind, **ids) for ids in many) or len(many))
    post(client, "/console", {"email": ORGANIZER})
    [message] = sent
    monkeypatch.undo()
    console.signin_work(message)
    console.signin_work(message)  # SQS delivers at least once
    assert len(signin_mails(outbox_dir, ORGANIZER)) == 1


def test_a_made_up_or_cut_link_signs_nobody_in(client: Any, group_id: str, outbox_dir: Path) -> None:
    link = ask_link(client, outbox_dir)
    for path in (link[:-3], link + "x", "/console/signin/" + "A" * 43, "/console/signin/%3Cscript%3E"):
        response = post(client, path, {})
        assert response.status_code in (404, 410) and "Set-Cookie" not in response.headers
        assert "<script>" not in body(response)
    assert post(client, link, {}).status_code == 303  # the real one still works


def test_a_signin_post_from_another_site_is_refused(client: Any, group_id: str, outbox_dir: Path) -> None:
    link = ask_link(client, outbox_dir)
    refused = post(client, link, {}, Origin="https://evil.example")
    assert refused.status_code == 403 and "Set-Cookie" not in refused.headers
    assert post(client, "/console", {"email": ORGANIZER}, Origin="https://evil.example").status_code == 403
    assert post(client, link, {}).status_code == 303  # not used up by the refused one


# ---------------------------------------------------------------- sessions


def test_cookie_flags(client: Any, group_id: str, outbox_dir: Path) -> None:
    response = post(client, ask_link(client, outbox_dir), {})
    flags = [f.strip() for f in response.headers["Set-Cookie"].split(";")]
    assert flags[0].startswith("pl_console=") and len(flags[0]) > 40
    assert {"HttpOnly", "SameSite=Lax", "Secure", "Max-Age=43200", "Path=/console"} <= set(flags)


def test_no_secure_flag_on_the_local_http_app(client: Any, group_id: str, outbox_dir: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    link = ask_link(client, outbox_dir)
    monkeypatch.setenv("BASE_URL", "http://127.0.0.1:8000")
    deps.settings.cache_clear()
    response = post(client, link, {}, Origin="http://127.0.0.1:8000")
    flags = [f.strip() for f in response.headers["Set-Cookie"].split(";")]
    assert "HttpOnly" in flags and "SameSite=Lax" in flags and "Secure" not in flags


def test_a_session_expires_after_12_hours(client: Any, group_id: str, outbox_dir: Path, clock: Any) -> None:
    cookie = sign_in(client, outbox_dir)
    clock.advance(hours=11, minutes=59)
    assert get(client, f"/console/{group_id}", cookie).status_code == 200
    clock.advance(minutes=1)
    response = get(client, f"/console/{group_id}", cookie)
    assert response.status_code == 303 and response.headers["Location"] == "/console"


def test_sessions_cannot_cross_groups(client: Any, group_id: str, other_group_id: str, outbox_dir: Path) -> None:
    cookie = sign_in(client, outbox_dir)
    for path in (f"/console/{other_group_id}", f"/console/{other_group_id}/delivery",
                 f"/console/{other_group_id}/organizers"):
        response = get(client, path, cookie)
        assert response.status_code == 404, path
        assert "Berlin Builders" not in body(response)
    # nor by choosing it
    page = body(get(client, "/console/groups", cookie))
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page)
    assert token
    chosen = post(client, "/console/groups", {"csrf_token": token.group(1), "group_id": other_group_id}, cookie)
    assert chosen.status_code == 404
    assert get(client, f"/console/{other_group_id}", cookie).status_code == 404


def test_an_organizer_of_two_groups_picks_one_and_the_other_stays_closed(
        client: Any, group_id: str, other_group_id: str, outbox_dir: Path) -> None:
    console.add_organizer(other_group_id, ORGANIZER)
    response = post(client, ask_link(client, outbox_dir), {})
    assert response.headers["Location"] == "/console/groups"
    cookie = cookie_of(response)
    assert get(client, f"/console/{group_id}", cookie).headers["Location"] == "/console/groups"
    page = body(get(client, "/console/groups", cookie))
    assert "Lisbon Founders" in page and "Berlin Builders" in page
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page)
    assert token
    chosen = post(client, "/console/groups", {"csrf_token": token.group(1), "group_id": other_group_id}, cookie)
    assert chosen.status_code == 303 and chosen.headers["Location"] == f"/console/{other_group_id}"
    assert get(client, f"/console/{other_group_id}", cookie).status_code == 200
    assert get(client, f"/console/{group_id}", cookie).status_code == 404


def test_sign_out_ends_the_session_server_side(client: Any, group_id: str, outbox_dir: Path) -> None:
    cookie = sign_in(client, outbox_dir)
    home = body(get(client, f"/console/{group_id}", cookie))
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', home)
    assert token
    out = post(client, "/console/signout", {"csrf_token": token.group(1)}, cookie)
    assert out.status_code == 200 and "signed out" in body(out)
    assert "Max-Age=0" in out.headers["Set-Cookie"]
    # the old cookie, replayed (as a copied cookie would be), opens nothing
    replay = get(client, f"/console/{group_id}", cookie)
    assert replay.status_code == 303 and replay.headers["Location"] == "/console"
    session_id = console._session_id(cookie)
    assert session_id and deps.store().db.get(keys.console_session(session_id)) is None


def test_a_removed_organizer_loses_access_at_once(client: Any, group_id: str, outbox_dir: Path) -> None:
    cookie = sign_in(client, outbox_dir)
    console.add_organizer(group_id, "cohost@example.com")
    console.remove_organizer(group_id, ORGANIZER)
    assert get(client, f"/console/{group_id}", cookie).status_code == 404


def test_a_forged_or_tampered_cookie_opens_nothing(client: Any, group_id: str, outbox_dir: Path) -> None:
    cookie = sign_in(client, outbox_dir)
    name, value = cookie.split("=", 1)
    for bad in (f"{name}={value[:-2]}xx", f"{name}=eyJzIjoiYWJjIiwiZSI6OTk5OTk5OTk5OX0.forged", f"{name}=",
                "other=1", 'pl_console="\\x00;;"'):
        response = get(client, f"/console/{group_id}", bad)
        assert response.status_code == 303 and response.headers["Location"] == "/console", bad


def test_console_pages_send_the_member_pages_security_headers(client: Any, group_id: str,
                                                              outbox_dir: Path) -> None:
    from chalicelib.routes.html import page_headers

    cookie = sign_in(client, outbox_dir)
    expected = page_headers()
    for path in ("/console", f"/console/{group_id}", "/console/groups", "/console/signin/" + "a" * 43):
        response = get(client, path, cookie if path != "/console" else None)
        for name in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Cache-Control"):
            assert response.headers[name] == expected[name], (path, name)
        assert "script" not in response.headers["Content-Security-Policy"].replace("script-src", "")
        assert "<script" not in body(response)
    assert get(client, f"/console/{group_id}", cookie).headers["Referrer-Policy"] == "no-referrer"


# ---------------------------------------------------------------- CSRF


def organizers_of(group_id: str) -> list[str]:
    return list(deps.store().groups.require(group_id).organizers)


@pytest.mark.parametrize("token", ["none", "empty", "wrong", "other session"])
def test_a_post_without_this_sessions_csrf_token_is_403_and_changes_nothing(
        client: Any, group_id: str, outbox_dir: Path, token: str) -> None:
    cookie = sign_in(client, outbox_dir)
    other_cookie = sign_in(client, outbox_dir)
    other_page = body(get(client, f"/console/{group_id}", other_cookie))
    other_token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', other_page)
    assert other_token
    form = {"email": "intruder@example.com"}
    if token == "empty":
        form["csrf_token"] = ""
    elif token == "wrong":
        form["csrf_token"] = "0" * 64
    elif token == "other session":
        form["csrf_token"] = other_token.group(1)
    before = organizers_of(group_id)
    response = post(client, f"/console/{group_id}/organizers", form, cookie)
    assert response.status_code == 403
    assert organizers_of(group_id) == before
    assert deps.store().console.groups_of("intruder@example.com") == []
    # sign-out without a token does not sign out either
    assert post(client, "/console/signout", {k: v for k, v in form.items() if k == "csrf_token"},
                cookie).status_code == 403
    assert get(client, f"/console/{group_id}", cookie).status_code == 200


# ---------------------------------------------------------------- hostile input


@pytest.mark.parametrize("raw", ["", "   ", "not-an-email", "a@", "<script>alert(1)</script>@x.io",
                                 "x" * 400 + "@example.com", "host@example.com\r\nBcc: a@b.c", "\x00"])
def test_hostile_emails_get_an_error_beside_the_field_and_no_mail(client: Any, group_id: str,
                                                                 outbox_dir: Path, raw: str) -> None:
    response = post(client, "/console", {"email": raw})
    assert response.status_code == 400
    page = body(response)
    assert 'class="error-text"' in page and "<script>alert" not in page
    assert signin_mails(outbox_dir, ORGANIZER) == []


def test_a_body_that_is_not_a_form_is_a_clear_4xx(client: Any, group_id: str) -> None:
    response = client.http.post("/console", headers={**FORM, "Origin": BASE}, body=b"\xff\xfe=\xff")
    assert response.status_code == 400
    many = "&".join(f"f{i}=1" for i in range(300)).encode()
    assert client.http.post("/console", headers={**FORM, "Origin": BASE}, body=many).status_code == 400


def test_organizer_addresses_are_matched_in_lower_case(client: Any, group_id: str, outbox_dir: Path) -> None:
    assert post(client, "/console", {"email": "  HOST@Example.COM "}).status_code == 200
    assert len(signin_mails(outbox_dir, ORGANIZER)) == 1


@pytest.mark.parametrize("group_path", ["<script>", "grp_" + "a" * 3000, "%00", "GROUP%23x", "grp_..%2F..%2Fx"])
def test_a_hostile_group_id_in_the_path_is_a_plain_404(local_client: Any, local_org: Any, outbox_dir: Path,
                                                      group_path: str) -> None:
    """On DynamoDB Local, which refuses keys over 2 KB (moto does not): no read with such a key."""
    client, group_id = local_client, local_org.group_id
    console.add_organizer(group_id, ORGANIZER)
    cookie = sign_in(client, outbox_dir)
    response = get(client, f"/console/{group_path}", cookie)
    assert response.status_code == 404 and "<script>" not in body(response)
    page = body(get(client, f"/console/{group_id}", cookie))
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page)
    assert token
    chosen = post(client, "/console/groups", {"csrf_token": token.group(1), "group_id": group_path}, cookie)
    assert chosen.status_code == 404
    assert get(client, f"/console/{group_id}", cookie).status_code == 200  # still signed in to its group


def test_an_organizer_who_unsubscribed_as_a_member_still_gets_the_link(
        client: Any, org: Any, group_id: str, outbox_dir: Path) -> None:
    r = org.post("members", {"members": [{"email": ORGANIZER, "name": "Host"}]})
    assert r.status_code == 201, r.data
    member_id = r.data["created"][0]["member_id"]
    assert org.patch(f"members/{member_id}", {"subscribed": False}).status_code == 200
    assert post(client, ask_link(client, outbox_dir), {}).status_code == 303
