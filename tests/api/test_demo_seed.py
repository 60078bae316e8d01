"""`make run`'s demo seed: idempotent, and .local/demo.json names the demo group's public pages,
which answer (a person can join from the join link and find the confirmation in the outbox)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from chalicelib import deps
from scripts.seed_demo import seed
from tests.api.test_lunch_api import mails, text_of


def test_the_demo_names_its_join_link_and_joining_from_it_mails_a_confirmation(
        client: Any, tmp_path: Path, outbox_dir: Path) -> None:
    state = seed(tmp_path / "demo.json")
    again = seed(tmp_path / "demo.json")
    assert again["group_id"] == state["group_id"] and again["meetup_id"] == state["meetup_id"]
    saved = json.loads((tmp_path / "demo.json").read_text())
    assert saved["join_url"] == f"{saved['base_url']}/join/{saved['group_id']}"
    join = urlsplit(saved["join_url"]).path
    page = client.http.get(join)
    assert page.status_code == 200 and b"Join Lisbon Founders &amp; Friends" in page.body
    event = client.http.get(urlsplit(saved["event_url"]).path)
    assert event.status_code == 200 and b"hiring your first engineers" in event.body  # public
    r = client.http.post(join, headers={"Content-Type": "application/x-www-form-urlencoded",
                                        "Origin": saved["base_url"]},
                         body=urlencode({"name": "Demo Visitor", "email": "visitor@example.com"}).encode())
    assert r.status_code == 200 and b"Check your email" in r.body
    assert len(list(outbox_dir.glob("*-join_confirm-*.eml"))) == 1


def test_the_demo_connector_finds_her_introduce_link_in_the_outbox_and_both_offers_arrive(
        client: Any, tmp_path: Path, outbox_dir: Path) -> None:
    """Issue 14's demo: Grace met Ana and Ben at two past meetups (checked in at the door);
    her links email in the outbox carries her introduce link; introducing them mails both."""
    seed(tmp_path / "demo.json")
    before = sorted(p.name for p in outbox_dir.glob("*.eml"))
    seed(tmp_path / "demo.json")  # a second run: no new past meetups, no second links email
    assert sorted(p.name for p in outbox_dir.glob("*.eml")) == before
    (links_mail,) = [m for m in mails(outbox_dir) if "grace@example.com" in str(m["To"])
                     and "introduce" in text_of(m).lower()]
    found = re.search(r"Introduce them: (\S+)", text_of(links_mail))
    assert found, text_of(links_mail)
    page = client.http.get(urlsplit(found.group(1)).path)
    assert page.status_code == 200
    body = page.body.decode()
    for name in ("Ana Duarte", "Ben Okafor", "Eva Lindqvist", "Kofi Mensah"):
        assert html.escape(name) in body  # whom she met at the two meetups
    assert "Jonas Weber" not in body and "@example.com" not in body
    people = {m.email: m.member_id for m in deps.store().members.all(json.loads(
        (tmp_path / "demo.json").read_text())["group_id"])}
    r = client.http.post(urlsplit(found.group(1)).path,
                         headers={"Content-Type": "application/x-www-form-urlencoded"},
                         body=urlencode({"member_ids": [people["ana@example.com"], people["ben@example.com"]],
                                         "note": "Ana is hiring backend engineers and Ben is one: "
                                                 "you should talk this week."}, doseq=True).encode())
    assert r.status_code == 200, r.body
    offers = [m for m in mails(outbox_dir) if str(m["Subject"]).startswith("Grace thinks you should meet")]
    assert sorted(str(m["To"]) for m in offers) == ["Ana Duarte <ana@example.com>",
                                                    "Ben Okafor <ben@example.com>"]
    assert "Ben Okafor" in str(next(m for m in offers if "ana@" in str(m["To"]))["Subject"])
