"""Invitation jobs: "invite everyone" answers at once, whatever the group's size.

The request checks what it can (the meetup is open, the programme exists, given ids are
members), records a job and hands its first page to the jobs worker. The worker records one
page of members' mail (transactions of 100), hands it to the mail worker (SQS batches of 10)
and hands on the next page. The mail worker moves the job's counters as mail goes out; the job
is done when every page is recorded and every recorded mail is sent, suppressed or dead.
Each step is idempotent: a page is recorded once (its number guards it), a mail once (its
dedupe key), so SQS redelivery and a retried request change nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from chalicelib import deps, errors, ids, observe, workers
from chalicelib.models import Group, Job, JobKind, Member
from chalicelib.services import lunch, outbox, rsvp
from chalicelib.services.members import recipients

log = logging.getLogger(__name__)

PAGE_SIZE = 100  # members a jobs-worker message records: one transaction of mail, about a second of rendering
OVERDUE = timedelta(hours=1)  # a job still running after this is reported (JobsOverdue)


def invite_to_meetup(group_id: str, meetup_id: str, member_ids: Sequence[str] | None) -> Job:
    """Queue a personal RSVP email to the given members, or to every subscribed one."""
    rsvp.require_invitable(group_id, meetup_id)
    return _start(group_id, "invite.meetup", member_ids, meetup_id=meetup_id)


def invite_to_lunch(group_id: str, member_ids: Sequence[str] | None) -> Job:
    """Queue a lunch-programme invitation to the given members, or to every subscribed one."""
    lunch.get_program(group_id)
    return _start(group_id, "invite.lunch", member_ids)


def _start(group_id: str, kind: JobKind, member_ids: Sequence[str] | None, *,
           meetup_id: str | None = None) -> Job:
    given = None if member_ids is None else [m.member_id for m in recipients(group_id, member_ids)]
    now = deps.now()
    job = Job(job_id=ids.new_id("job", now_ms=int(now.timestamp() * 1000)), group_id=group_id,
              kind=kind, meetup_id=meetup_id, member_ids=given, created_at=now)
    deps.store().jobs.create(job)
    workers.send("job.invite", group_id=group_id, job_id=job.job_id, page=0)
    return job


def get_job(group_id: str, job_id: str) -> Job:
    return deps.store().jobs.require(group_id, job_id)


# ---------------------------------------------------------------- the jobs worker


def page_to_do(body: dict[str, Any], kinds: tuple[JobKind, ...]) -> Job | None:
    """The job a jobs-worker message names, when the page it names is still to do: None for a
    malformed message, a job of another kind, or a redelivery of a page already done (SQS
    delivers at least once)."""
    group_id, job_id, page = body.get("group_id"), body.get("job_id"), body.get("page")
    if not isinstance(group_id, str) or not isinstance(job_id, str) or not isinstance(page, int):
        log.error("job message without ids dropped")
        return None
    job = deps.store().jobs.get(group_id, job_id)
    if job is None or job.kind not in kinds or job.page != page or job.pages_done or job.status in ("done", "failed"):
        return None
    return job


def invite_page_work(body: dict[str, Any]) -> None:
    """Record one page of a job's mail, then hand on the next page (or finish)."""
    job = page_to_do(body, ("invite.meetup", "invite.lunch"))
    if job is None:
        return
    store = deps.store()
    group_id, job_id, page = job.group_id, job.job_id, job.page
    group = store.groups.get(group_id)
    if group is None:
        return
    now = deps.now()
    members, next_cursor = _page(job)
    wanted = [m for m in members if m.mailable]
    try:
        batch = _invitations(job, group, wanted)
    except errors.PowerlunchError as exc:  # the meetup closed or was cancelled meanwhile
        store.jobs.finish(job, "failed", now, error=exc.message)
        return
    recorded = outbox.queue_many(group, batch, job_id=job.job_id)
    moved = store.jobs.record_page(job, cursor=next_cursor, last=next_cursor is None, now=now, counts={
        "total": len(members), "recorded": recorded, "skipped": len(members) - recorded})
    if moved is None:
        return
    if next_cursor is not None:
        workers.send("job.invite", group_id=group_id, job_id=job_id, page=page + 1)
    elif store.jobs.finish_if_settled(moved, now):  # nothing left to send (all skipped, say)
        observe.count(observe.JOBS_FINISHED)


def _page(job: Job) -> tuple[list[Member], str | None]:
    """One page of the job's members and where the next starts (None: this was the last)."""
    store = deps.store()
    if job.member_ids is not None:
        start = int(job.cursor or 0)
        chunk = job.member_ids[start:start + PAGE_SIZE]
        found = {m.member_id: m for m in store.members.get_many(job.group_id, chunk)}
        more = start + PAGE_SIZE < len(job.member_ids)
        return [found[mid] for mid in chunk if mid in found], str(start + PAGE_SIZE) if more else None
    return store.members.page(job.group_id, limit=PAGE_SIZE, cursor=job.cursor)


def _invitations(job: Job, group: Group, members: Sequence[Member]) -> list[tuple[Member, Any]]:
    if job.kind == "invite.meetup":
        assert job.meetup_id is not None
        meetup = rsvp.require_invitable(job.group_id, job.meetup_id)
        return rsvp.invitations(group, meetup, members)
    return lunch.invitations(group, members)


def overdue_jobs(now: datetime) -> int:
    """How many jobs have been running longer than OVERDUE (the hourly check reports them)."""
    return sum(1 for _ in deps.store().jobs.running_since(now - OVERDUE))
