"""SES answers put on the wire for tests: an error response in place of a send (botocore's
`before-send` hook), and a GetSendQuota answer (`before-call`, which short-circuits the call)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


class _RawBody:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


class _Ok:
    """The HTTP half of a short-circuited call (`before-call` answers (http, parsed))."""

    status_code = 200


def error(request: Any, status: int, code: str, message: str) -> Any:
    """SES's error answer to `request`. Every before-send handler runs (botocore keeps the first
    answer): the request is sent on to an address moto's stubber does not serve, so it records
    no send."""
    from botocore.awsrequest import AWSResponse

    request.url = "https://fault-injected.invalid/"
    body = json.dumps({"message": message}).encode()
    return AWSResponse(request.url, status, {"x-amzn-ErrorType": code, "Content-Type": "application/json"},
                       _RawBody(body))


def quota(rate: float, per_day: float) -> tuple[Any, dict[str, float]]:
    """GetSendQuota's answer: `rate` mails a second, `per_day` a day, none sent yet (moto
    answers the sandbox's 1 a second and 200 a day)."""
    return _Ok(), {"Max24HourSend": per_day, "MaxSendRate": rate, "SentLast24Hours": 0.0}
