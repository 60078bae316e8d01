"""The hourly schedule only fans out (STYLE.md rule 7): it finds what is due and sends one
message per unit of work, in SendMessageBatch calls of 10, and renders no email itself. The
workers then do the work from those messages (SQS on moto, drained by scripts/sqs_poller.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import boto3
import pytest

from chalicelib import deps, links, workers
from chalicelib.services import schedules
from scripts.sqs_poller import SqsQueues
from tests.api.test_lunch_api import PROGRAM, opt_in_nine, run_round


def _meetup_with_someone_going(client: Any, org: Any, member_id: str, n: int, starts: datetime) -> None:
    local = starts.astimezone(ZoneInfo("Europe/Lisbon")).replace(tzinfo=None)
    r = org.post("meetups", {"title": f"Meetup {n}", "starts_at": local.isoformat(),
                             "ends_at": (local + timedelta(hours=2)).isoformat(), "timezone": "Europe/Lisbon",
                             "venue": {"name": "Hall", "address": "Rua 1"}})
    assert r.status_code == 201, r.data
    url = links.rsvp_url(org.group_id, r.data["meetup_id"], member_id, datetime.fromisoformat(r.data["ends_at"]))
    answered = client.http.post(urlsplit(url).path, headers={"Content-Type": "application/x-www-form-urlencoded"},
                                body=urlencode({"answer": "going"}).encode())
    assert answered.status_code == 200


def test_the_hourly_job_sends_messages_for_30_reminders_and_5_followups_and_renders_no_email(
        client: Any, org: Any, clock: Any, outbox_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = opt_in_nine(client, org)
    org.call("PUT", "lunch-program", PROGRAM | {"enabled": False})  # rounds by hand only
    for _ in range(5):
        assert run_round(org)["status"] == "done"
    clock.advance(days=7, hours=1)  # the five rounds' follow-ups are due
    starts = (deps.now() + timedelta(hours=24)).replace(second=0, microsecond=0)
    for n in range(30):
        _meetup_with_someone_going(client, org, ids[n % 9], n, starts + timedelta(minutes=n))
    before = sorted(p.name for p in outbox_dir.glob("*.eml"))

    queues = SqsQueues.create(boto3.client("sqs", region_name="us-east-1"))
    queues.set_env(monkeypatch.setenv)
    deps.settings.cache_clear()
    batches: list[int] = []
    deps.sqs_client().meta.events.register(
        "provide-client-params.sqs.SendMessageBatch", lambda params, **_: batches.append(len(params["Entries"])))

    def no_rendering(*_: Any, **__: Any) -> Any:
        raise AssertionError("the hourly function rendered an email")

    with monkeypatch.context() as m:
        m.setattr("chalicelib.mail.render.render_email", no_rendering)
        m.setattr("chalicelib.services.outbox.queue_many", no_rendering)
        done = schedules.run_hourly(deps.now())

    assert done["meetup_reminders"] == 30 and done["lunch_followups"] == 5, done
    assert sorted(batches) == [5, 10, 10, 10]  # SendMessageBatch calls of 10
    reminders, followups = queues.bodies(workers.RSVP), queues.bodies(workers.PAIRING)
    assert {b["kind"] for b in reminders} == {"rsvp.reminders"} and len(reminders) == 30
    assert {b["kind"] for b in followups} == {"lunch.followups"} and len(followups) == 5
    assert all(set(b) == {"kind", "group_id", "meetup_id"} for b in reminders)  # ids only
    assert sorted(p.name for p in outbox_dir.glob("*.eml")) == before  # nothing was sent

    # The workers do the work from those messages.
    for body in reminders + followups:  # (received above for the asserts: put them back)
        workers.send(body["kind"], **{k: v for k, v in body.items() if k != "kind"})
    queues.drain()
    after = [p.name for p in outbox_dir.glob("*.eml") if p.name not in before]
    assert sum("meetup_reminder" in name for name in after) == 30
    assert sum("lunch_followup" in name for name in after) >= 5 * 8  # everyone paired, each round
