"""What the hourly schedule does: find what is due and fan it out as messages, by id.

It renders no email and runs no round itself (STYLE.md rule 7): each unit of work goes to its
worker (chalicelib/workers.py), in SendMessageBatch calls of 10, and each is idempotent, so a
second run at once, or a redelivered message, does nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from chalicelib import observe, workers

log = logging.getLogger(__name__)


def run_hourly(now: datetime) -> dict[str, int]:
    """Each feature's due work, as messages; answers how many of each went out."""
    from chalicelib.services import (
        followups,
        intros,
        jobs,
        meetup_people,
        outbox,
        pairing,
        pairs,
        review,
        rsvp,
        waitlist_lunch,
    )

    steps: dict[str, Callable[[], int]] = {
        "lunch_rounds": lambda: pairing.start_due_rounds(now),
        "lunch_followups": lambda: workers.send_many("lunch.followups", followups.followups_due(now)),
        "lunch_reconnects": lambda: workers.send_many("lunch.reconnects", followups.reconnects_due(now)),
        "lunch_timers": lambda: sum(workers.send_many(kind, bodies)
                                    for kind, bodies in pairs.timers_due(now).items()),
        "lunch_reviews_expired": lambda: workers.send_many("lunch.review_expiry", review.reviews_due(now)),
        "intros_expired": lambda: workers.send_many("intros.expire", intros.expired_due(now)),
        "intros_thanks": lambda: workers.send_many("intros.thanks", intros.thanks_due(now)),
        "meetup_reminders": lambda: workers.send_many("rsvp.reminders", rsvp.reminders_due(now)),
        "meetup_people": lambda: workers.send_many("rsvp.meetup_people", meetup_people.suggestions_due(now)),
        "meetup_people_asks": lambda: workers.send_many("rsvp.meetup_met", meetup_people.asks_due(now)),
        "waitlist_lunches": lambda: workers.send_many("lunch.waitlist", waitlist_lunch.waitlists_due(now)),
        "mail_requeued": lambda: outbox.requeue_overdue(now),
        "jobs_overdue": lambda: jobs.overdue_jobs(now),
    }
    done: dict[str, int] = {}
    failed = []
    for name, step in steps.items():
        try:  # one step failing (DynamoDB busy, say) must not keep the others from running
            done[name] = step()
        except Exception:
            log.exception("hourly step failed", extra={"step": name})
            failed.append(name)
    if "jobs_overdue" in done:
        observe.count(observe.JOBS_OVERDUE, done["jobs_overdue"])
    log.info("hourly fan-out", extra=done)
    if failed:  # after the others ran: the invocation fails, so it shows in the function's errors
        raise RuntimeError(f"hourly steps failed: {', '.join(failed)}")
    return done
