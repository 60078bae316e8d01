"""The fresh-link counter on moto and on DynamoDB Local (`any_table`): a count and its email's
outbox record are written together or not at all, so a stale read (two clicks at once) can
neither send a fourth link nor count a link that was never recorded."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chalicelib import deps
from chalicelib.models import Group, Member
from chalicelib.services import fresh_links, outbox
from chalicelib.store import keys
from tests.integration.test_store import group, member

DAY = date(2026, 11, 2)
KEEP = datetime(2026, 11, 4, tzinfo=UTC)


def _action(g: Group, m: Member, n: int) -> tuple[dict[str, Any], Any]:
    email = outbox.email("fresh_link", f"fresh_link:{m.member_id}:{DAY}:{n}", g, m, what="your lunch preferences",
                         link_url="https://lunch.example.test/lunch/t", expires_at=None, zone="UTC")
    return outbox.record_action(g, m, email)


def test_a_stale_count_writes_neither_count_nor_mail(any_table: str) -> None:
    g = group()
    m = member(g.group_id, "ana@example.com")
    deps.store().members.create_many(g.group_id, [m])
    repo, mailbox = deps.store().members, deps.store().outbox
    first, first_mail = _action(g, m, 1)
    assert repo.count_fresh_link(g.group_id, m.member_id, DAY, seen=0, expires_at=KEEP, mail_action=first)
    stale, stale_mail = _action(g, m, 2)
    assert not repo.count_fresh_link(g.group_id, m.member_id, DAY, seen=0, expires_at=KEEP, mail_action=stale)
    assert mailbox.get(g.group_id, m.member_id, stale_mail.mail_id) is None  # the mail went with the count
    assert mailbox.get(g.group_id, m.member_id, first_mail.mail_id) is not None
    assert repo.fresh_links_sent(g.group_id, m.member_id, DAY) == 1
    assert repo.count_fresh_link(g.group_id, m.member_id, DAY, seen=1, expires_at=KEEP, mail_action=stale)
    assert repo.fresh_links_sent(g.group_id, m.member_id, DAY) == 2
    item = deps.store().db.get(keys.fresh_link_count(g.group_id, m.member_id, DAY))
    assert item is not None and int(item["expires_at"]) == int(KEEP.timestamp())
    assert repo.fresh_links_sent(g.group_id, m.member_id, DAY + timedelta(days=1)) == 0  # a new day


def test_clicks_at_once_send_three_at_most(local_table: str, monkeypatch: Any) -> None:
    """Eight clicks at the same moment on the real engine: three emails, three counted."""
    from chalicelib import links

    g = group()
    m = member(g.group_id, "ben@example.com")
    deps.store().members.create_many(g.group_id, [m])
    token = links.signer().make("lunch", group_id=g.group_id, member_id=m.member_id, resource_id=g.group_id,
                                expires_at=deps.now() - timedelta(days=1))
    monkeypatch.setattr(outbox, "dispatch", lambda mails: None)  # recorded is what counts here

    def click(_: int) -> str:
        return fresh_links.email_fresh_link("lunch", token).outcome

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(click, range(8)))
    day = deps.now().astimezone(UTC).date()
    assert outcomes.count("sent") == 3 and set(outcomes) <= {"sent", "limited"}, outcomes
    assert deps.store().members.fresh_links_sent(g.group_id, m.member_id, day) == 3
    recorded = deps.store().db.query_all(partition=keys.mailbox(g.group_id, m.member_id))
    assert len([i for i in recorded if i.get("kind") == "fresh_link"]) == 3
