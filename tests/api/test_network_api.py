"""GET /groups/{group_id}/network through HTTP on moto: a real round, some lunches confirmed."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib import deps, links, network
from tests.api.test_lunch_api import PROGRAM, add_members, nine_lunched, opt_in_nine, path_of, post_form, run_round


def _count_calls(op: str) -> list[str]:
    seen: list[str] = []
    deps.dynamodb_client().meta.events.register(f"before-call.dynamodb.{op}", lambda **_: seen.append(op))
    return seen


def test_network_has_the_lunches_that_happened(client: Any, org: Any) -> None:
    ids = opt_in_nine(client, org)
    assert org.call("PUT", "lunch-program", PROGRAM).status_code == 201
    detail = run_round(org)
    pairs = detail["pairs"]
    assert len(pairs) == 4  # three pairs and a trio
    store = deps.store()
    # The first pairing: everyone confirms. The second: one says they met. The rest: nothing yet.
    for mid in pairs[0]["member_ids"]:
        store.lunch.respond(org.group_id, pairs[0]["pair_id"], mid, "confirmed")
    store.lunch.respond(org.group_id, pairs[1]["pair_id"], pairs[1]["member_ids"][0], "confirmed")
    happened = [pairs[0]["member_ids"]]
    from chalicelib.models import PairFeedbackIn

    store.lunch.give_feedback(org.group_id, pairs[2]["pair_id"], pairs[2]["member_ids"][0],
                              PairFeedbackIn(met=True, rating=5), deps.now())
    happened.append(pairs[2]["member_ids"])

    queries = _count_calls("Query")
    r = org.get("network")
    assert r.status_code == 200, r.data
    body = r.data
    met = {m for group in happened for m in group}
    assert {n["member_id"] for n in body["nodes"]} == met
    expected_edges = sum(len(g) * (len(g) - 1) // 2 for g in happened)
    assert len(body["edges"]) == expected_edges
    assert {e["lunches"] for e in body["edges"]} == {1}
    names = {n["member_id"]: n["name"] for n in body["nodes"]}
    assert all(name.startswith("Person") for name in names.values())
    assert {m["member_id"] for m in body["never_met"]} == set(ids) - met
    assert all(n["lunches"] == 1 for n in body["nodes"])
    # A page of members, a page of pairs, the group's intros, the pairs who met at meetups: one
    # Query per page, never a Scan (conftest).
    assert len(queries) == 4


def test_network_of_an_empty_group(org: Any) -> None:
    r = org.get("network")
    assert r.status_code == 200
    assert r.data == {"nodes": [], "edges": [], "connectors": [], "never_met": [], "betweenness_sampled": False,
                      "truncated": False, "totals": {"members": 0, "nodes": 0, "edges": 0, "never_met": 0}}


def test_network_needs_the_groups_key(org: Any, other_org: Any) -> None:
    r = org.get("network", key="nope")
    assert r.status_code == 401 and r.data["error"]["code"] == "unauthorized"
    r = org.get(f"/groups/{other_org.group_id}/network")
    assert r.status_code in (401, 404) and "error" in r.data


def test_introductions_both_accepted_are_edges_of_their_own_kind(client: Any, org: Any) -> None:
    """The organizer introduces two pairs; one says yes twice, the other is declined: only the
    first is an edge, of kind "intro", made by the organizer; its two are no longer "never met"."""
    people = [m["member_id"] for m in add_members(org, 4)]
    why = "You both run climate start-ups in Lisbon and keep asking me the same questions."
    made = []
    for a, b in ((people[0], people[1]), (people[2], people[3])):
        r = org.post("intros", {"member_ids": [a, b], "note": why})
        assert r.status_code == 201, r.data
        made.append(deps.store().intros.get(org.group_id, r.data["intro_id"]))
    yes, no = made
    assert yes is not None and no is not None
    for member_id, intro, answer in ((people[0], yes, "yes"), (people[1], yes, "yes"), (people[2], no, "no")):
        page = path_of(links.offer_url(org.group_id, intro.intro_id, member_id, intro.expires_at))
        assert post_form(client, page, {"answer": answer}).status_code == 200
    body = org.get("network").data
    assert body["edges"] == [{"a": min(people[:2]), "b": max(people[:2]), "kind": "intro", "lunches": 0,
                              "connector_id": "organizer"}]
    assert {n["member_id"]: n["lunches"] for n in body["nodes"]} == {people[0]: 0, people[1]: 0}
    assert {m["member_id"] for m in body["never_met"]} == set(people[2:])


def _newcomers(org: Any, n: int) -> list[dict[str, Any]]:
    people = [{"email": f"new{i}@example.com", "name": f"Newcomer {i:02d}"} for i in range(n)]
    r = org.post("members", {"members": people})
    assert r.status_code == 201, r.data
    return sorted(r.data["created"], key=lambda m: (m["name"], m["member_id"]))


def test_a_network_over_the_cap_is_cut_and_says_so(client: Any, org: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nine lunched (three pairs and a trio, all confirmed), five never met; the caps set to 4 members
    drawn and 3 never-met listed: the answer holds that much, says `truncated`, and counts everyone."""
    nine_lunched(client, org)
    newcomers = _newcomers(org, 5)
    whole = org.get("network").data
    assert whole["truncated"] is False and len(whole["nodes"]) == 9 and len(whole["never_met"]) == 5
    monkeypatch.setattr(network, "DRAWN_NODES", 4)
    monkeypatch.setattr(network, "NEVER_MET_LISTED", 3)
    body = org.get("network").data
    assert body["truncated"] is True
    assert body["totals"] == {"members": 14, "nodes": 9, "edges": len(whole["edges"]), "never_met": 5}
    drawn = {n["member_id"] for n in body["nodes"]}
    assert len(drawn) == 4 and {c["member_id"] for c in body["connectors"]} <= drawn
    assert body["connectors"] == whole["connectors"]  # worked out on the whole group
    assert body["edges"] and all(e["a"] in drawn and e["b"] in drawn for e in body["edges"])
    assert body["never_met"] == [{"member_id": m["member_id"], "name": m["name"]} for m in newcomers[:3]]


def test_never_met_a_page_at_a_time(org: Any) -> None:
    newcomers = _newcomers(org, 5)
    seen, cursor, pages = [], None, 0
    while True:
        r = org.get("network/never-met?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert r.status_code == 200, r.data
        seen += r.data["items"]
        pages += 1
        cursor = r.data["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [{"member_id": m["member_id"], "name": m["name"]} for m in newcomers]
    assert org.get("network/never-met").data == {"items": seen, "next_cursor": None}


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "cursor=nope", "cursor=WyJhIl0"])
def test_never_met_refuses_a_bad_limit_or_cursor(org: Any, query: str) -> None:
    r = org.get(f"network/never-met?{query}")
    assert r.status_code == 400, r.data
    assert r.data["error"]["field"] == query.split("=")[0]


def test_never_met_needs_the_groups_key(org: Any, other_org: Any) -> None:
    assert org.get("network/never-met", key="nope").status_code == 401
    r = org.get(f"/groups/{other_org.group_id}/network/never-met")
    assert r.status_code in (401, 404) and "error" in r.data
