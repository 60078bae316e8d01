"""Email settings (issue 12, part 4): /settings/{token} chooses meetup mail, lunch pairing (on,
paused until a date, off) and everything; mail is suppressed per kind at send time; every
email's footer carries a fresh settings link."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib import deps, links
from tests.api.test_lunch_api import PROGRAM, add_members, opt_in_nine, path_of, post_form, run_round, text_of
from tests.api.test_rsvp_api import invite, new_meetup
from tests.api.test_rsvp_api import mails as sent

SETTINGS_LINK = re.compile(r"https://lunch\.example\.test/settings/[A-Za-z0-9_.\-]+")
ALL_ON = {"email": "on", "meetups": "on", "lunch": "on"}


def settings_path(org: Any, member_id: str) -> str:
    return path_of(links.settings_url(org.group_id, member_id))


def save(client: Any, org: Any, member_id: str, **fields: str) -> Any:
    return post_form(client, settings_path(org, member_id), {**ALL_ON, **fields})


def paired(detail: dict[str, Any]) -> set[str]:
    return {m for p in detail["pairs"] for m in p["member_ids"]}


def stored(org: Any, member_id: str) -> dict[str, Any]:
    r = org.get(f"members/{member_id}")
    assert r.status_code == 200
    return dict(r.data)


def address(org: Any, member_id: str) -> str:
    return str(stored(org, member_id)["email"])


# ---------------------------------------------------------------- the link in every email


def test_every_email_carries_a_working_settings_link_fresh_each_time(client: Any, org: Any, clock: Any,
                                                                     outbox_dir: Path) -> None:
    member = add_members(org, 1)[0]
    invite(org, new_meetup(org, starts_at="2027-03-10T12:30:00", ends_at="2027-03-10T14:00:00"))
    clock.advance(days=300)
    org.call("PUT", "lunch-program", PROGRAM)
    assert org.post("lunch-program/invitations", {}).status_code == 202
    found = [SETTINGS_LINK.findall(text_of(m)) for m in (*sent(outbox_dir, "rsvp_invite"),
                                                           *sent(outbox_dir, "lunch_invite"))]
    assert [len(f) for f in found] == [1, 1]
    first, second = found[0][0], found[1][0]
    assert first != second  # a fresh token per email
    expiries = [links.read("settings", u.rsplit("/", 1)[1]).expires_at for u in (first, second)]
    assert expiries[1] - expiries[0] == timedelta(days=300)  # the later email's link lives longer
    for url in (first, second):
        page = client.http.get(path_of(url))
        assert page.status_code == 200 and "Email settings" in page.body.decode()
    clock.advance(days=120)  # the first email's link is past its 400 days; the second's is not
    assert client.http.get(path_of(first)).status_code == 410
    assert client.http.get(path_of(second)).status_code == 200
    assert member["email"] in str(sent(outbox_dir, "lunch_invite")[0]["To"])


def test_get_changes_nothing_and_bad_links_are_403(client: Any, org: Any) -> None:
    member_id = add_members(org, 1)[0]["member_id"]
    before = stored(org, member_id)
    page = client.http.get(settings_path(org, member_id) + "?email=off&lunch=off")
    assert page.status_code == 200
    html = page.body.decode()
    for name, value in (("email", "on"), ("meetups", "on"), ("lunch", "off")):
        assert f'name="{name}" value="{value}" checked' in html
    assert stored(org, member_id) == before
    token = settings_path(org, member_id).rsplit("/", 1)[1]
    assert client.http.get(f"/settings/{token[:-3]}AAA").status_code == 403
    lunch_token = links.lunch_url(org.group_id, member_id).rsplit("/", 1)[1]
    assert client.http.get(f"/settings/{lunch_token}").status_code == 403
    assert save(client, org, member_id, email="off", lunch="off").status_code == 200
    assert post_form(client, f"/settings/{token[:-3]}AAA", {**ALL_ON}).status_code == 403


# ---------------------------------------------------------------- what each choice stops


def test_lunch_off_stops_intros_but_not_meetup_invitations(client: Any, org: Any, outbox_dir: Path) -> None:
    ids = opt_in_nine(client, org)
    org.call("PUT", "lunch-program", PROGRAM)
    lunch_off, meetups_off = ids[0], ids[1]
    r = save(client, org, lunch_off, lunch="off")
    assert r.status_code == 200 and "Saved" in r.body.decode()
    assert save(client, org, meetups_off, meetups="off").status_code == 200
    assert stored(org, lunch_off)["lunch"]["opted_in"] is False
    detail = run_round(org)
    assert lunch_off not in paired(detail) and meetups_off in paired(detail)
    assert sent(outbox_dir, "lunch_intro", address(org, lunch_off)) == []
    assert len(sent(outbox_dir, "lunch_intro", address(org, meetups_off))) == 1
    job = invite(org, new_meetup(org, capacity=None))
    assert job.status_code == 202
    done = org.get(f"jobs/{job.data['job_id']}").data
    assert (done["status"], done["sent"], done["skipped"]) == ("done", 8, 1)  # suppressed at send: skipped
    assert len(sent(outbox_dir, "rsvp_invite", address(org, lunch_off))) == 1
    assert sent(outbox_dir, "rsvp_invite", address(org, meetups_off)) == []
    # lunch mail is decided at send time too: a lunch invitation now skips who turned lunch off
    assert org.post("lunch-program/invitations", {"member_ids": [lunch_off, meetups_off]}).status_code == 202
    assert sent(outbox_dir, "lunch_invite", address(org, lunch_off)) == []
    assert len(sent(outbox_dir, "lunch_invite", address(org, meetups_off))) == 1


def test_everything_off_stops_all_mail_and_resubscribing_here_brings_it_back(client: Any, org: Any,
                                                                           outbox_dir: Path) -> None:
    ids = opt_in_nine(client, org)
    org.call("PUT", "lunch-program", PROGRAM)
    quiet = ids[2]
    r = save(client, org, quiet, email="off")
    assert r.status_code == 200 and "You're unsubscribed" in r.body.decode()
    assert stored(org, quiet)["subscribed"] is False
    assert quiet not in paired(run_round(org))
    invite(org, new_meetup(org, capacity=None))
    org.post("lunch-program/invitations", {"member_ids": [quiet]})
    assert sent(outbox_dir, None, address(org, quiet)) == []
    r = save(client, org, quiet, email="on")  # re-subscribe: only the member can
    assert r.status_code == 200 and "You're unsubscribed" not in r.body.decode()
    assert stored(org, quiet)["subscribed"] is True
    invite(org, new_meetup(org, capacity=None, title="Second lunch"))
    assert len(sent(outbox_dir, "rsvp_invite", address(org, quiet))) == 1
    assert quiet in paired(run_round(org))


def test_list_unsubscribe_one_click_still_stops_everything(client: Any, org: Any, outbox_dir: Path) -> None:
    member_id = add_members(org, 1)[0]["member_id"]
    one_click = path_of(links.unsubscribe_url(org.group_id, member_id))
    done = post_form(client, one_click, {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    page = client.http.get(settings_path(org, member_id)).body.decode()
    assert "You're unsubscribed" in page and 'name="email" value="off" checked' in page
    invite(org, new_meetup(org))
    assert sent(outbox_dir, None, address(org, member_id)) == []
    # the unsubscribe page leads to the settings, where the member can come back
    way_back = SETTINGS_LINK.search(done.body.decode())
    assert way_back is not None
    r = post_form(client, path_of(way_back.group(0)), {**ALL_ON, "lunch": "off"})
    assert r.status_code == 200 and stored(org, member_id)["subscribed"] is True


def test_paused_until_a_date_sits_out_rounds_until_then_and_is_back(client: Any, org: Any, clock: Any,
                                                                    outbox_dir: Path) -> None:
    ids = opt_in_nine(client, org)
    org.call("PUT", "lunch-program", PROGRAM)
    resting = ids[3]
    back_on = (clock.current + timedelta(days=8)).date()
    r = save(client, org, resting, lunch="paused", paused_until=back_on.isoformat())
    assert r.status_code == 200
    assert f'name="paused_until" value="{back_on.isoformat()}"' in r.body.decode()
    assert 'name="lunch" value="paused" checked' in r.body.decode()
    assert resting not in paired(run_round(org))
    clock.advance(days=7)  # the day before: still resting
    assert resting not in paired(run_round(org))
    assert sent(outbox_dir, "lunch_intro", address(org, resting)) == []
    clock.advance(days=1)  # the date itself: back, with nothing to do
    assert resting in paired(run_round(org))
    assert len(sent(outbox_dir, "lunch_intro", address(org, resting))) == 1
    page = client.http.get(settings_path(org, resting)).body.decode()
    assert 'name="lunch" value="on" checked' in page


def test_lunch_on_needs_a_place_first(client: Any, org: Any) -> None:
    member_id = add_members(org, 1)[0]["member_id"]
    before = stored(org, member_id)
    r = save(client, org, member_id, lunch="on")
    assert r.status_code == 400 and "Lunch pairing: first tell us your city" in r.body.decode()
    assert stored(org, member_id) == before


# ---------------------------------------------------------------- hostile input


@pytest.mark.parametrize(("fields", "label"), [
    ({"email": "maybe"}, "Email from the group"),
    ({"email": ""}, "Email from the group"),
    ({"meetups": "sometimes"}, "Meetup emails"),
    ({"lunch": "weekly"}, "Lunch pairing"),
    ({"lunch": "paused"}, "Paused until"),
    ({"lunch": "paused", "paused_until": "2026-13-45"}, "Paused until"),
    ({"lunch": "paused", "paused_until": "31/12/2026"}, "Paused until"),
    ({"lunch": "paused", "paused_until": "2026-11-02"}, "Paused until"),  # today
    ({"lunch": "paused", "paused_until": "2028-01-01"}, "Paused until"),  # beyond a year
    ({"lunch": "paused", "paused_until": "2026-12-01" + "x" * 10_000}, "Paused until"),
    ({"email": "off" * 1000}, "Email from the group"),
    ({"meetups": ["on", "off"]}, "Meetup emails"),
])
def test_hostile_input_is_400_naming_the_field_and_stores_nothing(client: Any, org: Any, outbox_dir: Path,
                                                                  fields: dict[str, Any], label: str) -> None:
    member_id = opt_in_nine(client, org)[0]
    before = stored(org, member_id)
    r = post_form(client, settings_path(org, member_id), {**ALL_ON, "meetups": "off", **fields})
    html = r.body.decode()
    assert r.status_code == 400 and f"{label}:" in html and "Nothing was saved" in html, html
    assert "x" * 200 not in html  # an oversized value is not echoed back whole
    assert stored(org, member_id) == before


def test_a_missing_field_is_named_too(client: Any, org: Any) -> None:
    member_id = add_members(org, 1)[0]["member_id"]
    before = stored(org, member_id)
    r = post_form(client, settings_path(org, member_id), {"email": "on", "meetups": "off"})
    assert r.status_code == 400 and "Lunch pairing:" in r.body.decode()
    assert stored(org, member_id) == before
    assert deps.store().members.get(org.group_id, member_id).meetup_mail is True  # type: ignore[union-attr]


def test_a_flood_of_fields_is_a_400_not_a_crash(client: Any, org: Any) -> None:
    member_id = add_members(org, 1)[0]["member_id"]
    before = stored(org, member_id)
    flood = "&".join(f"f{i}=x" for i in range(300)) + "&email=off&meetups=off&lunch=off"
    r = client.http.post(settings_path(org, member_id), headers={"Content-Type": "application/x-www-form-urlencoded"},
                         body=flood.encode())
    assert r.status_code == 400 and "body: has too many fields" in r.body.decode()
    assert stored(org, member_id) == before
