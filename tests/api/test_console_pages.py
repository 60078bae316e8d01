"""The console's own pages (issue 13, part 3): home (next meetups with going/waitlist/seats, the
next lunch round, what needs attention) in at most 4 DynamoDB calls, delivery (the outbox by
state, dead mail with its error, bounced and complained members) and organizers (co-hosts, CSRF,
never the last one, hostile input)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from bench.roundtrips import RoundTrips
from chalicelib import deps, links
from chalicelib.services import bounces, console, outbox
from tests.api.test_console_auth import ORGANIZER, body, get, post, sign_in

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ses"


@pytest.fixture
def group_id(org: Any) -> str:
    console.add_organizer(org.group_id, ORGANIZER)
    return str(org.group_id)


@pytest.fixture
def cookie(client: Any, group_id: str, outbox_dir: Path) -> str:
    return sign_in(client, outbox_dir)


def csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page)
    assert found, page
    return found.group(1)


def add_members(org: Any, *emails: str) -> dict[str, str]:
    r = org.post("members", {"members": [{"email": e, "name": e.split("@")[0].title()} for e in emails]})
    assert r.status_code == 201, r.data
    return {m["email"]: m["member_id"] for m in r.data["created"]}


def new_meetup(org: Any, clock: Any, title: str = "Founders breakfast", capacity: int = 1) -> dict[str, Any]:
    start = clock() + timedelta(days=3)
    r = org.post("meetups", {"title": title, "starts_at": start.isoformat(),
                             "ends_at": (start + timedelta(hours=2)).isoformat(), "timezone": "Europe/Lisbon",
                             "venue": {"name": "Café", "address": "Rua 1"}, "capacity": capacity})
    assert r.status_code == 201, r.data
    return dict(r.data)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# ---------------------------------------------------------------- home


def test_home_shows_meetups_with_going_waitlist_and_seats(client: Any, org: Any, clock: Any, group_id: str,
                                                          cookie: str) -> None:
    people = add_members(org, "ana@example.com", "bo@example.com")
    meetup = new_meetup(org, clock, "<b>Founders</b> breakfast")
    ends = datetime.fromisoformat(meetup["ends_at"])
    for member_id in people.values():  # one takes the seat, the other waits
        path = urlsplit(links.rsvp_url(org.group_id, meetup["meetup_id"], member_id, ends)).path
        r = client.http.post(path, headers={"Content-Type": "application/x-www-form-urlencoded"},
                             body=b"answer=going")
        assert r.status_code == 200, r.body
    page = body(get(client, f"/console/{group_id}", cookie))
    assert "&lt;b&gt;Founders&lt;/b&gt; breakfast" in page and "<b>Founders" not in page
    row = text(page.split("&lt;b&gt;Founders", 1)[1].split("</tr>", 1)[0])
    assert row.split()[-3:] == ["1", "1", "0"]  # going, waitlist, seats left
    assert "Nothing needs your attention" in page


def test_home_shows_the_next_lunch_round(client: Any, org: Any, group_id: str, cookie: str) -> None:
    r = org.call("PUT", "lunch-program", {"enabled": True, "cadence": "weekly", "weekday": "thu",
                                          "local_hour": 12, "odd_rule": "trio"})
    assert r.status_code in (200, 201), r.data
    # the clock: Monday 2 November 2026 09:00 UTC; Lisbon is UTC+0 in November
    assert "Next round: <strong>Thursday 5 November 2026, 12:00 WET (UTC+00:00)</strong>" in body(
        get(client, f"/console/{group_id}", cookie))
    org.call("PUT", "lunch-program", {"enabled": True, "cadence": "weekly", "weekday": "thu",
                                      "local_hour": 12, "odd_rule": "trio", "review": True})
    page = " ".join(body(get(client, f"/console/{group_id}", cookie)).split())
    assert "12:00 WET (UTC+00:00)</strong>. You review each round before it goes out." in page


def test_home_makes_at_most_four_dynamodb_calls(client: Any, org: Any, clock: Any, group_id: str,
                                                cookie: str) -> None:
    new_meetup(org, clock)
    org.call("PUT", "lunch-program", {"enabled": True, "cadence": "weekly", "weekday": "thu", "local_hour": 12})
    with RoundTrips(deps.dynamodb_client()) as trips:
        assert get(client, f"/console/{group_id}", cookie).status_code == 200
    assert sum(trips.calls.values()) <= 4, trips.calls
    assert "Scan" not in trips.calls


def test_home_lists_dead_mail_and_bounced_members_as_needing_attention(
        client: Any, org: Any, clock: Any, group_id: str, cookie: str, monkeypatch: pytest.MonkeyPatch) -> None:
    add_members(org, "jane@example.com")
    bounces.handle(json.loads((FIXTURES / "notification-bounce-permanent.json").read_text()))
    kill_one_mail(org, clock, monkeypatch)
    page = text(body(get(client, f"/console/{group_id}", cookie)))
    assert "1 email(s) could not be delivered" in page
    assert "1 member(s) bounced or marked our mail as spam" in page


# ---------------------------------------------------------------- delivery


def kill_one_mail(org: Any, clock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """One email to a member that fails every try until it is dead."""
    from chalicelib.mail import sender
    from chalicelib.store.outbox import MAX_ATTEMPTS

    people = add_members(org, "dead@example.com")
    group = deps.store().groups.require(org.group_id)
    member = deps.store().members.require(org.group_id, people["dead@example.com"])

    def refuse(*_: Any, **__: Any) -> str:
        raise RuntimeError("550 mailbox <dead@example.com> unavailable")

    monkeypatch.setattr(sender, "send_raw", refuse)
    email = outbox.Email(kind="member_links", dedupe_key="dead-test", subject="s", text="t", html="<p>h</p>")
    assert outbox.queue(group, member, email)  # tried once inline
    from chalicelib.store import keys

    mail_id = keys.mail_id("dead-test")
    for _ in range(MAX_ATTEMPTS - 1):
        clock.advance(minutes=30)
        outbox.deliver_batch([{"group_id": org.group_id, "member_id": member.member_id, "mail_id": mail_id}])
    assert deps.store().outbox.get(org.group_id, member.member_id, mail_id).status == "dead"  # type: ignore[union-attr]
    monkeypatch.undo()


def test_delivery_shows_the_outbox_by_state_dead_mail_with_its_error_and_bounced_members(
        client: Any, org: Any, clock: Any, group_id: str, cookie: str, monkeypatch: pytest.MonkeyPatch) -> None:
    add_members(org, "jane@example.com", "richard@example.com", "mary@example.com")
    bounces.handle(json.loads((FIXTURES / "notification-bounce-permanent.json").read_text()))
    bounces.handle(json.loads((FIXTURES / "notification-complaint.json").read_text()))
    kill_one_mail(org, clock, monkeypatch)
    meetup = new_meetup(org, clock, capacity=10)
    assert org.post(f"meetups/{meetup['meetup_id']}/invitations", {}).status_code == 202
    response = get(client, f"/console/{group_id}/delivery", cookie)
    assert response.status_code == 200
    page = body(response)
    flat = text(page)
    # invitations go to dead@ and mary@ (jane bounced, richard complained: skipped when recorded)
    tiles = dict(re.findall(r'<p class="muted">(Queued|Sent|Suppressed|Dead)</p><p class="status">(\d+)</p>', page))
    assert tiles["Dead"] == "1" and tiles["Queued"] == "0"
    assert int(tiles["Sent"]) >= 2
    assert "550 mailbox &lt;dead@example.com&gt; unavailable" in page
    assert "Dead &lt;dead@example.com&gt;" in page  # to whom
    problems = flat.split("Bounced or complained", 1)[1].split("By day", 1)[0]
    assert "Jane jane@example.com address bounced" in problems
    assert "Richard richard@example.com marked our email as spam" in problems
    assert "Mary" not in problems


def test_delivery_counts_mail_once_however_often_the_sweep_hands_it_on(
        client: Any, org: Any, clock: Any, group_id: str, cookie: str) -> None:
    before = deps.store().delivery.read(group_id, clock()).totals()
    add_members(org, "ann@example.com")
    meetup = new_meetup(org, clock, capacity=10)
    assert org.post(f"meetups/{meetup['meetup_id']}/invitations", {}).status_code == 202
    clock.advance(hours=1)
    outbox.requeue_overdue(deps.now())
    after = deps.store().delivery.read(group_id, deps.now()).totals()
    assert after["recorded"] - before["recorded"] == 1 and after["sent"] - before["sent"] == 1


def test_another_groups_delivery_is_404(client: Any, org: Any, other_org: Any, group_id: str, cookie: str) -> None:
    console.add_organizer(other_org.group_id, "other@example.com")
    assert get(client, f"/console/{other_org.group_id}/delivery", cookie).status_code == 404


# ---------------------------------------------------------------- organizers


def organizers_of(group_id: str) -> list[str]:
    return list(deps.store().groups.require(group_id).organizers)


def test_add_and_remove_a_co_host(client: Any, group_id: str, cookie: str, outbox_dir: Path) -> None:
    page = body(get(client, f"/console/{group_id}/organizers", cookie))
    r = post(client, f"/console/{group_id}/organizers", {"csrf_token": csrf(page), "email": " CoHost@Example.com "},
             cookie)
    assert r.status_code == 200 and "cohost@example.com is now an organizer" in body(r)
    assert organizers_of(group_id) == [ORGANIZER, "cohost@example.com"]
    assert deps.store().console.groups_of("cohost@example.com") == [group_id]
    # the co-host can sign in
    co_cookie = sign_in(client, outbox_dir, "cohost@example.com")
    assert get(client, f"/console/{group_id}", co_cookie).status_code == 200
    r = post(client, f"/console/{group_id}/organizers", {"csrf_token": csrf(page), "remove": "cohost@example.com"},
             cookie)
    assert r.status_code == 200 and organizers_of(group_id) == [ORGANIZER]
    assert deps.store().console.groups_of("cohost@example.com") == []
    assert get(client, f"/console/{group_id}", co_cookie).status_code == 404


def test_the_last_organizer_cannot_be_removed(client: Any, group_id: str, cookie: str) -> None:
    page = body(get(client, f"/console/{group_id}/organizers", cookie))
    assert "the last organizer stays" in page
    r = post(client, f"/console/{group_id}/organizers", {"csrf_token": csrf(page), "remove": ORGANIZER}, cookie)
    assert r.status_code == 409 and "at least one organizer" in body(r)
    assert organizers_of(group_id) == [ORGANIZER]


@pytest.mark.parametrize("raw", ["", "nope", "<script>alert(1)</script>", "a@b.c\r\nBcc: x@y.z", "x" * 500])
def test_a_bad_co_host_address_is_shown_beside_the_field_and_nothing_changes(
        client: Any, group_id: str, cookie: str, raw: str) -> None:
    page = body(get(client, f"/console/{group_id}/organizers", cookie))
    r = post(client, f"/console/{group_id}/organizers", {"csrf_token": csrf(page), "email": raw}, cookie)
    assert r.status_code == 400
    answer = body(r)
    assert 'class="error-text" id="e-email"' in answer and "<script>alert" not in answer
    assert organizers_of(group_id) == [ORGANIZER]


def test_cli_adds_and_removes_organizers(client: Any, group_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    from chalicelib import cli

    assert cli.main(["add-organizer", "--group-id", group_id, "--email", "Second@Example.com"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["organizers"] == [ORGANIZER, "second@example.com"] and out["changed"] is True
    assert cli.main(["add-organizer", "--group-id", group_id, "--email", "second@example.com"]) == 0
    assert json.loads(capsys.readouterr().out)["changed"] is False
    assert cli.main(["remove-organizer", "--group-id", group_id, "--email", ORGANIZER]) == 0
    capsys.readouterr()
    assert cli.main(["remove-organizer", "--group-id", group_id, "--email", "second@example.com"]) == 1
    assert "at least one organizer" in capsys.readouterr().err
    assert cli.main(["add-organizer", "--group-id", group_id, "--email", "not an address"]) == 1
    assert cli.main(["add-organizer", "--group-id", "grp_nope", "--email", "a@example.com"]) == 1
    assert organizers_of(group_id) == ["second@example.com"]


def test_the_demo_seed_makes_organizer_example_com_the_demo_groups_organizer(
        client: Any, tmp_path: Path, outbox_dir: Path) -> None:
    from scripts.seed_demo import seed

    state = seed(tmp_path / "demo.json")
    seed(tmp_path / "demo.json")  # twice: still one organizer
    saved = json.loads((tmp_path / "demo.json").read_text())
    assert saved["organizer_email"] == "organizer@example.com"
    assert saved["console_url"] == f"{saved['base_url']}/console"
    assert deps.store().groups.require(state["group_id"]).organizers == ["organizer@example.com"]
    cookie = sign_in(client, outbox_dir, "organizer@example.com")
    home = get(client, f"/console/{state['group_id']}", cookie)
    assert home.status_code == 200 and "Lisbon Founders &amp; Friends" in body(home)
    assert "hiring your first engineers" in body(home)


def test_erasing_a_member_removes_them_from_the_delivery_log(
        client: Any, org: Any, clock: Any, group_id: str, cookie: str, monkeypatch: pytest.MonkeyPatch) -> None:
    people = add_members(org, "jane@example.com")
    bounces.handle(json.loads((FIXTURES / "notification-bounce-permanent.json").read_text()))
    kill_one_mail(org, clock, monkeypatch)
    dead_id = next(m.member_id for m in deps.store().members.all(org.group_id) if m.email == "dead@example.com")
    log = deps.store().delivery.read(group_id, deps.now())
    assert len(log.dead) == 1 and len(log.problems) == 1
    for member_id in (people["jane@example.com"], dead_id):
        assert org.delete(f"members/{member_id}").status_code == 204
    log = deps.store().delivery.read(group_id, deps.now())
    assert log.dead == [] and log.problems == []
    assert log.totals()["dead"] == 1  # the count stays: it names nobody
    page = body(get(client, f"/console/{group_id}/delivery", cookie))
    assert "dead@example.com" not in page and "Jane" not in page


def test_home_says_a_round_awaits_review_and_links_to_it(client: Any, org: Any, group_id: str, cookie: str) -> None:
    from chalicelib.models import LunchProgramIn
    from chalicelib.services import lunch, pairing

    r = org.post("members", {"members": [
        {"email": f"l{i}@example.com", "name": f"Luncher {i}",
         "lunch": {"opted_in": True, "city": "Lisbon", "interests": ["climate"], "availability": ["tue-lunch"]}}
        for i in range(4)]})
    assert r.status_code == 201, r.data
    lunch.put_program(group_id, LunchProgramIn(odd_rule="sit_out", review=True))
    held = pairing.start_round_now(group_id)
    assert deps.store().lunch.require_round(group_id, held.round_id).status == "review"
    page = body(get(client, f"/console/{group_id}", cookie))
    review_url = f"/console/{group_id}/rounds/{held.round_id}/review"
    assert f'<a href="{review_url}">Round 1 awaits your review' in page
    assert "nothing is sent until you approve it" in page
    assert get(client, review_url, cookie).status_code == 200


def test_home_warns_when_lunches_run_out_of_new_pairs(client: Any, org: Any, clock: Any, group_id: str,
                                                      cookie: str) -> None:
    """Issue 16: once a round leaves more than a quarter with nobody new, the home page says so."""
    for n, mid in enumerate(add_members(org, *(f"p{i}@example.com" for i in range(4))).values()):
        r = org.patch(f"members/{mid}", {"lunch": {"opted_in": True, "city": "Lisbon", "availability": ["tue-lunch"]}})
        assert r.status_code == 200, (n, r.data)
    org.call("PUT", "lunch-program", {"enabled": True, "cadence": "weekly", "weekday": "tue", "local_hour": 10,
                                      "odd_rule": "sit_out"})
    warning = "Lunches are running out of new pairs"
    for _ in range(3):  # 4 members meet all 6 pairs in 3 rounds
        assert warning not in body(get(client, f"/console/{group_id}", cookie))
        assert org.post("lunch-rounds", {"again": True}).status_code == 202
        clock.advance(hours=1)  # within the console session's 12 hours
    page = body(get(client, f"/console/{group_id}", cookie))
    assert f"{warning}: only 0 of 4 members still have someone new to meet" in page
    assert f'href="/join/{group_id}"' in page
