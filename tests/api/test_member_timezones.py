"""Member time zones through HTTP on moto: set through the API and the preferences page, and
virtual members paired only when their slots overlap in real time (within 2 hours)."""

from __future__ import annotations

from typing import Any

from chalicelib import deps, links
from tests.api.test_lunch_api import PROGRAM, path_of, post_form, run_round

# The org fixture's group is in Europe/Lisbon; the clock starts on Monday 2 November 2026,
# when Lisbon and London are on UTC+0 and Chicago on UTC-6.


def add_virtual(org: Any, zones: dict[str, str | None], slot: str = "tue-lunch") -> dict[str, str]:
    """Members named after their city, each virtual with one slot: name -> member id."""
    people = [{"email": f"{name.lower()}@example.com", "name": f"{name} Person",
               **({"timezone": zone} if zone else {})} for name, zone in zones.items()]
    r = org.post("members", {"members": people})
    assert r.status_code == 201, r.data
    ids = {m["name"].split()[0]: m["member_id"] for m in r.data["created"]}
    for mid in ids.values():
        r = org.patch(f"members/{mid}", {"lunch": {"opted_in": True, "virtual": True, "interests": ["ai"],
                                                   "availability": [slot]}})
        assert r.status_code == 200, r.data
    return ids


def stored_pairs(org: Any, round_id: str) -> list[Any]:
    return deps.store().lunch.pairs_of_round(org.group_id, round_id)


def test_virtual_lunch_in_lisbon_and_chicago_is_not_a_common_slot(org: Any) -> None:
    org.call("PUT", "lunch-program", PROGRAM)
    add_virtual(org, {"Lisbon": None, "Chicago": "America/Chicago"})  # Lisbon: the group's zone
    detail = run_round(org)
    assert detail["pairs"] == []
    assert detail["outcome"] == "nobody has a common slot"


def test_lisbon_pairs_with_london_and_chicago_sits_out(org: Any) -> None:
    org.call("PUT", "lunch-program", PROGRAM)
    ids = add_virtual(org, {"Lisbon": None, "London": "Europe/London", "Chicago": "America/Chicago"})
    detail = run_round(org)
    assert [sorted(p["member_ids"]) for p in detail["pairs"]] == [sorted([ids["Lisbon"], ids["London"]])]
    assert detail["pairs"][0]["slot"] == "tue-lunch"
    assert [s["member_id"] for s in detail["sat_out"]] == [ids["Chicago"]]
    [pair] = stored_pairs(org, detail["round_id"])
    first = min(pair.member_ids)
    assert pair.slot_zone == ("Europe/Lisbon" if first == ids["Lisbon"] else "Europe/London")


def test_programme_slot_times_decide_what_overlaps(org: Any) -> None:
    """Lisbon's after-work (18:00 UTC) overlaps Chicago's lunch (18:30 UTC) until the
    programme moves after-work to 21:00."""
    assert org.call("PUT", "lunch-program", PROGRAM).data["slot_times"] == {
        "breakfast": "08:30", "lunch": "12:30", "coffee": "10:30", "after_work": "18:00"}
    lisbon = add_virtual(org, {"Lisbon": None}, slot="tue-after_work")["Lisbon"]
    chicago = add_virtual(org, {"Chicago": "America/Chicago"})["Chicago"]
    detail = run_round(org)
    assert [sorted(p["member_ids"]) for p in detail["pairs"]] == [sorted([lisbon, chicago])]
    [pair] = stored_pairs(org, detail["round_id"])
    assert (pair.slot, pair.slot_zone) == (("tue-after_work", "Europe/Lisbon") if min(pair.member_ids) == lisbon
                                           else ("tue-lunch", "America/Chicago"))
    r = org.call("PUT", "lunch-program", {**PROGRAM, "slot_times": {"after_work": "21:00"}})
    assert r.status_code == 200 and r.data["slot_times"]["after_work"] == "21:00"
    assert r.data["slot_times"]["lunch"] == "12:30"
    r = org.post("lunch-rounds", {"again": True})  # a second manual round the same day
    assert r.status_code == 202, r.data
    detail = org.get(f"lunch-rounds/{r.data['round_id']}").data
    assert detail["pairs"] == [] and detail["outcome"] == "nobody has a common slot"


def test_programme_slot_times_bad_values_are_named(org: Any) -> None:
    for times in ({"lunch": "25:00"}, {"brunch": "11:00"}, {"lunch": "noon"}, ["12:30"]):
        r = org.call("PUT", "lunch-program", {**PROGRAM, "slot_times": times})
        assert r.status_code == 400, (times, r.data)
        assert r.data["error"]["field"] == "slot_times", (times, r.data)
    r = org.call("PUT", "lunch-program", {**PROGRAM, "slot_times": {"lunch": 1230}})
    assert r.status_code == 400 and r.data["error"]["field"].startswith("slot_times")
    assert org.get("lunch-program").status_code == 404


def test_member_timezone_through_the_api(org: Any) -> None:
    r = org.post("members", {"members": [{"email": "ana@example.com", "name": "Ana", "timezone": "America/Chicago"},
                                         {"email": "ben@example.com", "name": "Ben"}]})
    assert r.status_code == 201
    ana, ben = sorted(r.data["created"], key=lambda m: m["email"])
    assert (ana["timezone"], ben["timezone"]) == ("America/Chicago", None)
    r = org.patch(f"members/{ben['member_id']}", {"timezone": "Asia/Tokyo"})
    assert r.status_code == 200 and r.data["timezone"] == "Asia/Tokyo"
    assert org.get(f"members/{ben['member_id']}").data["timezone"] == "Asia/Tokyo"
    for bad in ("Mars/Olympus", "", 5, "Europe/lisbon"):
        r = org.patch(f"members/{ben['member_id']}", {"timezone": bad})
        assert r.status_code == 400, (bad, r.data)
        assert r.data["error"]["field"] == "timezone", (bad, r.data)
    assert org.get(f"members/{ben['member_id']}").data["timezone"] == "Asia/Tokyo"
    r = org.patch(f"members/{ben['member_id']}", {"timezone": None})  # back to the group's zone
    assert r.status_code == 200 and r.data["timezone"] is None
    r = org.post("members", {"members": [{"email": "cy@example.com", "name": "Cy", "timezone": "Nowhere/Town"}]})
    assert r.status_code == 400 and r.data["error"]["field"].endswith("timezone")


def test_preferences_page_shows_and_saves_the_time_zone(client: Any, org: Any) -> None:
    mid = add_virtual(org, {"Ana": None})["Ana"]
    path = path_of(links.lunch_url(org.group_id, mid))
    page = client.http.get(path).body.decode()
    assert '<label for="timezone">' in page and '<select id="timezone" name="timezone"' in page
    assert '<option value="" selected>Same as the group</option>' in page and "The group's is Europe/Lisbon." in page
    assert '<option value="America/Chicago">' in page
    fields = {"opt_in": "in", "mode": "virtual", "availability": ["tue-lunch"], "timezone": "America/Chicago"}
    r = post_form(client, path, fields)
    assert r.status_code == 200, r.body
    assert '<option value="America/Chicago" selected>' in r.body.decode()
    assert org.get(f"members/{mid}").data["timezone"] == "America/Chicago"
    assert '<option value="America/Chicago" selected>' in client.http.get(path).body.decode()
    # A zone that is not one: shown again, named, nothing saved.
    r = post_form(client, path, {**fields, "timezone": "Mars/Olympus", "availability": ["wed-lunch"]})
    assert r.status_code == 400
    body = r.body.decode()
    assert "Time zone" in body and "wed-lunch" in body
    member = org.get(f"members/{mid}").data
    assert member["timezone"] == "America/Chicago" and member["lunch"]["availability"] == ["tue-lunch"]
    # A form without the field leaves the zone alone; the empty choice means the group's.
    assert post_form(client, path, {"opt_in": "in", "mode": "virtual"}).status_code == 200
    assert org.get(f"members/{mid}").data["timezone"] == "America/Chicago"
    assert post_form(client, path, {**fields, "timezone": ""}).status_code == 200
    assert org.get(f"members/{mid}").data["timezone"] is None
