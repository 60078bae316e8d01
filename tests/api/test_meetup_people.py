"""People to meet at a meetup (issue 14, part 3): 48 hours before a meetup with 12 going, each
going member who opted in gets one `meetup_people` email; suggestions are mutual, nobody is
named to more than 3, the total score is the exact b-matching's, and a second run sends nothing."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from chalicelib import bmatching, deps, ids, links
from chalicelib.models import LunchPair
from chalicelib.services import pairing, schedules
from tests.api.test_lunch_api import add_members, of_kind

TOPICS = ("climate", "product", "python", "design")


def _going(client: Any, org: Any, member_ids: list[str], starts: datetime, title: str = "Spring meetup") -> str:
    local = starts.astimezone(ZoneInfo("Europe/Lisbon")).replace(tzinfo=None)
    r = org.post("meetups", {"title": title, "starts_at": local.isoformat(),
                             "ends_at": (local + timedelta(hours=2)).isoformat(), "timezone": "Europe/Lisbon",
                             "venue": {"name": "Hall", "address": "Rua 1"}})
    assert r.status_code == 201, r.data
    for member_id in member_ids:
        url = links.rsvp_url(org.group_id, r.data["meetup_id"], member_id, datetime.fromisoformat(r.data["ends_at"]))
        answered = client.http.post(urlsplit(url).path, headers={"Content-Type": "application/x-www-form-urlencoded"},
                                    body=urlencode({"answer": "going"}).encode())
        assert answered.status_code == 200
    return str(r.data["meetup_id"])


def _best(n: int, edges: list[tuple[int, int, int]], degree: int = 3) -> int:
    """The exact maximum total of a b-matching (each member in at most `degree` pairs), as a
    0/1 integer program solved by scipy's HiGHS (a dev dependency). An exhaustive search took
    from seconds to many minutes here depending on the generated ids; this takes milliseconds."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp

    if not edges:
        return 0
    weights = np.array([w for _, _, w in edges], dtype=float)
    incidence = np.zeros((n, len(edges)))
    for k, (x, y, _) in enumerate(edges):
        incidence[x, k] = incidence[y, k] = 1
    found = milp(-weights, integrality=np.ones(len(edges)), bounds=Bounds(0, 1),
                 constraints=LinearConstraint(incidence, 0, degree))
    assert found.success, found.message
    return round(float(-found.fun))


def test_a_meetup_with_12_going_gets_mutual_spread_out_optimal_suggestions_once(
        client: Any, org: Any, clock: Any, outbox_dir: Path) -> None:
    people = sorted(add_members(org, 12), key=lambda p: int(re.sub(r"\D", "", p["email"])))
    mids = [p["member_id"] for p in people]  # mids[i] is person{i}
    for i, member_id in enumerate(mids):
        r = org.patch(f"members/{member_id}", {"lunch": {
            "opted_in": True, "city": "Lisbon", "interests": [TOPICS[i % 4], TOPICS[(i * 3 + 1) % 4]],
            "offers": [f"{TOPICS[i % 4]} reviews"], "asks": [f"{TOPICS[(i + 1) % 4]} review"],
            "meetup_people": i != 11}})  # the last one said no thanks
        assert r.status_code == 200, r.data
    meetup_id = _going(client, org, mids, deps.now() + timedelta(hours=47, minutes=30))

    schedules.run_hourly(deps.now())
    schedules.run_hourly(deps.now())  # the schedule running twice sends nothing more
    mails = of_kind(outbox_dir, "People to meet at")
    to = [str(m["To"]) for m in mails]
    assert len(to) == len(set(to)), "one email each"
    assert not any("person11@" in t for t in to)
    number = {f"Person{i} Test": i for i in range(12)}
    named: dict[int, set[int]] = {}
    for mail in mails:
        reader = int(re.search(r"person(\d+)@", str(mail["To"])).group(1))  # type: ignore[union-attr]
        body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "@example.com" not in body  # no addresses
        named[reader] = {number[name] for name in re.findall(r"^- (Person\d+ Test)", body, re.M)}
        assert 1 <= len(named[reader]) <= 3
        assert reader not in named[reader] and 11 not in named[reader]
    assert any(len(others) == 3 for others in named.values())  # the cap binds here
    for reader, others in named.items():
        for other in others:
            assert reader in named.get(other, set()), (reader, other)  # mutual

    # the total score is the exact optimum, by exhaustive search on this small case
    members = deps.store().members.get_many(org.group_id, mids[:11])
    profiles, history = pairing._profiles_and_history(org.group_id, members, current_round="")
    position = {p.member_id: i for i, p in enumerate(profiles)}
    scores = bmatching.points_matrix(profiles, history.blocked)
    edges = [(x, y, int(scores[x, y])) for x in range(11) for y in range(x + 1, 11) if scores[x, y] > 0]
    chosen = {frozenset((mids[a], mids[b])) for a, others in named.items() for b in others}
    total = sum(int(scores[position[min(p)], position[max(p)]]) for p in chosen)
    assert total == _best(11, edges) > 0
    assert meetup_id

    # One of a suggested pair declines a lunch with the other: the next meetup never suggests them
    a, b = next((a, b) for a, others in named.items() for b in others)
    declined = LunchPair(pair_id=ids.pair_id("lrd_" + "0" * 26, [mids[a], mids[b]]), round_id="lrd_" + "0" * 26,
                         group_id=org.group_id, member_ids=[mids[a], mids[b]], created_at=deps.now())
    deps.store().lunch.put_pairs([declined])
    deps.store().lunch.respond(org.group_id, declined.pair_id, mids[a], "declined")
    deps.store().lunch.record_round(org.group_id, declined.round_id, [declined])
    _going(client, org, mids, deps.now() + timedelta(hours=47, minutes=40), title="Summer meetup")
    schedules.run_hourly(deps.now())
    again = of_kind(outbox_dir, "People to meet at Summer meetup")
    assert again
    for mail in again:
        body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        shown = {number[name] for name in re.findall(r"^- (Person\d+ Test)", body, re.M)}
        assert f"person{a}@" not in str(mail["To"]) or b not in shown
        assert f"person{b}@" not in str(mail["To"]) or a not in shown
