"""Log lines are JSON with the work's context and never carry an address or a token; counts leave
as CloudWatch Embedded Metric Format lines that CloudWatch would accept."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib import observe
from chalicelib.tokens import Signer

ADDRESS = "ada.lovelace+lunch@example.org"
MEMBER_ID = "mem_01hx5k3v9q8w7e6r5t4y3u2i1o"
SECRET = "k3J9x!Qw7Lm2Zp8Rt4Vb6Nc1Yh5Gd0Fs"


@pytest.fixture(autouse=True)
def _no_pending_metrics() -> Iterator[None]:
    observe.flush()
    yield
    observe.flush()


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger of its own writing through the JSON formatter into a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(observe.JsonFormatter())
    logger = logging.getLogger("tests.observe")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield logger, buffer
    logger.removeHandler(handler)


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    text = buffer.getvalue()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def a_token() -> str:
    return Signer(SECRET).make(
        "rsvp",
        group_id="grp_01hx5k3v9q8w7e6r5t4y3u2i1o",
        member_id=MEMBER_ID,
        resource_id="mtp_01hx5k3v9q8w7e6r5t4y3u2i1o",
        expires_at=datetime.now(UTC) + timedelta(days=3),
    )


API_KEY = "pl.key_01hx5k3v9q8w7e6r5t4y3u2i1o." + "Zq3_-x" * 7 + "A"


def test_a_log_line_is_one_json_object_with_the_context(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, buffer = logged
    with observe.context(kind="mail.deliver", request_id="req-1"), observe.context(message_id="msg-1"):
        logger.info("mail %s sent", "mail_01", extra={"attempt": 2, "mail_id": "mail_01"})
    logger.warning("outside")

    inside, outside = lines(buffer)
    assert inside["level"] == "INFO"
    assert inside["message"] == "mail mail_01 sent"
    assert inside["logger"] == "tests.observe"
    stamp = datetime.fromisoformat(inside["timestamp"])
    assert stamp.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - stamp) < timedelta(minutes=1)
    assert (inside["kind"], inside["message_id"], inside["request_id"]) == ("mail.deliver", "msg-1", "req-1")
    assert (inside["attempt"], inside["mail_id"]) == (2, "mail_01")
    # The context ends with its block.
    assert outside["level"] == "WARNING"
    assert not {"kind", "message_id", "request_id"} & outside.keys()


def test_the_lambda_request_id_stands_in_when_no_context_gives_one(
    logged: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, buffer = logged
    logger.info("hello", extra={"aws_request_id": "lambda-req-9"})
    (line,) = lines(buffer)
    assert line["request_id"] == "lambda-req-9"
    assert "aws_request_id" not in line


def test_addresses_and_tokens_are_redacted_everywhere(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, buffer = logged
    token = a_token()
    link = f"https://lunch.example/rsvp/{token}"
    with observe.context(kind="rsvp.answer", recipient=ADDRESS):
        logger.info(
            "invited %s with %s (member %s)",
            ADDRESS,
            link,
            MEMBER_ID,
            extra={"to": [ADDRESS], "detail": {"note": f"key {API_KEY}"}, "email": "x", "token": "y"},
        )
        try:
            raise RuntimeError(f"SES refused {ADDRESS}; Authorization: Bearer {API_KEY}; token {token}")
        except RuntimeError:
            logger.exception("send failed for <%s>", ADDRESS)

    text = buffer.getvalue()
    for secret in (ADDRESS, token, token.split(".")[-1], API_KEY, API_KEY.split(".")[-1], "example.org"):
        assert secret not in text
    info, error = lines(buffer)
    assert info["message"] == f"invited <address> with https://lunch.example/rsvp/<token> (member {MEMBER_ID})"
    assert info["to"] == ["<address>"]
    assert info["detail"] == {"note": "key <token>"}
    assert info["email"] == info["token"] == observe.REDACTED
    assert info["recipient"] == "<address>"
    assert error["message"] == "send failed for <<address>>"
    assert error["exception_type"] == "RuntimeError"
    assert "RuntimeError: SES refused <address>; Authorization: Bearer <token>; token <token>" in error["exception"]


def test_ids_and_ordinary_text_are_left_alone() -> None:
    text = f"member {MEMBER_ID} in chalicelib.services.outbox at 2026-12-01T10:00:00+00:00, 3 of 4 sent"
    assert observe.redact(text) == text


def test_configure_installs_one_json_handler_however_often_it_is_called(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    monkeypatch.setattr(observe, "_configured", False)
    monkeypatch.setattr(root, "handlers", [h for h in root.handlers if not isinstance(h, observe._StderrHandler)])
    monkeypatch.setattr(root, "level", root.level)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)

    observe.configure("info")
    observe.configure("info")
    ours = [h for h in root.handlers if isinstance(h.formatter, observe.JsonFormatter)]
    assert len(ours) == 1
    assert root.level == logging.INFO

    capsys.readouterr()
    logging.getLogger("chalicelib.anything").info("to %s", ADDRESS)
    out, err = capsys.readouterr()
    (line,) = [json.loads(x) for x in err.splitlines()]
    assert line["message"] == "to <address>"
    assert out == ""  # stdout is for what a program prints (the CLI's JSON, metric lines)


def emf_check(document: dict[str, Any]) -> None:
    """The EMF specification's rules for one document (what CloudWatch Logs would reject)."""
    aws = document["_aws"]
    assert isinstance(aws["Timestamp"], int)
    assert abs(aws["Timestamp"] / 1000 - datetime.now(UTC).timestamp()) < 60
    directives = aws["CloudWatchMetrics"]
    assert isinstance(directives, list) and directives
    for directive in directives:
        assert set(directive) == {"Namespace", "Dimensions", "Metrics"}
        assert directive["Namespace"] == "powerlunch"
        assert isinstance(directive["Dimensions"], list) and directive["Dimensions"]
        for dimension_set in directive["Dimensions"]:
            assert isinstance(dimension_set, list) and len(dimension_set) <= 30
            for key in dimension_set:
                assert isinstance(document[key], str) and document[key]
        assert 1 <= len(directive["Metrics"]) <= 100
        for metric in directive["Metrics"]:
            assert set(metric) <= {"Name", "Unit", "StorageResolution"}
            assert metric["Unit"] == "Count"
            value = document[metric["Name"]]
            assert isinstance(value, int | float) and not isinstance(value, bool)


def test_counts_leave_as_embedded_metric_lines(capsys: pytest.CaptureFixture[str]) -> None:
    observe.count(observe.MAIL_SENT)
    observe.count(observe.MAIL_SENT, 2)
    observe.count(observe.MAIL_DEAD)
    observe.count(observe.RSVPS, answer="going")
    observe.count(observe.RSVPS, answer="going")
    observe.count(observe.RSVPS, answer="declined")
    assert observe.pending() == {"MailSent": 3, "MailDead": 1, "Rsvps": 3}

    returned = observe.flush()
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert printed == returned
    assert len(printed) == 3  # one line per dimension set
    for document in printed:
        emf_check(document)
    plain = next(d for d in printed if "answer" not in d)
    assert plain["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [[]]
    assert (plain["MailSent"], plain["MailDead"]) == (3, 1)
    by_answer = {d["answer"]: d for d in printed if "answer" in d}
    assert by_answer["going"]["Rsvps"] == 2 and by_answer["declined"]["Rsvps"] == 1
    # Also published without the dimension, so the namespace-wide series holds every count.
    assert by_answer["going"]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["answer"], []]


def test_flush_clears(capsys: pytest.CaptureFixture[str]) -> None:
    observe.count(observe.ROUNDS_RUN)
    assert len(observe.flush()) == 1
    capsys.readouterr()
    assert observe.flush() == []
    assert observe.pending() == {}
    assert capsys.readouterr().out == ""


def test_an_invocation_flushes_even_when_it_fails(
    logged: tuple[logging.Logger, io.StringIO],
    capsys: pytest.CaptureFixture[str],
) -> None:
    logger, buffer = logged

    @observe.invocation(kind="lunch.round", message_id="msg-7")
    def work() -> None:
        observe.count(observe.ROUNDS_RUN)
        logger.info("started")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        work()
    (document,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    emf_check(document)
    assert document["RoundsRun"] == 1
    assert lines(buffer)[0]["kind"] == "lunch.round"
    assert observe.current() == {}


def test_a_metric_with_a_bad_dimension_is_refused() -> None:
    with pytest.raises(ValueError):
        observe.count(observe.MAIL_SENT, MailDead="x")  # would collide with a metric value
    with pytest.raises(ValueError):
        observe.count(observe.MAIL_SENT, kind="")
    assert observe.pending() == {}
