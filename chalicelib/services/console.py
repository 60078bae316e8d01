"""The organizer console's sign-in, sessions, CSRF tokens and organizers.

Sign-in has no password: an organizer's address is mailed a link (`console_signin`) that works
once and for 15 minutes; using it opens a session (12 hours) recorded in the table, named by a
signed cookie. Sign-out deletes the record, so a copied cookie dies with it. A session belongs
to one group at a time; every page checks the address still organizes that group.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import urlsplit

from itsdangerous import BadData, URLSafeSerializer

from chalicelib import deps, errors, ids, workers
from chalicelib.models import Group
from chalicelib.store import keys
from chalicelib.store.console import SessionRecord, SigninLink, SigninRefused, SigninState

log = logging.getLogger(__name__)

SIGNIN_LIFETIME: Final = timedelta(minutes=15)
SESSION_LIFETIME: Final = timedelta(hours=12)
SIGNINS_A_DAY: Final = 10  # sign-in mails per address and day: the open form cannot flood a mailbox
COOKIE: Final = "pl_console"
MAX_EMAIL: Final = 254
_COOKIE_SALT: Final = "powerlunch.console.session"
_CSRF_SALT: Final = b"powerlunch.console.csrf"

__all__ = ["SigninLink", "SigninRefused", "SigninState"]


class FormInvalid(errors.InvalidInput):
    """Raised when a console form field is wrong: `field` names it, `posted` is what was sent
    (to show again beside the error). Nothing was changed."""

    def __init__(self, message: str, *, field: str, posted: dict[str, str] | None = None) -> None:
        super().__init__(message, field=field)
        self.posted = posted or {}


@dataclass(frozen=True)
class Session:
    """A signed-in organizer. `session_id` is the secret the cookie carries: never show it."""

    session_id: str
    email: str
    group_id: str | None
    expires_at: datetime


# ---------------------------------------------------------------- addresses


def clean_email(raw: str, *, field: str = "email") -> str:
    """A lower-cased address, or FormInvalid naming the field."""
    from pydantic import TypeAdapter, ValidationError

    from chalicelib.models import Email

    text = (raw or "").strip()
    if not text:
        raise FormInvalid("is required", field=field, posted={field: raw})
    if len(text) > MAX_EMAIL or any(ord(c) < 32 or c == "\x7f" for c in text):
        raise FormInvalid("is not an email address", field=field, posted={field: raw[:MAX_EMAIL]})
    try:
        return str(TypeAdapter(Email).validate_python(text))
    except ValidationError:
        raise FormInvalid("is not an email address", field=field, posted={field: raw}) from None


# ---------------------------------------------------------------- sign-in links


def signin_url(token: str) -> str:
    return f"{deps.settings().base_url}/console/signin/{token}"


def ask_for_link(raw_email: str) -> None:
    """Record the request and hand it to the jobs worker, whoever typed the address: the page,
    and the work the request does (one PutItem, one message), are the same for an organizer and
    a stranger, so neither the answer nor its timing tells who organizes a group."""
    email = clean_email(raw_email)
    now = deps.now()
    request_id = secrets.token_urlsafe(16)
    deps.store().console.add_signin_request(request_id, email, now, now + SIGNIN_LIFETIME)
    workers.send("console.signin", request_id=request_id)


def signin_work(body: dict[str, Any]) -> None:
    """The jobs worker: mail a sign-in link when the address organizes a group; otherwise
    nothing. The mail's dedupe key is the request's, so a redelivered message sends nothing
    twice; the request is dropped once answered."""
    request_id = body.get("request_id")
    if not isinstance(request_id, str):
        log.error("sign-in message without its id dropped")
        return
    store = deps.store()
    email = store.console.signin_request(request_id, deps.now())
    if email is not None:
        _mail_link(email, request_id)
    store.console.drop_signin_request(request_id)


def _mail_link(email: str, request_id: str) -> None:
    store = deps.store()
    group_ids = store.console.groups_of(email)
    group = next((g for g in (store.groups.get(i) for i in group_ids[:1]) if g is not None), None)
    if group is None:
        log.info("console sign-in asked for an address that organizes nothing")
        return
    now = deps.now()
    if store.public.count(group.group_id, f"{keys.address_id(email)}#console_signin", now.date(),
                          SIGNINS_A_DAY) is None:
        log.info("console sign-in limit reached", extra={"group_id": group.group_id})
        return
    from chalicelib.services import outbox

    token = secrets.token_urlsafe(32)
    store.console.add_signin(token, email, now, now + SIGNIN_LIFETIME)
    outbox.to_address("console_signin", f"console_signin:{hashlib.sha256(request_id.encode()).hexdigest()}",
                      group, email, email, signin_url=signin_url(token), minutes=15,
                      group_names=[g.name for g in (store.groups.get(i) for i in group_ids[:5]) if g])


def signin_state(token: str) -> SigninState:
    """What the link is, changing nothing (mail scanners open links)."""
    if not _token_shape(token):
        return "invalid"
    state, _ = deps.store().console.signin_state(token, deps.now())
    return state


def sign_in(token: str) -> tuple[Session, list[str]]:
    """Use the link (once) and open a session; answers it and the groups the address organizes.
    SigninRefused when the link was used, has expired or is unknown; an address that no longer
    organizes anything is refused as "invalid"."""
    if not _token_shape(token):
        raise SigninRefused("invalid")
    store, now = deps.store(), deps.now()
    email = store.console.use_signin(token, now)
    group_ids = store.console.groups_of(email)
    if not group_ids:
        raise SigninRefused("invalid")
    session = Session(session_id=secrets.token_urlsafe(32), email=email,
                      group_id=group_ids[0] if len(group_ids) == 1 else None,
                      expires_at=now + SESSION_LIFETIME)
    store.console.add_session(session.session_id, SessionRecord(
        email=email, group_id=session.group_id, created_at=now, expires_at=session.expires_at))
    return session, group_ids


def _token_shape(token: str) -> bool:
    return 20 <= len(token) <= 100 and all(c.isalnum() or c in "-_" for c in token)


# ---------------------------------------------------------------- sessions and cookies


def _cookie_serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=_COOKIE_SALT)


def cookie_value(session: Session) -> str:
    return str(_cookie_serializer(deps.signing_secret()).dumps(
        {"s": session.session_id, "e": int(session.expires_at.timestamp())}))


def _session_id(cookie_header: str | None) -> str | None:
    """The session id a signed, unexpired cookie names (any current signing secret)."""
    raw = read_cookie(cookie_header, COOKIE)
    if not raw or len(raw) > 400:
        return None
    for secret in deps.signing_secrets():
        try:
            data = _cookie_serializer(secret).loads(raw)
        except BadData:
            continue
        if (isinstance(data, dict) and isinstance(data.get("s"), str) and isinstance(data.get("e"), int)
                and data["e"] > deps.now().timestamp()):
            return str(data["s"])
        return None
    return None


def read_cookie(header: str | None, name: str) -> str | None:
    from http.cookies import CookieError, SimpleCookie

    if not header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None


def set_cookie_header(session: Session) -> str:
    max_age = int((session.expires_at - deps.now()).total_seconds())
    return f"{COOKIE}={cookie_value(session)}; Path=/console; Max-Age={max_age}; HttpOnly; SameSite=Lax{_secure()}"


def clear_cookie_header() -> str:
    return f"{COOKIE}=; Path=/console; Max-Age=0; HttpOnly; SameSite=Lax{_secure()}"


def _secure() -> str:
    """Browsers keep a Secure cookie only over https: the local app (http://127.0.0.1) goes without."""
    url = urlsplit(deps.settings().base_url)
    return "" if url.scheme == "http" and url.hostname in ("127.0.0.1", "localhost") else "; Secure"


def current_session(cookie_header: str | None) -> Session | None:
    """The live session the cookie names, or None (no cookie, bad signature, signed out, expired)."""
    session_id = _session_id(cookie_header)
    if session_id is None:
        return None
    record = deps.store().console.get_session(session_id, deps.now())
    return _session(session_id, record)


def session_for_group(cookie_header: str | None, group_id: str,
                      also: Sequence[str] = ()) -> tuple[Session | None, Group | None, dict[str, Any]]:
    """The live session, the group and the page's `also` items (store.console.PRELOADS), in one
    read. The group is None unless the session is for it and its address still organizes it
    (callers answer 404, as for a missing group)."""
    session_id = _session_id(cookie_header)
    if session_id is None:
        return None, None, {}
    if not ids.is_id(group_id, "grp"):  # not a group id at all: no read, the same 404
        return current_session(cookie_header), None, {}
    record, group, loaded = deps.store().console.session_and_group(session_id, group_id, deps.now(), also)
    session = _session(session_id, record)
    if session is None or group is None or session.group_id != group_id or session.email not in group.organizers:
        return session, None, {}
    return session, group, loaded


def _session(session_id: str, record: SessionRecord | None) -> Session | None:
    if record is None:
        return None
    return Session(session_id=session_id, email=record.email, group_id=record.group_id,
                   expires_at=record.expires_at)


def groups_of(session: Session) -> list[Group]:
    """The groups the session's address organizes, by name."""
    store = deps.store()
    found = [store.groups.get(i) for i in store.console.groups_of(session.email)]
    return sorted((g for g in found if g is not None and session.email in g.organizers), key=lambda g: g.name)


def choose_group(session: Session, group_id: str) -> Session:
    """Point the session at one of the address's groups; NotFound for any other."""
    group = deps.store().groups.get(group_id) if ids.is_id(group_id, "grp") else None
    if group is None or session.email not in group.organizers:
        raise errors.NotFound("no such group", field="group_id")
    deps.store().console.choose_group(session.session_id, group_id, deps.now())
    return Session(session_id=session.session_id, email=session.email, group_id=group_id,
                   expires_at=session.expires_at)


def sign_out(session: Session) -> None:
    """End the session server-side: its cookie opens nothing from now on."""
    deps.store().console.end_session(session.session_id)


# ---------------------------------------------------------------- CSRF


def csrf_token(session: Session) -> str:
    """The session's form token: an HMAC of its id, so another session's token never fits."""
    return hmac.new(deps.signing_secret().encode(), _CSRF_SALT + session.session_id.encode(),
                    hashlib.sha256).hexdigest()


def csrf_ok(session: Session, sent: str | None) -> bool:
    if not sent or len(sent) != 64:
        return False
    return any(hmac.compare_digest(
        hmac.new(secret.encode(), _CSRF_SALT + session.session_id.encode(), hashlib.sha256).hexdigest(), sent)
        for secret in deps.signing_secrets())


# ---------------------------------------------------------------- organizers


def add_organizer(group_id: str, raw_email: str) -> tuple[str, bool]:
    """Add a co-host; answers the cleaned address and whether it was new."""
    email = clean_email(raw_email)
    return email, deps.store().console.add_organizer(group_id, email)


def remove_organizer(group_id: str, raw_email: str) -> tuple[str, bool]:
    """Remove a co-host (never the last one: errors.Conflict); their sessions open nothing of
    this group from then on, since every page checks the list."""
    email = clean_email(raw_email)
    group = deps.store().groups.require(group_id)
    return email, deps.store().console.remove_organizer(group, email)


def group(group_id: str) -> Group:
    return deps.store().groups.require(group_id)
