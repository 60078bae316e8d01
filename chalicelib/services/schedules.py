"""What the hourly schedule does: find what is due and fan it out as messages, by id.

It renders no email and runs no round itself (STYLE.md rule 7): each unit of work goes to its
worker (chalicelib/workers.py), in SendMessageBatch calls of 10, and each is idempotent, so a
second run at once, or a redelivered message, does nothing twice.
"""

from __future__ import annotations

import logging
from datetime import datetime

from chalicelib import observe, workers

log = logging.getLogger(__name__)


def run_hourly(now: datetime) -> dict[str, int]:
    """Each feature's due work, as messages; answers how many of each went out."""
    from chalicelib.services import jobs, outbox, pairing, rsvp

    done: dict[str, int] = {}
    done["lunch_rounds"] = pairing.start_due_rounds(now)
    done["lunch_followups"] = workers.send_many("lunch.followups", pairing.followups_due(now))
    done["meetup_reminders"] = workers.send_many("rsvp.reminders", rsvp.reminders_due(now))
    done["mail_requeued"] = outbox.requeue_overdue(now)
    done["jobs_overdue"] = jobs.overdue_jobs(now)
    observe.count("JobsOverdue", done["jobs_overdue"])
    log.info("hourly fan-out", extra=done)
    return done
