"""The console's insights page through chalice.test.Client, signed in from the emailed link:
show rate, rounds, members over time and the relationship network, all inline SVG with tables."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from chalicelib import deps, links
from chalicelib import network as network_module
from chalicelib.mail.render import page_csp
from chalicelib.models import PairFeedbackIn, RsvpAnswer
from chalicelib.services import insights, rsvp
from tests.api.console_pages import Console
from tests.api.test_lunch_api import PROGRAM, nine_lunched, opt_in_nine, run_round

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def con(client: Any, org: Any, outbox_dir: Path) -> Console:
    return Console(client, org.group_id, outbox_dir)


def svgs(page: str) -> dict[str, ET.Element]:
    """Every inline <svg> of the page, parsed (so each is well-formed), by its class."""
    found = {}
    for markup in re.findall(r"<svg\b.*?</svg>", page, re.DOTALL):
        root = ET.fromstring(markup)
        found[root.get("class") or ""] = root
    return found


def test_an_empty_group_shows_every_section_with_nothing_yet(con: Console) -> None:
    r = con.get("/insights")
    assert r.status_code == 200, con.text(r)
    page = con.text(r)
    assert r.headers["Content-Security-Policy"] == page_csp() and "script" not in page_csp()
    for heading in ("The relationship network", "Show rate", "Lunch rounds", "Members over time"):
        assert heading in page
    assert "No past meetups yet." in page and "No rounds yet." in page
    assert "0 of your 0 members have met someone at lunch or been introduced. Each circle" in page
    assert "<script" not in page and " style=" not in page


def test_insights_draw_what_happened(con: Console, client: Any, org: Any, clock: Any) -> None:
    ids = opt_in_nine(client, org)
    assert org.call("PUT", "lunch-program", PROGRAM).status_code == 201
    pairs = run_round(org)["pairs"]
    store = deps.store()
    for mid in pairs[0]["member_ids"]:
        store.lunch.respond(org.group_id, pairs[0]["pair_id"], mid, "confirmed")
    store.lunch.give_feedback(org.group_id, pairs[1]["pair_id"], pairs[1]["member_ids"][0],
                              PairFeedbackIn(met=True, rating=4), deps.now())
    met = set(pairs[0]["member_ids"]) | set(pairs[1]["member_ids"])
    # A meetup three members say they are going to; one comes.
    meetup = org.post("meetups", {"title": "Breakfast <b>club</b>", "starts_at": "2026-11-02T09:30:00+00:00",
                                  "ends_at": "2026-11-02T10:30:00+00:00", "timezone": "Europe/Lisbon",
                                  "venue": {"name": "Cafe", "address": "Rua 1"}}).data
    for mid in ids[:3]:
        url = links.rsvp_url(org.group_id, meetup["meetup_id"], mid, clock())
        token = urlsplit(url).path.rsplit("/", 1)[-1]
        rsvp.answer(links.read("rsvp", token), RsvpAnswer(status="going"))
    assert org.post(f"meetups/{meetup['meetup_id']}/rsvps/{ids[0]}/check-in").status_code == 200
    # One member unsubscribes (by the organizer's PATCH): stamped for the members chart.
    assert org.patch(f"members/{ids[8]}", {"subscribed": False}).status_code == 200
    clock.advance(hours=2)  # the meetup is over; the session (12 hours) still open

    r = con.get("/insights")
    assert r.status_code == 200, con.text(r)
    page = con.text(r)
    two_met = sum(len(p["member_ids"]) * (len(p["member_ids"]) - 1) // 2 for p in pairs[:2])  # a trio: three
    assert (f"{len(met)} of your 9 members have met someone at lunch or been introduced: {two_met} pairs of members"
            " met at lunch. Each circle") in " ".join(page.split())
    charts = svgs(page)
    assert len(re.findall(r"<svg\b", page)) == 4 and "network" in charts
    network = charts["network"]
    assert network.get("viewBox") == "0 0 1000 1000" and network.get("width") == "100%"
    circles = list(network.iter(f"{SVG}circle"))
    assert len(circles) == len(met)  # one node per member who met someone
    titles = {c.find(f"{SVG}title").text.split(":")[0] for c in circles}  # type: ignore[union-attr]
    names = {m["member_id"]: m["name"] for m in org.get("members").data["items"]}
    assert titles == {names[m] for m in met}
    never = re.search(r'<ul class="never-met"[^>]*>(.*?)</ul>', page, re.DOTALL)
    assert never is not None
    for mid in set(ids) - met:
        assert f"/members/{mid}\">{names[mid]}</a>" in never.group(1)
    # Every chart has alt text: a <title> and a <desc> it is labelled by.
    for markup in re.findall(r"<svg\b.*?</svg>", page, re.DOTALL):
        root = ET.fromstring(markup)
        assert root.get("role") == "img" and root.find(f"{SVG}title") is not None
        assert root.find(f"{SVG}desc") is not None and root.get("aria-labelledby")
    shows = re.search(r'<table class="list" id="shows">(.*?)</table>', page, re.DOTALL)
    assert shows is not None
    assert "Breakfast &lt;b&gt;club&lt;/b&gt;" in shows.group(1) and "<b>club" not in page
    assert re.search(r'<td class="num">3</td><td class="num">1</td><td class="num">33%</td>', shows.group(1))
    rounds = re.search(r'<table class="list" id="rounds">(.*?)</table>', page, re.DOTALL)
    assert rounds is not None
    paired = sum(len(p["member_ids"]) for p in pairs)
    assert re.search(rf'<td class="num">{paired}</td><td class="num">{len(pairs[0]["member_ids"])}</td>'
                     rf'<td class="num">2 of {len(pairs)}</td><td class="num">4.0</td>', rounds.group(1))
    growth = re.search(r'<table class="list" id="growth">(.*?)</table>', page, re.DOTALL)
    assert growth is not None
    assert '<td>2026-11</td><td class="num">9</td><td class="num">1</td><td class="num">8</td>' in growth.group(1)


def test_a_big_network_draws_the_most_connected_and_says_so(con: Console, client: Any, org: Any,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Nine lunched; the picture's cap set to 4: it draws 4 circles and says which part it shows."""
    nine_lunched(client, org)
    page = con.text(con.get("/insights"))
    assert len(list(svgs(page)["network"].iter(f"{SVG}circle"))) == 9 and 'id="network-cut"' not in page
    monkeypatch.setattr(network_module, "DRAWN_NODES", 4)
    page = con.text(con.get("/insights"))
    assert len(list(svgs(page)["network"].iter(f"{SVG}circle"))) == 4
    cut = re.search(r'<p class="network-cut" id="network-cut">(.*?)</p>', page, re.DOTALL)
    assert cut is not None and cut.group(1).startswith("The picture shows the 4 most connected of these 9 members")
    assert "9 of your 9 members have met someone" in page


def test_members_who_never_met_are_listed_a_page_at_a_time(con: Console, org: Any,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    people = [{"email": f"new{i}@example.com", "name": f"Newcomer {i}"} for i in range(5)]
    assert org.post("members", {"members": people}).status_code == 201
    monkeypatch.setattr(insights, "NEVER_MET_PAGE", 2)

    def listed(query: str) -> tuple[list[str], str]:
        page = con.text(con.get(f"/insights{query}"))
        never = re.search(r'<ul class="never-met"[^>]*>(.*?)</ul>', page, re.DOTALL)
        assert never is not None and "Never met anyone (5)" in page
        return re.findall(r'">(Newcomer \d)</a>', never.group(1)), page

    first, page = listed("")
    assert first == ["Newcomer 0", "Newcomer 1"] and "?never_met_from=2#h-never-met\">Next 2</a>" in page
    assert "Previous" not in page and "Showing 1 to 2, by name." in page
    last, page = listed("?never_met_from=4")
    assert last == ["Newcomer 4"] and "?never_met_from=2#h-never-met\">Previous 2</a>" in page
    assert "Next" not in page
    assert listed("?never_met_from=3")[0] == ["Newcomer 2", "Newcomer 3"]  # pages start at a multiple of 2
    assert listed("?never_met_from=99")[0] == ["Newcomer 4"]  # past the end: the last page
    assert listed("?never_met_from=x%3Cb%3E")[0] == first  # not a number: the first page


def test_another_groups_insights_are_not_found(con: Console, other_org: Any) -> None:
    r = con.client.http.get(f"/console/{other_org.group_id}/insights", headers={"Cookie": con.cookie})
    assert r.status_code == 404
    assert "relationship network" not in con.text(r)


def test_insights_need_a_session(client: Any, org: Any) -> None:
    r = client.http.get(f"/console/{org.group_id}/insights")
    assert r.status_code == 303 and r.headers["Location"].endswith("/console")
