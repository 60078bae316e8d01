"""What the hourly schedule does: find due work and fan it out by id (never the work itself)."""

from __future__ import annotations

import logging
from datetime import datetime

log = logging.getLogger(__name__)


def run_hourly(now: datetime) -> dict[str, int]:
    """Each feature's due work; each step is idempotent, so a second run at once does nothing."""
    from chalicelib.services import outbox, rsvp

    done: dict[str, int] = {}
    done["lunch_rounds_started"], done["lunch_followups_queued"] = _lunch(now)
    done["reminders_queued"] = rsvp.send_reminders(now)
    done["mail_retried"] = outbox.retry_stuck(now)
    return done


def _lunch(now: datetime) -> tuple[int, int]:
    from chalicelib.services import pairing

    return pairing.start_due_rounds(now), pairing.send_followups(now)
