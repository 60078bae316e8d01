"""`make run`'s demo seed: idempotent, and .local/demo.json names the demo group's public pages,
which answer (a person can join from the join link and find the confirmation in the outbox)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from scripts.seed_demo import seed


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
