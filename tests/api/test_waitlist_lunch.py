"""The waitlist gets a lunch (issue 14, part 4): when a full meetup starts, members still on its
waitlist are paired among themselves and get a lunch intro, once; the pairing pages' confirm
flow connects them as it does a round's pairs."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from chalicelib import deps, ids, links
from chalicelib.services import schedules
from tests.api.test_lunch_api import add_members, of_kind, post_form


def _answer(client: Any, org: Any, meetup: dict[str, Any], member_id: str) -> None:
    url = links.rsvp_url(org.group_id, meetup["meetup_id"], member_id, datetime.fromisoformat(meetup["ends_at"]))
    r = client.http.post(urlsplit(url).path, headers={"Content-Type": "application/x-www-form-urlencoded"},
                         body=urlencode({"answer": "going"}).encode())
    assert r.status_code == 200


def test_at_the_start_the_waitlisted_are_paired_among_themselves_once(
        client: Any, org: Any, clock: Any, outbox_dir: Path) -> None:
    people = sorted(add_members(org, 8), key=lambda p: int(re.sub(r"\D", "", p["email"])))
    ids_ = [p["member_id"] for p in people]
    for member_id in ids_:
        r = org.patch(f"members/{member_id}", {"lunch": {"opted_in": True, "city": "Lisbon",
                                                         "interests": ["climate"], "availability": ["tue-lunch"]}})
        assert r.status_code == 200, r.data
    starts = (deps.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    local = starts.astimezone(ZoneInfo("Europe/Lisbon")).replace(tzinfo=None)
    r = org.post("meetups", {"title": "Full room", "starts_at": local.isoformat(),
                             "ends_at": (local + timedelta(hours=2)).isoformat(), "timezone": "Europe/Lisbon",
                             "venue": {"name": "Hall", "address": "Rua 1"}, "capacity": 2})
    assert r.status_code == 201, r.data
    meetup = dict(r.data)
    for member_id in ids_:  # the first two get seats, six wait
        _answer(client, org, meetup, member_id)
    statuses = {m: deps.store().rsvps.get(meetup["meetup_id"], m).status for m in ids_}  # type: ignore[union-attr]
    waiting = {m for m, s in statuses.items() if s == "waitlisted"}
    assert len(waiting) == 6

    clock.advance(days=2, minutes=10)  # the meetup started ten minutes ago
    schedules.run_hourly(deps.now())
    schedules.run_hourly(deps.now())  # a second run makes nothing more
    pairs = deps.store().lunch.pairs_of_round(org.group_id, ids.waitlist_round(meetup["meetup_id"]))
    assert len(pairs) == 3 and all(p.origin == "waitlist" for p in pairs)
    assert {m for p in pairs for m in p.member_ids} == waiting  # only the waitlisted, one pair each
    intros = of_kind(outbox_dir, "Meet ")
    assert len(intros) == 6
    assert all("the room was full, so here is someone from the waitlist" in
               m.get_body(("plain",)).get_content().lower() for m in intros)  # type: ignore[union-attr]

    # the pairing loop's connect flow works for them: both confirm, both get each other's address
    pair = pairs[0]
    for member_id in pair.member_ids:
        page = urlsplit(links.pairing_url(org.group_id, pair.pair_id, member_id)).path
        assert post_form(client, page, {"action": "confirm"}).status_code == 200
    connected = deps.store().lunch.get_pair(org.group_id, pair.pair_id)
    assert connected is not None and connected.connected_at is not None
