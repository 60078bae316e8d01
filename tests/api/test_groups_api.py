"""The group resource and organizer authentication, through HTTP."""

from __future__ import annotations

from typing import Any


def test_get_group_shows_its_settings(org: Any) -> None:
    r = org.get(org.base)
    assert r.status_code == 200
    assert r.data["group_id"] == org.group_id
    assert r.data["name"] == "Lisbon Founders"
    assert r.data["timezone"] == "Europe/Lisbon"
    assert r.data["reply_to"] == "organizer@example.com"


def test_patch_group_changes_only_given_fields(org: Any) -> None:
    r = org.patch(org.base, {"sender_name": "LF Lunches", "timezone": "Europe/Madrid"})
    assert r.status_code == 200
    assert r.data["sender_name"] == "LF Lunches"
    assert r.data["timezone"] == "Europe/Madrid"
    assert org.get(org.base).data["name"] == "Lisbon Founders"


def test_patch_group_names_the_bad_field_and_changes_nothing(org: Any) -> None:
    r = org.patch(org.base, {"timezone": "Mars/Olympus", "name": "X"})
    assert r.status_code == 400
    assert r.data["error"]["field"] == "timezone"
    assert org.get(org.base).data["name"] == "Lisbon Founders"
    r = org.patch(org.base, {"colour": "red"})
    assert r.status_code == 400 and r.data["error"]["field"] == "colour"
    r = org.patch(org.base, {"name": None})
    assert r.status_code == 400 and r.data["error"]["field"] == "name"


def test_missing_malformed_and_wrong_keys_get_401(org: Any) -> None:
    r = org.http.request("GET", org.base, headers={})
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"
    for bad in ("", "Basic abc", "Bearer nope", f"Bearer {org.api_key}x",
                f"Bearer {org.api_key[:-4]}AAAA"):
        r = org.http.request("GET", org.base, headers={"Authorization": bad})
        assert r.status_code == 401, bad


def test_another_groups_key_gets_404_and_changes_nothing(org: Any, other_org: Any) -> None:
    r = org.patch(other_org.base, {"name": "Hijacked"})
    assert r.status_code == 404
    assert other_org.get(other_org.base).data["name"] == "Berlin Builders"


def test_unknown_group_id_shapes_get_404(org: Any) -> None:
    assert org.get("/groups/not-an-id").status_code == 404
    assert org.get("/groups/grp_" + "0" * 26).status_code == 404


def test_wrong_method_and_content_type_answer_json_errors(org: Any) -> None:
    r = org.call("PUT", org.base, {"name": "x"})
    assert r.status_code == 405
    assert r.data["error"]["code"] == "method_not_allowed"
    r = org.call("PATCH", org.base, raw=b"name=x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    assert r.data["error"]["code"] == "unsupported_media_type"


def test_malformed_and_oversized_bodies_are_refused_cleanly(org: Any) -> None:
    r = org.call("PATCH", org.base, raw=b'{"name": ')
    assert r.status_code == 400 and r.data["error"]["field"] == "body"
    r = org.call("PATCH", org.base, raw=b"[1, 2]")
    assert r.status_code == 400 and r.data["error"]["field"] == "body"
    r = org.call("PATCH", org.base, raw=b"[" * 600_000 + b"]" * 600_000)
    assert r.status_code == 413
    r = org.call("PATCH", org.base, raw=b"[" * 50_000 + b"]" * 50_000)
    assert r.status_code == 400
    r = org.patch(org.base, {"name": "a\x00b"})
    assert r.status_code == 400 and r.data["error"]["field"] == "name"
    assert org.get(org.base).data["name"] == "Lisbon Founders"


def test_security_headers_on_every_answer(org: Any) -> None:
    for r in (org.get(org.base), org.get("/groups/nope")):
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "no-referrer"
