"""powerlunch: wires the blueprints, the schedules and the queue workers. Nothing else lives here."""

from __future__ import annotations

from typing import Any

from chalice import Chalice, Rate
from chalice.app import CloudWatchEvent, SNSEvent, SQSEvent

from chalicelib import config, deps, observe, workers
from chalicelib.routes import (
    console,
    console_insights,
    console_lunch,
    console_meetups,
    console_members,
    http,
    intro_pages,
    lunch_pages,
    meetup_pages,
    organizer,
    organizer_insights,
    organizer_intros,
    organizer_lunch,
    organizer_rsvps,
    public_pages,
    rsvp_pages,
    settings_pages,
    unsubscribe_pages,
)

app = Chalice(app_name="powerlunch")
app.register_middleware(http.rewrite_chalice_errors, "http")
app.register_blueprint(organizer.bp)
app.register_blueprint(organizer_rsvps.bp)
app.register_blueprint(rsvp_pages.bp)
app.register_blueprint(unsubscribe_pages.bp)
app.register_blueprint(organizer_lunch.bp)
app.register_blueprint(organizer_insights.bp)
app.register_blueprint(lunch_pages.bp)
app.register_blueprint(settings_pages.bp)
app.register_blueprint(public_pages.bp)
app.register_blueprint(console.bp)
app.register_blueprint(console_insights.bp)
app.register_blueprint(console_lunch.bp)
app.register_blueprint(console_meetups.bp)
app.register_blueprint(console_members.bp)
app.register_blueprint(intro_pages.bp)
app.register_blueprint(organizer_intros.bp)
app.register_blueprint(meetup_pages.bp)


@app.schedule(Rate(1, unit=Rate.HOURS), name="hourly")
def hourly(event: CloudWatchEvent) -> dict[str, int]:
    """Finds what is due and fans it out as messages; does none of the work itself."""
    from chalicelib.services import schedules

    observe.configure()
    with observe.invocation(kind="hourly", request_id=_request_id(event)):
        return schedules.run_hourly(deps.now())


# The queues and what each carries: chalicelib/workers.py, the one map of background work.


@app.on_sqs_message(queue=workers.MAIL.name, batch_size=workers.MAIL.batch_size, name=workers.MAIL.function)
def mail_worker(event: SQSEvent) -> dict[str, Any]:
    return workers.handle_sqs(workers.MAIL, list(event))


@app.on_sqs_message(queue=workers.PAIRING.name, batch_size=workers.PAIRING.batch_size,
                    name=workers.PAIRING.function)
def pairing_worker(event: SQSEvent) -> dict[str, Any]:
    return workers.handle_sqs(workers.PAIRING, list(event))


@app.on_sqs_message(queue=workers.RSVP.name, batch_size=workers.RSVP.batch_size, name=workers.RSVP.function)
def rsvp_worker(event: SQSEvent) -> dict[str, Any]:
    return workers.handle_sqs(workers.RSVP, list(event))


@app.on_sqs_message(queue=workers.JOBS.name, batch_size=workers.JOBS.batch_size, name=workers.JOBS.function)
def jobs_worker(event: SQSEvent) -> dict[str, Any]:
    return workers.handle_sqs(workers.JOBS, list(event))


# SES bounces and complaints: the configuration set's SNS topic (infra/build_template.py).
@app.on_sns_message(topic=config.SES_EVENTS_TOPIC, name="ses_events")
def ses_events(event: SNSEvent) -> dict[str, Any]:
    from chalicelib.services import bounces

    return bounces.handle_sns(event.to_dict())


def _request_id(event: Any) -> str | None:
    context = getattr(event, "context", None)
    return getattr(context, "aws_request_id", None)
