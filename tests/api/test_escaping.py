"""Script and markup payloads in every text field a member or organizer can set come out
escaped in every member page and in the HTML part of every email, and verbatim (not escaped
twice, not escaped at all) in the text part. Pages (error pages included) send a CSP without
inline script, `Referrer-Policy: no-referrer`, `nosniff`, and deny framing.

How a page or mail part is judged: parsed with html.parser, it must hold no <script> element,
no `on*` attribute and no `javascript:` link, and its decoded text and attribute values must
contain the payload exactly as typed (so it was escaped once: not raw, not twice).
"""

from __future__ import annotations

import email
import email.policy
import re
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from app import app
from chalicelib import deps, links
from chalicelib.mail.render import first_name
from chalicelib.services import schedules
from chalicelib.store import keys

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
PAIRING_LINK = re.compile(r"https://lunch\.example\.test(/pairing/[A-Za-z0-9_.\-]+)")
RECONNECT_LINK = re.compile(r"https://lunch\.example\.test(/reconnect/[A-Za-z0-9_.\-]+)\?answer=yes")


def payload(field: str) -> str:
    """One payload per field, so a finding names the field; every classic at once."""
    return f"<script>alert('{field}')</script>\"><img src=x onerror=alert(1)>{{{{7*7}}}} & javascript:alert(1)"


# asks/offers are quoted in pairing reasons, shortened to 60 characters: shorter payloads,
# sharing the word "intros" so the matcher quotes them.
SHORT = {
    "asks-x": "<script>a()</script>\"><b onclick=x>intros?",
    "offers-y": "<img src=x onerror=y()>'\"intros & more",
    "asks-y": "<svg onload=z()>{{7*7}} intros",
    "offers-x": "</textarea><script>o()</script>intros",
}
TAG = "<i>tag</i>\"'x"  # interests: at most 40 characters, lower-cased, no commas
FIELDS = {f: payload(f) for f in ("group", "sender", "title", "description", "venue", "address", "name-x",
                                  "name-y", "headline-x", "headline-y", "note", "city")} | SHORT


class Parsed(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.bad: list[str] = []
        self.chunks: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in ("script", "iframe", "object", "embed", "svg"):
            self.bad.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.bad.append(f"<{tag} {name}=...>")
            if name in ("href", "src", "action", "formaction") and value and \
                    value.strip().lower().startswith("javascript:"):
                self.bad.append(f"<{tag} {name}=javascript:...>")
            if value:
                self.chunks.append(value)

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)

    @property
    def text(self) -> str:
        return "\n".join(self.chunks)


def safe_html(html: str, where: str) -> str:
    """The decoded text of a page or mail part, after checking nothing in it is live markup."""
    parsed = Parsed(html)
    assert not parsed.bad, (where, parsed.bad)
    return parsed.text


# A greeting names a member by the first word of their name ("Hi Ana,"): that counts as their name shown.
GREETED = {f: "Hi " + first_name(p) for f, p in FIELDS.items() if f.startswith("name-")}


def shown(text: str) -> set[str]:
    """Which fields' payloads appear, whole (a name: or greeted), in this decoded text."""
    squeezed = " ".join(text.split())
    return {f for f, p in FIELDS.items() if p in text or " ".join(p.split()) in squeezed} | (
        {"interests"} if TAG.lower() in text else set()) | {f for f, hi in GREETED.items() if hi in text}


def check_page_headers(response: Any, where: str) -> None:
    headers = {k.lower(): v for k, v in response.headers.items()}
    # Public pages send our origin to ourselves (so a form POST carries it, for the cross-site
    # check); every page sends nothing to another site.
    public = re.match(r"^\w+ /(join|links|events|welcome)/", where)
    assert headers.get("referrer-policy") == ("same-origin" if public else "no-referrer"), (where, headers)
    assert headers.get("x-content-type-options") == "nosniff", (where, headers)
    if not headers.get("content-type", "").startswith("text/html"):
        return
    csp = headers.get("content-security-policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    script = directives.get("script-src", directives.get("default-src"))
    assert script is not None, (where, "no script-src or default-src", csp)
    assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"} & set(script), (where, csp)
    assert "'unsafe-inline'" not in directives.get("script-src-elem", []) + directives.get("script-src-attr", [])
    frames_denied = directives.get("frame-ancestors") == ["'none'"] or headers.get("x-frame-options") == "DENY"
    assert frames_denied, (where, csp, headers.get("x-frame-options"))


class Pages:
    """Every member page fetched, with its headers checked and its route template noted."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.routes: set[tuple[str, str]] = set()
        self.statuses: set[int] = set()
        self.fields: set[str] = set()

    def call(self, method: str, path: str, form: dict[str, Any] | None = None, *, status: int = 200) -> str:
        if method == "GET":
            response = self.client.http.get(path)
        else:
            response = self.client.http.post(path, headers=FORM, body=urlencode(form or {}, doseq=True).encode())
        assert response.status_code == status, (method, path, response.status_code, response.body[:500])
        check_page_headers(response, f"{method} {path}")
        template = re.sub(r"^/(\w+)/[^/?]+", lambda m: f"/{m.group(1)}/{{token}}", path)
        template = re.sub(r"^/(join|links)/\{token\}$", r"/\1/{group_id}", template)  # public pages
        template = re.sub(r"^/events/\{token\}/[^/]+$", "/events/{group_id}/{meetup_id}", template)
        template = re.sub(r"^/renew/\{token\}/[^/]+$", "/renew/{purpose}/{token}", template)
        self.routes.add((method, template))
        self.statuses.add(status)
        body = response.body.decode() if isinstance(response.body, bytes) else response.body
        if not response.headers.get("Content-Type", "").startswith("text/html"):
            return str(body)
        text = safe_html(body, f"{method} {path}")
        self.fields |= shown(text)
        return text


def mail_files(folder: Path) -> list[tuple[Path, email.message.EmailMessage]]:
    return [(p, email.message_from_bytes(p.read_bytes(), policy=email.policy.default))  # type: ignore[misc]
            for p in sorted(folder.glob("*.eml"))]


def kind_of(path: Path) -> str:
    """The mail's kind, from the outbox file name `<time>-<kind>-<mail id>.eml`."""
    return path.stem.split("-", 1)[1].rsplit("-", 1)[0]


def member_page_routes() -> set[tuple[str, str]]:
    # The organizer console (/console...) has its own: tests/api/test_console_escaping.py; the
    # API's OpenAPI document (JSON, no member input) is tests/api/test_openapi.py's.
    return {(method, path) for path, methods in app.routes.items() for method in methods
            if not path.startswith(("/groups/", "/console")) and path != "/openapi.json"}


@pytest.fixture
def world(client: Any, org: Any, clock: Any) -> dict[str, Any]:
    r = org.patch(org.base, {"name": FIELDS["group"], "sender_name": FIELDS["sender"]})
    assert r.status_code == 200, r.data
    people = [{"email": f"{x}@example.com", "name": FIELDS[f"name-{x}"], "headline": FIELDS[f"headline-{x}"]}
              for x in ("x", "y")]
    r = org.post("members", {"members": people})
    assert r.status_code == 201, r.data
    ids = {m["email"][0]: m["member_id"] for m in r.data["created"]}
    start = clock() + timedelta(days=3)
    r = org.post("meetups", {
        "title": FIELDS["title"], "description": FIELDS["description"],
        "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat(),
        "timezone": "Europe/Lisbon", "venue": {"name": FIELDS["venue"], "address": FIELDS["address"]},
        "capacity": 1})
    assert r.status_code == 201, r.data
    return {"x": ids["x"], "y": ids["y"], "meetup": r.data, "start": start}


def test_payloads_come_out_escaped_in_every_page_and_mail(client: Any, org: Any, clock: Any,
                                                         outbox_dir: Path, world: dict[str, Any]) -> None:
    pages = Pages(client)
    gid, meetup, x, y = org.group_id, world["meetup"], world["x"], world["y"]
    ends = datetime.fromisoformat(meetup["ends_at"])
    rsvp = {m: urlsplit(links.rsvp_url(gid, meetup["meetup_id"], m, ends)).path for m in (x, y)}

    # RSVP: invitations, page, answers (X takes the one seat, Y waits, X leaves: Y promoted)
    assert org.post(f"meetups/{meetup['meetup_id']}/invitations", {}).status_code == 202
    page = pages.call("GET", rsvp[x])
    assert {"sender", "title", "description", "venue", "address", "name-x"} <= shown(page), shown(page)
    pages.call("POST", rsvp[x], {"answer": "going"})
    pages.call("POST", rsvp[y], {"answer": "going"})
    pages.call("POST", rsvp[x], {"answer": "not_going"})
    pages.call("POST", rsvp[x], {"answer": "maybe"}, status=400)
    ics = pages.call("GET", rsvp[x] + "/meetup.ics")
    assert "BEGIN:VCALENDAR" in ics
    # Public pages (issue 12): join, my links and the meetup page made public, asked by X (the
    # member gets links); a confirmation link for X's own address shows the name typed.
    r = org.patch(f"meetups/{meetup['meetup_id']}", {"visibility": "public"})
    assert r.status_code == 200, r.data
    for public in (f"/join/{gid}", f"/links/{gid}", f"/events/{gid}/{meetup['meetup_id']}"):
        pages.call("GET", public)
        pages.call("POST", public, {"email": "x@example.com", "name": "X"})
        page = pages.call("POST", public, {"email": FIELDS["name-x"], "name": "X"}, status=400)
        assert "name-x" in shown(page)  # what was typed comes back, escaped once
    assert {"title", "venue", "address", "description"} <= shown(pages.call("GET", f"/events/{gid}/{meetup['meetup_id']}"))
    from chalicelib.store.public import Signup
    signup = Signup(signup_id="sgn_" + "0" * 26, group_id=gid, email="x@example.com", name=FIELDS["name-x"],
                    created_at=clock(), expires_at=clock() + timedelta(days=7))
    deps.store().public.add_signup(signup)
    welcome = urlsplit(links.welcome_url(gid, keys.address_id("x@example.com"), signup.signup_id,
                                         signup.expires_at)).path
    assert "name-x" in shown(pages.call("GET", welcome))
    pages.call("POST", welcome, status=303)
    # a new place (update notice quoting the old one), the reminder, then the cancellation
    r = org.patch(f"meetups/{meetup['meetup_id']}", {"venue": {"name": FIELDS["venue"] + "!", "address": FIELDS["address"]}})
    assert r.status_code == 200, r.data
    clock.set(world["start"] - timedelta(hours=24))
    assert schedules.run_hourly(deps.now())["meetup_reminders"] == 1
    assert org.post(f"meetups/{meetup['meetup_id']}/cancel", {}).status_code == 200
    pages.call("POST", rsvp[y], {"answer": "going"}, status=409)  # closed: the page says so

    # Lunch: programme, invitations, preferences (X by the page, Y by the organizer), a round
    assert org.call("PUT", "lunch-program", {"enabled": True, "cadence": "weekly", "weekday": "tue",
                                             "local_hour": 10, "odd_rule": "trio"}).status_code in (200, 201)
    assert org.post("lunch-program/invitations", {}).status_code == 202
    lunch_x = urlsplit(links.lunch_url(gid, x)).path
    pages.call("GET", lunch_x)
    page = pages.call("POST", lunch_x, {
        "opt_in": "in", "mode": "in_person", "city": FIELDS["city"], "interests": TAG,
        "goals": ["meet_peers"], "offers": SHORT["offers-x"], "asks": SHORT["asks-x"], "availability": ["tue-lunch"]})
    assert {"city", "offers-x", "asks-x", "interests"} <= shown(page), shown(page)
    r = org.patch(f"members/{y}", {"lunch": {"opted_in": True, "city": FIELDS["city"], "interests": [TAG],
                                              "goals": ["meet_peers"], "offers": SHORT["offers-y"],
                                              "asks": SHORT["asks-y"], "availability": ["tue-lunch"]}})
    assert r.status_code == 200, r.data
    r = org.post("lunch-rounds", {})
    assert r.status_code == 202, r.data
    intro_links = [PAIRING_LINK.search(m.get_body(("plain",)).get_content()).group(1)  # type: ignore[union-attr]
                   for p, m in mail_files(outbox_dir) if kind_of(p) == "lunch_intro"]
    pairing_x = next(path for path in intro_links  # X's own link (the intros' To may be what is under test)
                     if links.read("pairing", path.rsplit("/", 1)[1]).member_id == x)
    page = pages.call("GET", pairing_x)
    assert {"name-y", "headline-y"} <= shown(page), shown(page)
    reasons = shown(page) & set(SHORT)
    assert reasons, ("no reason quoted an ask or offer", page)
    pages.call("POST", pairing_x, {"action": "confirm"})
    page = pages.call("POST", pairing_x, {"action": "feedback", "met": "yes", "rating": "5", "note": FIELDS["note"]})
    assert "note" in shown(page)
    pages.call("POST", pairing_x, {"action": "feedback", "met": "perhaps"}, status=400)
    clock.advance(days=8)
    assert schedules.run_hourly(deps.now())["lunch_followups"] >= 1
    # Both rated it 5: half a year on, each is asked to catch up (the reconnect page and mail)
    pairing_y = next(path for path in intro_links if links.read("pairing", path.rsplit("/", 1)[1]).member_id == y)
    pages.call("POST", pairing_y, {"action": "feedback", "met": "yes", "rating": "5"})
    before = clock()
    clock.advance(days=190)
    assert schedules.run_hourly(deps.now())["lunch_reconnects"] == 1
    asks = [RECONNECT_LINK.search(m.get_body(("plain",)).get_content()).group(1)  # type: ignore[union-attr]
            for p, m in mail_files(outbox_dir) if kind_of(p) == "lunch_reconnect"]
    reconnect = {links.read("reconnect", path.rsplit("/", 1)[1]).member_id: path for path in asks}
    page = pages.call("GET", reconnect[x])
    assert {"name-y", "headline-y"} <= shown(page), shown(page)
    pages.call("POST", reconnect[x], {"answer": "yes"})
    pages.call("POST", reconnect[y], {"answer": "perhaps"}, status=400)
    page = pages.call("POST", reconnect[y], {"answer": "yes"})  # both: connected, addresses by mail
    assert "name-x" in shown(page)
    clock.set(before)

    # Email settings, a fresh link for a link that still works, and the introduce and offer
    # pages (issues 12 and 14): X met Y, so X's introduce page names Y; an unknown offer is 404
    settings_x = urlsplit(links.settings_url(gid, x)).path
    assert "name-x" in shown(pages.call("GET", settings_x))
    pages.call("POST", settings_x, {"email": "on", "meetups": "on", "lunch": "on", "paused_until": ""})
    pages.call("POST", settings_x, {"email": "on", "meetups": "maybe", "lunch": "on"}, status=400)
    pages.call("POST", urlsplit(links.renew_url("lunch", lunch_x.rsplit("/", 1)[1])).path)
    introduce_x = urlsplit(links.introduce_url(gid, x)).path
    assert "name-y" in shown(pages.call("GET", introduce_x))
    pages.call("POST", introduce_x, {"member_ids": [y], "note": "too short"}, status=400)
    offer = urlsplit(links.offer_url(gid, "int_" + "0" * 26, x, clock() + timedelta(days=14))).path
    pages.call("GET", offer, status=404)
    pages.call("POST", offer, {"answer": "yes"}, status=404)
    # "Did you meet them?" after a meetup (issue 14, part 3): Y was suggested to X there
    deps.store().meetup_people.record(gid, meetup["meetup_id"], {x: [y]}, {}, clock())
    met_x = urlsplit(links.met_url(gid, meetup["meetup_id"], x)).path
    assert {"name-y", "headline-y", "title"} <= shown(pages.call("GET", met_x))
    pages.call("POST", met_x, {"who": x}, status=400)
    assert "name-y" in shown(pages.call("POST", met_x, {"who": y}))

    # Unsubscribe, and the error pages: tampered (403), expired (410), gone member (404)
    unsub_y = urlsplit(links.unsubscribe_url(gid, y)).path
    pages.call("GET", unsub_y)
    pages.call("POST", unsub_y, {"List-Unsubscribe": "One-Click"})
    for path in (rsvp[x], lunch_x, pairing_x, reconnect[x], unsub_y):
        tampered = path[:-4] + ("A" if path[-4] != "A" else "B") + path[-3:]
        pages.call("GET", tampered, status=403)
        pages.call("POST", tampered, {"answer": "going"}, status=403)
    pages.call("GET", rsvp[x] + "A/meetup.ics", status=403)
    clock.advance(days=500)
    pages.call("GET", rsvp[x], status=410)
    pages.call("GET", unsub_y, status=410)
    clock.advance(days=-500)
    assert org.delete(f"members/{x}").status_code == 204
    pages.call("GET", lunch_x, status=404)

    # Every member page route was fetched, with each kind of error page, and every field shown
    assert pages.routes == member_page_routes(), member_page_routes() - pages.routes
    assert {200, 400, 403, 404, 409, 410} <= pages.statuses
    assert {"sender", "title", "description", "venue", "address", "name-x", "name-y", "headline-y", "note",
            "city", "interests", "offers-x", "asks-x"} <= pages.fields, pages.fields

    # Mail: every HTML part safe and showing the payloads its text part shows, verbatim
    files = mail_files(outbox_dir)
    kinds: set[str] = set()
    in_mail: set[str] = set()
    for path, msg in files:
        where = f"{path.name} -> {msg['To']}"
        # a display name full of specials must not turn into other addresses (header folding)
        assert [a.addr_spec for a in msg["To"].addresses] in (
            ["x@example.com"], ["y@example.com"], ["organizer@example.com"]), where  # the organizer: issue 16
        assert [a.addr_spec for a in msg["From"].addresses] == [deps.settings().sender_email], (where, msg["From"])
        html_part, text_part = msg.get_body(("html",)), msg.get_body(("plain",))
        assert html_part is not None and text_part is not None, where
        html_text = safe_html(html_part.get_content(), where)
        text = text_part.get_content()
        for escaped in ("&lt;", "&gt;", "&amp;", "&#34;", "&#39;", "&quot;"):
            assert escaped not in text, (where, "escaped in the text part", escaped)
        in_text, in_html = shown(text), shown(html_text)
        assert in_text <= in_html, (where, "in the text part but not (escaped once) in HTML", in_text - in_html)
        in_mail |= in_html
        kinds.add(kind_of(path))
    assert {"rsvp_invite", "rsvp_confirmation", "rsvp_promoted", "meetup_updated", "meetup_reminder",
            "meetup_cancelled", "lunch_invite", "lunch_intro", "lunch_followup", "lunch_reconnect",
            "lunch_connected"} <= kinds, kinds
    assert {"sender", "title", "description", "venue", "address", "name-x", "name-y", "headline-y"} <= in_mail, in_mail
    assert in_mail & set(SHORT), ("no intro quoted an ask or offer", in_mail)
    print(f"\nescaping: {len(FIELDS) + 1} fields with payloads, {len(pages.routes)} page routes, "
          f"statuses {sorted(pages.statuses)}, {len(files)} emails of {len(kinds)} kinds checked")
