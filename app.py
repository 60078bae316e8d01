"""powerlunch: wires the blueprints, the schedules and the queue workers. Nothing else lives here."""

from __future__ import annotations

from typing import Any

from chalice import Chalice, Rate
from chalice.app import CloudWatchEvent, SQSEvent

from chalicelib import deps
from chalicelib.routes import (
    http,
    lunch_pages,
    organizer,
    organizer_lunch,
    organizer_rsvps,
    rsvp_pages,
    unsubscribe_pages,
)

app = Chalice(app_name="powerlunch")
app.register_middleware(http.rewrite_chalice_errors, "http")
app.register_blueprint(organizer.bp)
app.register_blueprint(organizer_rsvps.bp)
app.register_blueprint(rsvp_pages.bp)
app.register_blueprint(unsubscribe_pages.bp)
app.register_blueprint(organizer_lunch.bp)
app.register_blueprint(lunch_pages.bp)


@app.schedule(Rate(1, unit=Rate.HOURS), name="hourly")
def hourly(event: CloudWatchEvent) -> dict[str, int]:
    from chalicelib.services import schedules

    return schedules.run_hourly(deps.now())


@app.on_sqs_message(queue="powerlunch-mail", batch_size=10, name="mail_worker")
def mail_worker(event: SQSEvent) -> dict[str, Any]:
    from chalicelib.services import outbox

    return outbox.handle_records(outbox.MAIL_QUEUE, list(event))


@app.on_sqs_message(queue="powerlunch-pairing", batch_size=1, name="pairing_worker")
def pairing_worker(event: SQSEvent) -> dict[str, Any]:
    from chalicelib.services import outbox, pairing

    return outbox.handle_records(pairing.PAIRING_QUEUE, list(event))


@app.on_sqs_message(queue="powerlunch-rsvp", batch_size=5, name="rsvp_worker")
def rsvp_worker(event: SQSEvent) -> dict[str, Any]:
    from chalicelib.services import outbox, rsvp

    return outbox.handle_records(rsvp.RSVP_QUEUE, list(event))
