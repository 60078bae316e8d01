"""GET /groups/{group_id}/network through HTTP on moto: a real round, some lunches confirmed."""

from __future__ import annotations

from typing import Any

from chalicelib import deps
from tests.api.test_lunch_api import PROGRAM, opt_in_nine, run_round


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
    # A group, a page of members, a page of pairs: one Query per page, never a Scan (conftest).
    assert len(queries) == 2


def test_network_of_an_empty_group(org: Any) -> None:
    r = org.get("network")
    assert r.status_code == 200
    assert r.data == {"nodes": [], "edges": [], "connectors": [], "never_met": [], "betweenness_sampled": False}


def test_network_needs_the_groups_key(org: Any, other_org: Any) -> None:
    r = org.get("network", key="nope")
    assert r.status_code == 401 and r.data["error"]["code"] == "unauthorized"
    r = org.get(f"/groups/{other_org.group_id}/network")
    assert r.status_code in (401, 404) and "error" in r.data
