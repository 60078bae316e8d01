"""The outbox seen from a member's inbox: .eml files, headers, unsubscribe, retries."""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from chalice.test import Client

from chalicelib import deps, workers
from chalicelib.mail import sender
from chalicelib.services import outbox
from chalicelib.store import keys


def inbox(folder: Path) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for p in sorted(folder.glob("*.eml"))]


def hello(n: int = 1) -> outbox.Email:
    return outbox.Email(kind="hello", dedupe_key=f"hello:{n}", subject="Welcome <friends>",
                        text="Hi there", html="<p>Hi there</p>")


@pytest.fixture
def member(org: Any) -> Any:
    org.patch(org.base, {"sender_name": "Lisbon Founders, Lunch Club"})
    mid = org.post("members", {"email": "ana@example.com", "name": "Ana Duarte"}).data["created"][0]["member_id"]
    store = deps.store()
    return store.groups.require(org.group_id), store.members.require(org.group_id, mid)


def test_queued_mail_arrives_once_with_sender_reply_to_and_unsubscribe(member: Any, outbox_dir: Path) -> None:
    group, m = member
    assert outbox.queue(group, m, hello()) is True
    assert outbox.queue(group, m, hello()) is False  # same dedupe key: recorded once
    (msg,) = inbox(outbox_dir)
    assert msg["To"].addresses[0].addr_spec == "ana@example.com"
    assert msg["From"].addresses[0].display_name == "Lisbon Founders, Lunch Club"
    assert msg["Reply-To"].addresses[0].addr_spec == "organizer@example.com"
    assert msg["Subject"] == "Welcome <friends>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["List-Unsubscribe"].startswith("<https://lunch.example.test/unsubscribe/")
    assert msg.get_body(("plain",)).get_content().strip() == "Hi there"  # type: ignore[union-attr]
    stored = deps.store().outbox.get(group.group_id, m.member_id, keys.mail_id("hello:1"))
    assert stored is not None and stored.status == "sent"


def test_unsubscribe_get_changes_nothing_one_click_post_stops_mail(client: Client, member: Any,
                                                                  outbox_dir: Path) -> None:
    group, m = member
    outbox.queue(group, m, hello(1))
    (msg,) = inbox(outbox_dir)
    path = urlsplit(msg["List-Unsubscribe"].strip("<>")).path
    page = client.http.get(path)
    assert page.status_code == 200 and b"<form" in page.body
    assert "script-src" not in page.headers["Content-Security-Policy"]
    assert deps.store().members.require(group.group_id, m.member_id).subscribed is True
    done = client.http.post(path, headers={"Content-Type": "application/x-www-form-urlencoded"},
                            body=b"List-Unsubscribe=One-Click")
    assert done.status_code == 200 and b"unsubscribed" in done.body
    assert deps.store().members.require(group.group_id, m.member_id).subscribed is False
    outbox.queue(group, m, hello(2))
    assert len(inbox(outbox_dir)) == 1  # nothing more for them
    later = deps.store().outbox.get(group.group_id, m.member_id, keys.mail_id("hello:2"))
    assert later is not None and later.status == "suppressed"


def test_tampered_and_expired_unsubscribe_links_get_403_and_410_pages(client: Client, member: Any,
                                                                     outbox_dir: Path, clock: Any) -> None:
    group, m = member
    outbox.queue(group, m, hello())
    path = urlsplit(inbox(outbox_dir)[0]["List-Unsubscribe"].strip("<>")).path
    flipped = path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:]
    r = client.http.get(flipped)
    assert r.status_code == 403
    assert "This link doesn" in r.body.decode()
    r = client.http.post(flipped, headers={"Content-Type": "application/x-www-form-urlencoded"},
                         body=b"List-Unsubscribe=One-Click")
    assert r.status_code == 403
    clock.advance(days=401)
    assert client.http.get(path).status_code == 410
    assert deps.store().members.require(group.group_id, m.member_id).subscribed is True


def test_a_failed_send_is_kept_and_retried_until_sent_once(member: Any, outbox_dir: Path,
                                                          monkeypatch: pytest.MonkeyPatch, clock: Any) -> None:
    group, m = member
    real = sender.send_raw
    calls = {"n": 0}

    def flaky(raw: bytes, **kw: Any) -> str:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise sender.SendFailed("Throttling: Maximum sending rate exceeded")
        return real(raw, **kw)

    monkeypatch.setattr(sender, "send_raw", flaky)
    outbox.queue(group, m, hello())
    assert inbox(outbox_dir) == []
    stored = deps.store().outbox.get(group.group_id, m.member_id, keys.mail_id("hello:1"))
    assert stored is not None and stored.status == "queued" and "Throttling" in (stored.last_error or "")
    assert outbox.requeue_overdue(clock.advance(minutes=1)) == 0  # too fresh to sweep
    clock.advance(minutes=5)
    outbox.requeue_overdue(deps.now())
    clock.advance(minutes=5)
    outbox.requeue_overdue(deps.now())
    assert len(inbox(outbox_dir)) == 1 and calls["n"] == 3
    clock.advance(minutes=5)
    assert outbox.requeue_overdue(deps.now()) == 0


def test_sqs_worker_reports_only_failed_records(member: Any, outbox_dir: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    group, m = member
    monkeypatch.setenv("WORK_MODE", "sqs")
    monkeypatch.setenv("MAIL_QUEUE_URL", "unused")
    deps.settings.cache_clear()
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(workers, "send_many", lambda kind, many, **_: sent.extend(
        workers.message(kind, **ids) for ids in many))
    outbox.queue(group, m, hello(1))
    outbox.queue(group, m, hello(2))
    assert inbox(outbox_dir) == [] and len(sent) == 2

    class Record:
        def __init__(self, body: dict[str, Any], mid: str) -> None:
            self._d = {"body": json.dumps(body), "messageId": mid}

        def to_dict(self) -> dict[str, Any]:
            return self._d

    bad = {"kind": "mail.deliver", "group_id": group.group_id, "member_id": m.member_id, "mail_id": "0" * 32}
    broken = {"kind": "mail.deliver", "group_id": group.group_id}  # missing ids: fails (to the DLQ in time)
    unknown = {"kind": "mail.teleport", "group_id": group.group_id}  # no such work: fails too
    records = [Record(sent[0], "m-1"), Record(bad, "m-2"), Record(broken, "m-3"), Record(sent[0], "m-4"),
               Record(unknown, "m-5")]
    answer = workers.handle_sqs(workers.MAIL, records)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m-3"}, {"itemIdentifier": "m-5"}]}
    assert len(inbox(outbox_dir)) == 1  # the redelivered m-4 sent nothing twice
