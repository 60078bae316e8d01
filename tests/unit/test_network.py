"""The relationship network, pure: who met, betweenness, layout, SVG."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import rustworkx as rx

from chalicelib import network
from chalicelib.models import LunchPair, PairFeedback
from chalicelib.store.intros import Intro

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"


def pair(*members: str, responses: dict[str, str] | None = None,
         feedback: dict[str, dict[str, object]] | None = None, n: int = 0) -> LunchPair:
    return LunchPair(pair_id=f"lpr_{'_'.join(members)}_{n}", round_id="lrd_x", group_id="grp_x",
                     member_ids=list(members), responses=responses or {},
                     feedback={m: PairFeedback(at=AT, **f) for m, f in (feedback or {}).items()},  # type: ignore[arg-type]
                     created_at=AT)


def met(*members: str, n: int = 0) -> LunchPair:
    return pair(*members, responses=dict.fromkeys(members, "confirmed"), n=n)


def names(*ids: str) -> dict[str, str]:
    return {m: f"Name {m}" for m in ids}


def test_a_lunch_counts_when_someone_said_they_met_or_everyone_confirmed() -> None:
    found = network.meetings([
        met("a", "b"),  # everyone confirmed
        pair("c", "d", responses={"c": "confirmed"}),  # only one confirmed: not yet
        pair("e", "f", feedback={"e": {"met": True}}),  # someone said so
        pair("g", "h", responses={"g": "confirmed", "h": "confirmed"}, feedback={"g": {"met": False}}),
        pair("i", "j", "k", feedback={"i": {"met": True, "no_show": ["k"]}}),  # k didn't come
    ])
    assert found.edges == {("a", "b"): 1, ("e", "f"): 1, ("i", "j"): 1}
    assert found.lunches == {"a": 1, "b": 1, "e": 1, "f": 1, "i": 1, "j": 1}


def test_never_met_members_are_listed_by_name_and_not_drawn() -> None:
    members = {"a": "Ana", "b": "Bo", "c": "Cy", "z": "Al"}
    built = network.build(members, network.meetings([met("a", "b"), met("a", "b", n=1)]))
    assert [n.member_id for n in built.nodes] == ["a", "b"]
    assert built.never_met == (("z", "Al"), ("c", "Cy"))
    assert built.edges == (("a", "b", 2),)
    assert [n.lunches for n in built.nodes] == [2, 2]


def test_edges_to_members_who_left_are_dropped() -> None:
    built = network.build(names("a", "b"), network.meetings([met("a", "b"), met("a", "gone")]))
    assert built.edges == (("a", "b", 1),)
    assert {n.member_id: n.partners for n in built.nodes} == {"a": 1, "b": 1}


def _barbell() -> tuple[dict[str, str], list[LunchPair]]:
    """Two cliques of five joined through one member, "bridge"."""
    left = [f"l{i}" for i in range(5)]
    right = [f"r{i}" for i in range(5)]
    lunches = [met(a, b) for side in (left, right) for i, a in enumerate(side) for b in side[i + 1:]]
    lunches += [met("l0", "bridge"), met("bridge", "r0")]
    return names(*left, *right, "bridge"), lunches


def test_betweenness_picks_the_bridge_of_a_barbell() -> None:
    members, lunches = _barbell()
    built = network.build(members, network.meetings(lunches), connectors=3)
    assert built.connectors[0] == "bridge"
    assert set(built.connectors[1:]) == {"l0", "r0"}  # the bridge's two ends come next
    assert [n.member_id for n in built.nodes if n.connector] == sorted(built.connectors,
                                                                       key=[n.member_id for n in built.nodes].index)
    assert not built.sampled


@pytest.mark.parametrize("n,m", [(40, 80), (150, 400)])
def test_exact_betweenness_equals_rustworkx(n: int, m: int) -> None:
    rng = random.Random(n)
    edges: set[tuple[int, int]] = set()
    while len(edges) < m:
        a, b = rng.randrange(n), rng.randrange(n)
        if a != b:
            edges.add((min(a, b), max(a, b)))
    ordered = sorted(edges)
    graph = rx.PyGraph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from_no_data(ordered)
    expected = rx.betweenness_centrality(graph)
    mine, sampled = network.betweenness(n, np.array([a for a, _ in ordered]), np.array([b for _, b in ordered]))
    assert not sampled
    assert np.allclose(mine, [expected[i] for i in range(n)], atol=1e-12)


def test_sampled_betweenness_still_finds_the_bridge() -> None:
    """Above the pivot count the figure is estimated; a bridge between two big clusters still leads."""
    rng = random.Random(5)
    members: dict[str, str] = {}
    lunches = []
    for side in ("l", "r"):
        ids = [f"{side}{i}" for i in range(200)]
        members.update(names(*ids))
        for i, a in enumerate(ids):
            for b in rng.sample(ids[:i] + ids[i + 1:], 3):
                lunches.append(met(a, b))
    members.update(names("bridge"))
    lunches += [met("l0", "bridge"), met("bridge", "r0")]
    built = network.build(members, network.meetings(lunches))
    assert built.sampled
    # l0 and r0 carry every path the bridge does, and their own side's too
    assert set(built.connectors[:3]) == {"l0", "bridge", "r0"}


def test_the_layout_is_the_same_every_time_and_inside_the_view() -> None:
    members, lunches = _barbell()
    first = network.build(members, network.meetings(lunches))
    again = network.build(members, network.meetings(list(reversed(lunches))))
    assert [(n.member_id, n.x, n.y) for n in first.nodes] == [(n.member_id, n.x, n.y) for n in again.nodes]
    for n in first.nodes:
        assert network.MARGIN <= n.x <= network.SVG_SIZE - network.MARGIN
        assert network.MARGIN <= n.y <= network.SVG_SIZE - network.MARGIN
    assert len({(round(n.x), round(n.y)) for n in first.nodes}) == len(first.nodes)  # nobody on top of another


def test_a_large_network_places_everyone_outside_the_force_core_too() -> None:
    rng = random.Random(9)
    ids = [f"m{i:04d}" for i in range(900)]
    lunches = [met(a, rng.choice(ids[:i])) for i, a in enumerate(ids) if i]
    lunches += [met("x1", "x2")]  # a pair who only met each other: their own cluster
    built = network.build(names(*ids, "x1", "x2"), network.meetings(lunches))
    assert len(built.nodes) == 902
    xs = np.array([[n.x, n.y] for n in built.nodes])
    assert np.isfinite(xs).all()
    assert xs.min() >= network.MARGIN and xs.max() <= network.SVG_SIZE - network.MARGIN
    assert len({(round(n.x), round(n.y)) for n in built.nodes}) > 850


def test_svg_is_well_formed_with_one_circle_per_member_who_met_someone() -> None:
    members, lunches = _barbell()
    members["loner"] = "Lonely <Ann> & Co"
    members["bridge"] = 'Bridge "B" <script>'
    built = network.build(members, network.meetings(lunches))
    markup = network.svg(built)
    root = ET.fromstring(markup)
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") == "0 0 1000 1000" and root.get("width") == "100%"
    assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}desc") is not None
    circles = root.iter(f"{SVG}circle")
    titles = sorted(c.find(f"{SVG}title").text or "" for c in circles)  # type: ignore[union-attr]
    assert len(titles) == 11  # everyone but the loner
    assert 'Bridge "B" <script>: 2 lunches' in titles
    assert "Lonely" not in markup and "<script>" not in markup
    connectors = [c for c in root.iter(f"{SVG}circle") if c.get("fill") == "#e07b00"]
    assert len(connectors) == 3  # the bridge and its two ends: nobody else lies between others
    assert "style" not in markup  # the pages' CSP allows no inline style


def test_a_small_network_draws_circles_big_enough_to_see_and_a_big_one_keeps_its_scale() -> None:
    two = network.svg(network.build(names("a", "b"), network.meetings([met("a", "b")])))
    radii = [float(c.get("r") or 0) for c in ET.fromstring(two).iter(f"{SVG}circle")]
    assert len(radii) == 2 and min(radii) >= 24  # a new group's first lunch: two circles, not two specks
    assert network.radius(0, 100) == 12.0 and network.radius(4, 2) == 27.2 and network.radius(0, 3600) == 2.0
    for n in (1, 2, 25, 100, network.DRAWN_NODES):
        sizes = [network.radius(lunches, n) for lunches in range(200)]
        assert sizes == sorted(sizes) and sizes[-1] <= network.MARGIN  # more lunches, larger; never past the edge


def test_json_names_the_connectors_and_never_met() -> None:
    members, lunches = _barbell()
    members["loner"] = "Loner"
    out = network.build(members, network.meetings(lunches)).out()
    assert out["connectors"][0] == {"member_id": "bridge", "name": "Name bridge"}  # type: ignore[index]
    assert out["never_met"] == [{"member_id": "loner", "name": "Loner"}]
    assert len(out["nodes"]) == 11 and len(out["edges"]) == 22  # type: ignore[arg-type]


def test_an_empty_group_has_an_empty_network() -> None:
    built = network.build({}, network.meetings([]))
    assert built.nodes == () and built.edges == () and built.connectors == ()
    root = ET.fromstring(network.svg(built))
    assert list(root.iter(f"{SVG}circle")) == []


# ---------------------------------------------------------------- introductions: edges of their own kind


def intro(a: str, b: str, status: str = "connected", connector: str = "g", n: int = 0) -> Intro:
    return Intro(intro_id=f"int_{a}{b}{n}", group_id="grp_x", connector_id=connector, member_ids=sorted((a, b)),
                 note="You two should meet, really.", status=status,  # type: ignore[arg-type]
                 created_at=AT + timedelta(days=n), expires_at=AT + timedelta(days=n + 14))


def test_only_introductions_both_said_yes_to_are_edges_the_first_one_counting() -> None:
    found = network.introductions([
        intro("b", "a", connector="g", n=2), intro("a", "b", connector="h", n=1),  # the earlier: h
        intro("c", "d", status="declined"), intro("e", "f", status="open"), intro("x", "y", status="expired"),
        intro("p", "q", connector="organizer")])
    assert found == {("a", "b"): "h", ("p", "q"): "organizer"}


def test_intro_edges_have_their_own_kind_and_introduced_members_are_no_longer_never_met() -> None:
    members = {"a": "Ana", "b": "Ben", "c": "Cy", "d": "Di", "g": "Grace", "z": "Zoe"}
    built = network.build(members, network.meetings([met("a", "b"), met("a", "g")]),
                          network.introductions([intro("b", "c", connector="g"), intro("a", "b", connector="organizer"),
                                                 intro("c", "gone")]))
    assert built.edges == (("a", "b", 1), ("a", "g", 1))  # lunches unchanged
    assert [(e.a, e.b, e.connector_id, e.connector_name) for e in built.intro_edges] == [
        ("a", "b", "organizer", "the organizers"), ("b", "c", "g", "Grace")]
    assert {n.member_id: (n.lunches, n.partners) for n in built.nodes} == {
        "a": (2, 2), "b": (1, 2), "c": (0, 1), "g": (1, 1)}  # a-b is one link, lunch and intro
    assert built.never_met == (("d", "Di"), ("z", "Zoe"))
    out = built.out()
    assert out["edges"] == [
        {"a": "a", "b": "b", "kind": "lunch", "lunches": 1, "connector_id": None},
        {"a": "a", "b": "g", "kind": "lunch", "lunches": 1, "connector_id": None},
        {"a": "a", "b": "b", "kind": "intro", "lunches": 0, "connector_id": "organizer"},
        {"a": "b", "b": "c", "kind": "intro", "lunches": 0, "connector_id": "g"}]


def test_an_introduction_that_bridges_two_groups_makes_a_connector() -> None:
    left = [f"l{i}" for i in range(5)]
    right = [f"r{i}" for i in range(5)]
    lunches = [met(a, b) for side in (left, right) for i, a in enumerate(side) for b in side[i + 1:]]
    members = names(*left, *right)
    alone = network.build(members, network.meetings(lunches), connectors=2)
    assert alone.connectors == ()  # two cliques: nobody lies between others
    bridged = network.build(members, network.meetings(lunches), network.introductions([intro("l0", "r0")]),
                            connectors=2)
    assert set(bridged.connectors) == {"l0", "r0"}


def test_svg_draws_intros_dashed_with_who_made_them_and_says_so_in_words() -> None:
    members, lunches = _barbell()
    members["g"] = 'Grace <"G">'
    built = network.build(members, network.meetings(lunches),
                          network.introductions([intro("l1", "r1", connector="g")]))
    markup = network.svg(built)
    root = ET.fromstring(markup)
    groups = [g for g in root.iter(f"{SVG}g") if g.get("stroke-dasharray")]
    assert len(groups) == 1 and groups[0].get("stroke") == network.INTRO_COLOUR
    (dashed,) = groups[0].iter(f"{SVG}path")
    assert dashed.findtext(f"{SVG}title") == 'Name l1 and Name r1, introduced by Grace <"G">'
    solid = root.findall(f"{SVG}path")  # the lunches: straight under <svg>
    assert solid and all(p.get("stroke-dasharray") is None and p.get("stroke") == network.LUNCH_COLOUR
                         for p in solid)
    desc = root.findtext(f"{SVG}desc") or ""
    assert "solid grey lines" in desc and "1 introduction by a member or the organizers" in desc
    assert "dashed purple lines" in desc and "style" not in markup


def _random_lunches(members: int, lunches: int, seed: int = 5) -> list[LunchPair]:
    rng = random.Random(seed)
    found = []
    for n in range(lunches):
        a, b = rng.sample(range(members), 2)
        found.append(met(f"m{a:03d}", f"m{b:03d}", n=n))
    return found


def test_a_network_bigger_than_the_cap_draws_that_many_and_keeps_the_lists_whole() -> None:
    members = names(*(f"m{i:03d}" for i in range(60)), *(f"z{i}" for i in range(10)))  # z*: never met
    lunches = (_random_lunches(60, 150) + [met("m001", "m002", n=900 + k) for k in range(4)]
               + [met(f"m{i:03d}", f"m{(i + 1) % 60:03d}", n=500 + i) for i in range(60)])  # all 60 met someone
    whole = network.build(members, network.meetings(lunches))
    built = network.build(members, network.meetings(lunches), drawn=20, drawn_edges=15)
    drawn = {n.member_id for n in built.nodes}
    assert len(built.nodes) == 20 and built.cut
    assert built.connectors == whole.connectors and set(built.connectors) <= drawn  # of the whole group, drawn
    assert built.drawn_edges == 15
    assert all(a in drawn and b in drawn for a, b, _ in built.edges)
    # The strongest links between drawn members are kept: none left out had more lunches.
    left_out = [w for (a, b), w in network.meetings(lunches).edges.items()
                if a in drawn and b in drawn and (a, b, w) not in built.edges]
    assert min(w for _, _, w in built.edges) >= max(left_out)
    assert built.never_met == whole.never_met and len(built.never_met) == 10  # the list stays whole
    assert built.totals == whole.totals
    assert built.totals.nodes == 60 and built.totals.members == 70
    assert built.totals.edges == len(whole.edges) and built.totals.lunches == 214
    # The picture says what it shows.
    root = ET.fromstring(network.svg(built))
    assert len(list(root.iter(f"{SVG}circle"))) == 20
    desc = root.find(f"{SVG}desc")
    assert desc is not None and (desc.text or "").startswith(
        f"Showing the 20 most connected of the 60 members who have met someone, and 15 of the {built.totals.edges}")
    out = built.out(never_met=4)
    assert out["truncated"] is True and len(out["nodes"]) == 20 and len(out["edges"]) == 15  # type: ignore[arg-type]
    assert out["never_met"] == [{"member_id": m, "name": n} for m, n in whole.never_met[:4]]
    assert out["totals"] == {"members": 70, "nodes": 60, "edges": built.totals.edges, "never_met": 10}


def test_under_the_cap_nothing_is_cut() -> None:
    members = names(*(f"m{i:03d}" for i in range(30)), "zed")
    built = network.build(members, network.meetings(_random_lunches(30, 60)), drawn=30, drawn_edges=1000)
    assert len(built.nodes) == 30 and not built.cut
    out = built.out()
    assert out["truncated"] is False and out["totals"]["never_met"] == 1  # type: ignore[index]
    assert "Showing" not in network.svg(built)
    assert built.out(never_met=0)["truncated"] is True  # never-met members left out are a cut too


def test_the_drawn_members_hang_together_rather_than_scatter() -> None:
    """20 hosts each lunched with 5 guests, and with a guest of the next host. The 20 hosts met the most
    people but never each other: drawing them alone would be 20 loose dots. The 12 drawn (the
    connectors first, then whoever is linked to the most drawn) are each linked to another drawn member."""
    lunches = []
    for h in range(20):
        lunches += [met(f"h{h:02d}", f"g{h:02d}{k}", n=h * 10 + k) for k in range(5)]
        lunches.append(met(f"h{(h + 1) % 20:02d}", f"g{h:02d}0", n=h * 10 + 9))
    members = names(*(f"h{h:02d}" for h in range(20)), *(f"g{h:02d}{k}" for h in range(20) for k in range(5)))
    built = network.build(members, network.meetings(lunches), drawn=12, drawn_edges=1000)
    assert len(built.nodes) == 12 and set(built.connectors) <= {n.member_id for n in built.nodes}
    ends = {m for a, b, _ in built.edges for m in (a, b)}
    assert ends == {n.member_id for n in built.nodes}


def test_never_met_without_the_graph_is_what_build_lists() -> None:
    members = names("a", "b", "c", "d", "e")
    met_ = network.meetings([met("a", "b"), met("c", "gone")], [("d", "d", 1)])
    assert network.never_met(members, met_) == network.build(members, met_).never_met
    assert [m for m, _ in network.never_met(members, met_)] == ["c", "d", "e"]


def test_long_names_and_many_introductions_do_not_weigh_on_the_picture() -> None:
    """Names may be 200 characters: a hover title keeps the first TITLE_CHARS. Past INTRO_TITLES
    introductions, the rest share one untitled path."""
    ids = [f"m{i:03d}" for i in range(40)]
    members = {m: "Ann " + "x" * 196 for m in ids}
    intros = [intro(ids[i], ids[j]) for i in range(40) for j in range(i + 1, 40)][:network.INTRO_TITLES + 5]
    built = network.build(members, network.meetings([]), network.introductions(intros))
    assert len(built.intro_edges) == network.INTRO_TITLES + 5
    root = ET.fromstring(network.svg(built))
    titled = [p for p in root.iter(f"{SVG}path") if p.find(f"{SVG}title") is not None]
    assert len(titled) == network.INTRO_TITLES + 1
    assert titled[-1].get("d", "").count("M") == 5
    for circle in root.iter(f"{SVG}circle"):
        title = circle.find(f"{SVG}title")
        assert title is not None and (title.text or "").startswith("Ann " + "x" * 55 + "…:")
