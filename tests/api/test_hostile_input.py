"""Hostile input: generated paths, query strings, bodies and content types on every route of the
app (read from the app itself, so a new route is covered the day it lands) never get a 500.

The CI profile sends at least 2,000 requests; `HYPOTHESIS_PROFILE=long` sends 10,000.
"""

from __future__ import annotations

import json
import os
import re
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import app
from chalicelib import deps, links

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "0")) or (10_000 if os.environ.get("HYPOTHESIS_PROFILE") == "long" else 2_000)
COUNTER = {"requests": 0}

ROUTES = sorted((path, method) for path, methods in app.routes.items() for method in methods)
PARAM = re.compile(r"{(\w+)}")

# Plausible bodies per route ending, so generated changes reach past the first check.
SAMPLES: dict[str, Any] = {
    "/members": {"email": "x@example.com", "name": "X", "headline": "h",
                 "lunch": {"opted_in": True, "city": "lisbon", "interests": ["a"], "goals": ["learn"],
                           "availability": ["tue-lunch"]}},
    "/meetups": {"title": "T", "starts_at": "2026-12-01T10:00:00", "ends_at": "2026-12-01T11:00:00",
                 "timezone": "Europe/Lisbon", "venue": {"name": "V", "address": "A"}, "capacity": 3,
                 "guests_allowed": 1},
    "/lunch-program": {"enabled": True, "cadence": "weekly", "weekday": "tue", "local_hour": 10,
                       "repeat_window": 3, "odd_rule": "trio"},
    "/invitations": {"member_ids": []},
    "/{group_id}": {"name": "G", "timezone": "UTC", "sender_name": "S"},
    "/{member_id}": {"name": "N", "headline": "H", "subscribed": True},
    "/{meetup_id}": {"title": "T2", "capacity": 5},
}
FORM_SAMPLE = {"answer": "going", "status": "going", "guests": "1", "opt_in": "in", "action": "confirm",
               "List-Unsubscribe": "One-Click", "email": "fuzz@example.com", "name": "Fuzz", "lunch": "1",
               "mode": "virtual"}

NASTY = ["", " ", "null", "0", "-1", "1e309", "NaN", "true", "[]", "{}", "\x00", "\u202e", "<script>x</script>",
         "' OR 1=1 --", "../../etc/passwd", "%00", "a" * 5000, "😀" * 100, "GROUP#x", "\r\nX-Injected: 1"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=300),
                    st.sampled_from(NASTY))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=20), inner, max_size=5)), max_leaves=20)


def mutate(sample: Any) -> st.SearchStrategy[Any]:
    """A sample body with some fields replaced, dropped or added."""
    if not isinstance(sample, dict):
        return json_values
    keys = sorted(sample)
    return st.fixed_dictionaries({}, optional={k: st.one_of(st.just(sample[k]), json_values) for k in keys}).flatmap(
        lambda d: st.dictionaries(st.sampled_from([*keys, "extra", "__proto__"]), json_values, max_size=2).map(
            lambda extra: {**d, **extra}))


def body_for(path: str) -> st.SearchStrategy[bytes]:
    sample = next((v for k, v in SAMPLES.items() if path.endswith(k)), {})
    return st.one_of(
        mutate(sample).map(lambda v: json.dumps(v).encode()),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=300),
        st.sampled_from([b"", b"{", b"[" * 3000 + b"]" * 3000, b'{"a":' * 500 + b"1" + b"}" * 500,
                         b"\x00\xff\xfe", json.dumps({"title": "x" * 1_100_000}).encode()]),
        st.dictionaries(st.sampled_from(sorted(FORM_SAMPLE)), st.one_of(st.sampled_from(list(FORM_SAMPLE.values())),
                                                                        st.text(max_size=50)),
                        max_size=6).map(lambda d: urlencode(d).encode()),
    )


@pytest.fixture
def world(org: Any, clock: Any) -> dict[str, str]:
    """One group with a member and a meetup, and real member links, for ids worth aiming at."""
    member = org.post("members", {"email": "fuzz@example.com", "name": "Fuzz"}).data["created"][0]
    meetup = org.post("meetups", SAMPLES["/meetups"]).data
    gid, mid, tid = org.group_id, member["member_id"], meetup["meetup_id"]
    ends = clock() + timedelta(days=40)
    return {
        "group_id": gid, "member_id": mid, "meetup_id": tid, "api_key": org.api_key,
        "rsvp": links.rsvp_url(gid, tid, mid, ends).rsplit("/", 1)[1],
        "lunch": links.lunch_url(gid, mid).rsplit("/", 1)[1],
        "unsubscribe": links.unsubscribe_url(gid, mid).rsplit("/", 1)[1],
        "pairing": links.pairing_url(gid, "par_" + "0" * 26, mid).rsplit("/", 1)[1],
        "welcome": _welcome_token(gid, clock()),
    }


def _welcome_token(group_id: str, now: Any) -> str:
    """A real join confirmation (for a new address), so generated POSTs reach past the link check."""
    from chalicelib.store import keys
    from chalicelib.store.public import Signup

    signup = Signup(signup_id="sgn_" + "0" * 26, group_id=group_id, email="newcomer@example.com", name="New",
                    created_at=now, expires_at=now + timedelta(days=7))
    deps.store().public.add_signup(signup)
    return links.welcome_url(group_id, keys.address_id(signup.email), signup.signup_id,
                             signup.expires_at).rsplit("/", 1)[1]


def param_value(name: str, path: str, world: dict[str, str]) -> st.SearchStrategy[str]:
    real = world.get(name)
    if name == "token":
        purpose = path.strip("/").split("/")[0]
        real = world.get(purpose, world["rsvp"])
    junk = st.one_of(st.text(alphabet=st.characters(blacklist_characters="/?#", blacklist_categories=["Cs"]),
                             min_size=1, max_size=100), st.sampled_from([n for n in NASTY if n]))
    if real is None:
        return junk.map(lambda v: quote(v, safe=""))
    return st.one_of(st.just(real), st.just(real), junk.map(lambda v: quote(v, safe="")),
                     st.integers(0, len(real) - 1).map(lambda i: real[:i] + ("A" if real[i] != "A" else "B") + real[i + 1:]))


@st.composite
def requests(draw: st.DrawFn, world: dict[str, str]) -> tuple[str, str, dict[str, str], bytes]:
    template, method = draw(st.sampled_from(ROUTES))
    if draw(st.integers(0, 9)) == 0:
        method = draw(st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]))
    path = PARAM.sub(lambda m: draw(param_value(m.group(1), template, world)), template)
    query = draw(st.dictionaries(st.sampled_from(["limit", "cursor", "status", "when", "answer", "do", "x"]),
                                 st.one_of(st.sampled_from(["1", "200", "0", "-5", "going", "past", "abc"]),
                                           st.text(max_size=40)), max_size=3))
    if query:
        path += "?" + urlencode(query)
    headers = {"Content-Type": draw(st.sampled_from([
        "application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x",
        "application/json; charset=utf-16", "garbage"]))}
    auth = draw(st.sampled_from(["real", "real", "real", "none", "junk"]))
    if auth == "real":
        headers["Authorization"] = f"Bearer {world['api_key']}"
    elif auth == "junk":
        headers["Authorization"] = draw(st.sampled_from(["Bearer ", "Bearer pl.key_x.y", "Basic Zm9v", "Bearer " + "a" * 3000]))
    body = draw(body_for(template)) if method in ("POST", "PUT", "PATCH") else b""
    return method, path, headers, body


def test_no_generated_request_gets_a_500(client: Any, world: dict[str, str]) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(request=requests(world))
    def one(request: tuple[str, str, dict[str, str], bytes]) -> None:
        method, path, headers, body = request
        COUNTER["requests"] += 1
        response = client.http.request(method, path, headers=headers, body=body)
        assert response.status_code < 500, (method, path, headers, body[:200], response.body[:500])
        if response.status_code >= 400 and path.startswith("/groups/"):
            error = json.loads(response.body)["error"]
            assert error["code"] and error["message"]

    one()
    assert COUNTER["requests"] >= EXAMPLES
    deps.reset()
