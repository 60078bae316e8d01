"""Members through HTTP: add one or many, unique emails, list pages, patch, erase, isolation."""

from __future__ import annotations

from typing import Any


def test_add_one_member_normalises_email_and_answers_created(org: Any) -> None:
    r = org.post("members", {"email": "  Ana.Duarte@Example.COM ", "name": "Ana Duarte",
                             "headline": "Founder"})
    assert r.status_code == 201
    assert r.data["existed"] == []
    (ana,) = r.data["created"]
    assert ana["email"] == "ana.duarte@example.com"
    assert ana["member_id"].startswith("mem_")
    assert ana["subscribed"] is True
    assert org.get(f"members/{ana['member_id']}").data["name"] == "Ana Duarte"


def test_email_is_unique_per_group_case_insensitively(org: Any, other_org: Any) -> None:
    first = org.post("members", {"email": "ben@example.com", "name": "Ben"}).data["created"][0]
    again = org.post("members", {"email": "BEN@example.com", "name": "Benjamin"})
    assert again.status_code == 200
    assert again.data["created"] == []
    assert again.data["existed"][0]["member_id"] == first["member_id"]
    assert again.data["existed"][0]["name"] == "Ben"  # nothing overwritten
    # Another group may have the same person.
    assert other_org.post("members", {"email": "ben@example.com", "name": "Ben"}).status_code == 201


def test_bulk_add_reports_created_and_existed(org: Any) -> None:
    org.post("members", {"email": "m0@example.com", "name": "Zero"})
    batch = [{"email": f"m{i}@example.com", "name": f"Member {i}"} for i in range(120)]
    batch.append({"email": "M5@EXAMPLE.com", "name": "Duplicate in the same request"})
    r = org.post("members", {"members": batch})
    assert r.status_code == 201
    assert len(r.data["created"]) == 119
    assert [m["email"] for m in r.data["existed"]] == ["m0@example.com"]
    replay = org.post("members", {"members": batch})
    assert replay.status_code == 200
    assert replay.data["created"] == [] and len(replay.data["existed"]) == 120


def test_bulk_add_validates_every_entry_and_stores_nothing_on_error(org: Any) -> None:
    batch = [{"email": f"ok{i}@example.com", "name": "Ok"} for i in range(3)]
    batch.append({"email": "not-an-email", "name": "Bad"})
    r = org.post("members", {"members": batch})
    assert r.status_code == 400
    assert r.data["error"]["field"] == "members.3.email"
    assert org.get("members").data["items"] == []
    too_many = [{"email": f"x{i}@example.com", "name": "X"} for i in range(501)]
    r = org.post("members", {"members": too_many})
    assert r.status_code == 400 and r.data["error"]["field"] == "members"


def test_member_validation_names_the_field(org: Any) -> None:
    cases = [
        ({"name": "No email"}, "email"),
        ({"email": "a@example.com"}, "name"),
        ({"email": "a@example.com", "name": ""}, "name"),
        ({"email": "a@example.com", "name": "x" * 201}, "name"),
        ({"email": "a@example.com", "name": "A", "role": "admin"}, "role"),
        ({"email": "a@example.com", "name": "A", "lunch": {"goals": ["world domination"]}}, "lunch.goals.0"),
        ({"email": "a@example.com", "name": "A", "lunch": {"availability": ["noon"]}}, "lunch.availability.0"),
    ]
    for body, field in cases:
        r = org.post("members", body)
        assert r.status_code == 400, body
        assert r.data["error"]["field"] == field, (body, r.data)


def test_list_members_pages_through_everyone_once(org: Any) -> None:
    org.post("members", {"members": [{"email": f"p{i:02}@example.com", "name": f"P{i}"} for i in range(7)]})
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        path = "members?limit=3" + (f"&cursor={cursor}" if cursor else "")
        r = org.get(path)
        assert r.status_code == 200
        seen += [m["email"] for m in r.data["items"]]
        pages += 1
        cursor = r.data["next_cursor"]
        if cursor is None:
            break
    assert pages >= 3
    assert sorted(seen) == [f"p{i:02}@example.com" for i in range(7)]


def test_bad_limits_and_cursors_are_400(org: Any, other_org: Any) -> None:
    for limit in ("0", "201", "abc", "-1"):
        r = org.get(f"members?limit={limit}")
        assert r.status_code == 400 and r.data["error"]["field"] == "limit"
    assert org.get("members?cursor=garbage").data["error"]["field"] == "cursor"
    # A real cursor from another group's list is refused: it cannot read their members.
    other_org.post("members", {"members": [{"email": f"o{i}@example.com", "name": "O"} for i in range(3)]})
    theirs = other_org.get("members?limit=1").data["next_cursor"]
    r = org.get(f"members?limit=1&cursor={theirs}")
    assert r.status_code == 400 and r.data["error"]["field"] == "cursor"


def test_patch_member_and_lunch_preferences(org: Any) -> None:
    mid = org.post("members", {"email": "c@example.com", "name": "Carla"}).data["created"][0]["member_id"]
    r = org.patch(f"members/{mid}", {"headline": "Designer",
                                     "lunch": {"opted_in": True, "city": "Lisbon",
                                               "interests": ["Design", "design", " UX "],
                                               "availability": ["tue-lunch"]}})
    assert r.status_code == 200
    assert r.data["headline"] == "Designer"
    assert r.data["lunch"]["opted_in"] is True
    assert r.data["lunch"]["interests"] == ["design", "ux"]
    r = org.patch(f"members/{mid}", {"lunch": {"asks": "x" * 81}})  # asks are short phrases
    assert r.status_code == 400 and r.data["error"]["field"] == "lunch.asks.0"
    r = org.patch(f"members/{mid}", {"lunch": {"asks": ["a", "b", "c", "d", "e", "f"]}})
    assert r.status_code == 400 and r.data["error"]["field"] == "lunch.asks"
    assert org.get(f"members/{mid}").data["lunch"]["asks"] == []
    assert org.patch(f"members/{mid}", {"email": "new@example.com"}).data["error"]["field"] == "email"


def test_delete_member_erases_them(org: Any) -> None:
    mid = org.post("members", {"email": "d@example.com", "name": "Diego"}).data["created"][0]["member_id"]
    assert org.delete(f"members/{mid}").status_code == 204
    assert org.get(f"members/{mid}").status_code == 404
    assert org.delete(f"members/{mid}").status_code == 404
    # The address is free again (the guard went with the member).
    assert org.post("members", {"email": "d@example.com", "name": "Diego"}).status_code == 201


def test_another_groups_key_cannot_see_or_touch_members(org: Any, other_org: Any) -> None:
    mid = org.post("members", {"email": "e@example.com", "name": "Eva"}).data["created"][0]["member_id"]
    for method, path, body in [("GET", f"members/{mid}", None), ("PATCH", f"members/{mid}", {"name": "X"}),
                               ("DELETE", f"members/{mid}", None), ("GET", "members", None),
                               ("POST", "members", {"email": "z@example.com", "name": "Z"})]:
        r = org.call(method, f"{org.base}/{path}", body, key=other_org.api_key)
        assert r.status_code == 404, (method, path)
    assert org.get(f"members/{mid}").data["name"] == "Eva"
    assert [m["email"] for m in org.get("members").data["items"]] == ["e@example.com"]
    # And their own key on their own group sees none of ours.
    assert other_org.get(f"{other_org.base}/members/{mid}").status_code == 404
