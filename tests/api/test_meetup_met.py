"""After a meetup with suggestions (issue 14, part 3): one "did you meet them?" email to each
member who got suggestions, a yes button per person. GET shows the question and changes
nothing; a yes counts as met for the introduce page, the lunch repeat rule and the network;
double clicks and redelivered messages do nothing twice; erasure removes the records."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chalicelib import deps, links, network, workers
from chalicelib.services import insights, pairing, schedules
from chalicelib.store import keys
from tests.api.test_lunch_api import add_members, of_kind, post_form
from tests.api.test_meetup_people import TOPICS, _going


def _yes_links(mail: Any) -> dict[str, str]:
    """Person's name -> their yes link, from the plain text of a "did you meet them?" email."""
    body = mail.get_body(("plain",)).get_content()
    return dict(re.findall(r"^  Yes, I met (Person\d+ Test): (\S+)", body, re.M))


def _reader(mail: Any) -> int:
    return int(re.search(r"person(\d+)@", str(mail["To"])).group(1))  # type: ignore[union-attr]


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _suggestion_items(group_id: str) -> list[dict[str, Any]]:
    return list(deps.store().db.query_all(partition=keys.group_pk(group_id), prefix=keys.MEETPEOPLE_PREFIX,
                                          consistent=True))


def test_after_the_meetup_a_yes_counts_as_met_everywhere_once(
        client: Any, org: Any, clock: Any, outbox_dir: Path) -> None:
    people = sorted(add_members(org, 8), key=lambda p: int(re.sub(r"\D", "", p["email"])))
    mids = [p["member_id"] for p in people]  # mids[i] is person{i}
    for i, member_id in enumerate(mids):
        r = org.patch(f"members/{member_id}", {"lunch": {
            "opted_in": True, "city": "Lisbon", "interests": [TOPICS[i % 4], TOPICS[(i * 3 + 1) % 4]],
            "offers": [f"{TOPICS[i % 4]} reviews"], "asks": [f"{TOPICS[(i + 1) % 4]} review"]}})
        assert r.status_code == 200, r.data
    meetup_id = _going(client, org, mids, deps.now() + timedelta(hours=47, minutes=30))
    schedules.run_hourly(deps.now())
    suggested = {_reader(m) for m in of_kind(outbox_dir, "People to meet at")}
    assert len(suggested) >= 6
    assert not of_kind(outbox_dir, "Did you meet them")

    # One of them turns the suggestions off meanwhile: not asked either
    quiet = max(suggested)
    assert org.patch(f"members/{mids[quiet]}", {"lunch": {"meetup_people": False}}).status_code == 200

    # Right after the meetup ends: not yet (the day after)
    clock.advance(hours=49, minutes=45)
    schedules.run_hourly(deps.now())
    assert not of_kind(outbox_dir, "Did you meet them")
    clock.advance(hours=24)
    schedules.run_hourly(deps.now())
    schedules.run_hourly(deps.now())  # twice: nothing more
    workers.run([workers.message("rsvp.meetup_met", group_id=org.group_id, meetup_id=meetup_id)])  # redelivered
    asks = of_kind(outbox_dir, "Did you meet them at Spring meetup")
    assert sorted(_reader(m) for m in asks) == sorted(suggested - {quiet}), "one email each, to who got suggestions"
    for mail in asks:
        assert "@example.com" not in mail.get_body(("plain",)).get_content()  # no addresses  # type: ignore[union-attr]
        assert 1 <= len(_yes_links(mail)) <= 3

    mail = next(m for m in asks if _yes_links(m))
    a = _reader(mail)
    name, url = next(iter(_yes_links(mail).items()))
    b = int(re.sub(r"\D", "", name))
    introduce_a = _path(links.introduce_url(org.group_id, mids[a]))
    introduce_b = _path(links.introduce_url(org.group_id, mids[b]))
    assert name not in client.http.get(introduce_a).body.decode()

    # GET shows the question and changes nothing
    page = client.http.get(_path(url))
    assert page.status_code == 200
    assert f"Did you meet {name} at Spring meetup?" in page.body.decode()
    assert "@example.com" not in page.body.decode()
    assert name not in client.http.get(introduce_a).body.decode()
    history = pairing._profiles_and_history(org.group_id, deps.store().members.get_many(org.group_id, mids), "")[1]
    assert frozenset((mids[a], mids[b])) not in history.recent_pairs

    # Yes, twice (a double click): recorded once
    for _ in range(2):
        r = post_form(client, urlsplit(url).path, {"who": mids[b]})
        assert r.status_code == 200
        assert f"You met {name}." in r.body.decode()
        assert "/introduce/" in r.body.decode()  # and may now introduce them
    record = next(i for i in _suggestion_items(org.group_id)
                  if i.get("type") == "meetup_suggestions" and i["member_id"] == mids[a])
    assert set(record["met"]) == {mids[b]}  # once

    # The introduce page (both ways), the repeat rule and the network count it
    assert name in client.http.get(introduce_a).body.decode()
    assert f"Person{a} Test" in client.http.get(introduce_b).body.decode()
    history = pairing._profiles_and_history(org.group_id, deps.store().members.get_many(org.group_id, mids), "")[1]
    assert frozenset((mids[a], mids[b])) in history.recent_pairs
    net = org.get("network")
    assert net.status_code == 200, net.data
    a_b = sorted((mids[a], mids[b]))
    assert net.data["edges"] == [{"a": a_b[0], "b": a_b[1], "kind": "meetup", "lunches": 0, "connector_id": None}]
    assert {n["member_id"] for n in net.data["nodes"]} == set(a_b)  # linked, though no lunch yet
    drawn = network.svg(insights.group_network(org.group_id))
    assert "<title>Met at a meetup</title>" in drawn and "1 pair who said they met at a meetup" in drawn

    # Someone never suggested to them: refused, nothing recorded
    stranger = next(i for i in range(8) if i != a and f"Person{i} Test" not in _yes_links(mail))
    r = post_form(client, urlsplit(url).path, {"who": mids[stranger]})
    assert r.status_code == 400
    assert len([i for i in _suggestion_items(org.group_id) if i.get("type") == "met_at_meetup"]) == 1

    # A tampered link is refused
    assert client.http.get(_path(url).replace("/met/", "/met/x")).status_code == 403

    # Erasing a member removes their records, the pair they met in, and their name from others'
    r = org.delete(f"members/{mids[b]}")
    assert r.status_code in (200, 204), r.data
    left = _suggestion_items(org.group_id)
    assert not [i for i in left if i.get("member_id") == mids[b]]
    assert not [i for i in left if i.get("type") == "met_at_meetup"]
    assert not [i for i in left if mids[b] in i.get("suggested", ()) or mids[b] in i.get("met", ())]
    assert org.get("network").data["edges"] == []


def test_a_cancelled_meetup_asks_nothing(client: Any, org: Any, clock: Any, outbox_dir: Path) -> None:
    mids = [p["member_id"] for p in add_members(org, 6)]
    for i, member_id in enumerate(mids):
        r = org.patch(f"members/{member_id}", {"lunch": {"opted_in": True, "city": "Lisbon",
                                                         "interests": [TOPICS[i % 2]]}})
        assert r.status_code == 200, r.data
    meetup_id = _going(client, org, mids, deps.now() + timedelta(hours=47, minutes=30))
    schedules.run_hourly(deps.now())
    assert of_kind(outbox_dir, "People to meet at")
    assert org.post(f"meetups/{meetup_id}/cancel", {}).status_code in (200, 202)
    clock.advance(days=4)
    schedules.run_hourly(deps.now())
    assert not of_kind(outbox_dir, "Did you meet them")
    assert not list(deps.store().db.query_all(partition=keys.MEETPEOPLE_ASKS, index=True))
