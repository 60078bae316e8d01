"""Round-trip budgets (issue 6), asserted: DynamoDB API calls per request, counted with botocore
event hooks on the app's one client, requests through the Chalice test client on DynamoDB Local,
WORK_MODE=sqs with the SQS dispatch recorded (delivery is the mail worker's, not the request's).

The counts are deterministic, so a new round trip fails here. The scenarios are
bench/roundtrips.py's, the same ones `make bench` reports in bench/RESULTS.md.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from bench import roundtrips
from bench.roundtrips import WRITES, Figure

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def figures(ddb_local_endpoint: str) -> dict[str, Figure]:
    return roundtrips.measure(ddb_local_endpoint)


def writes(f: Figure) -> int:
    return sum(f.calls.get(op, 0) for op in WRITES)


def test_rsvp_page_is_one_read_and_no_write(figures: dict[str, Figure]) -> None:
    page = figures["RSVP page GET"]
    assert page.total <= 2, page.calls
    assert writes(page) == 0, page.calls  # a GET never changes state (mail scanners open links)
    assert page.calls == {"BatchGetItem": 1}


@pytest.mark.parametrize("name", ["RSVP POST going", "RSVP POST waitlisted"])
def test_an_answer_is_two_round_trips_and_one_sqs_dispatch(figures: dict[str, Figure], name: str) -> None:
    f = figures[name]
    assert f.total <= 2, f.calls
    assert f.calls == {"BatchGetItem": 1, "TransactWriteItems": 1}
    assert f.sqs == {"mail": 1}  # the confirmation, delivered by the worker


def test_the_same_answer_again_writes_nothing_and_sends_nothing(figures: dict[str, Figure]) -> None:
    f = figures["RSVP POST going again (no change)"]
    assert f.calls == {"BatchGetItem": 1} and not f.sqs


def test_a_decline_that_promotes_one_adds_one_transaction(figures: dict[str, Figure]) -> None:
    """Budget: the answer's 2, plus one transaction per promoted RSVP. The request does the
    answer; the promotion runs in the RSVP worker (one SQS message), one transaction each."""
    f = figures["RSVP POST decline that promotes one"]
    assert f.sqs == {"mail": 1, "rsvp": 1}  # the decliner's confirmation; the promotion job
    assert f.calls == {"BatchGetItem": 1, "TransactWriteItems": 1}
    w = figures["promotion of one (RSVP worker)"]
    assert w.calls.get("TransactWriteItems") == 1, w.calls  # one per promoted RSVP
    assert w.sqs == {"mail": 1}  # the promoted member's notice, recorded in that transaction
    assert w.calls == {"GetItem": 3, "Query": 1, "TransactWriteItems": 1}, w.calls


def test_one_delivery_is_counted_apart_from_the_request(figures: dict[str, Figure]) -> None:
    f = figures["delivery of one confirmation (mail worker)"]
    assert f.sqs == {"mails delivered": 1}
    assert f.total <= 5, f.calls


@pytest.mark.parametrize("name, expected", [
    ("organizer list: members (1 page of 50)", {"GetItem": 2, "Query": 1}),
    ("organizer list: members (next page)", {"GetItem": 2, "Query": 1}),
    ("organizer list: meetups (1 page)", {"GetItem": 1, "Query": 1}),
    ("organizer list: RSVPs (1 page, with names)", {"GetItem": 2, "Query": 1, "BatchGetItem": 1}),
])
def test_a_list_is_one_query_a_page(figures: dict[str, Figure], name: str, expected: dict[str, int]) -> None:
    f = figures[name]
    assert f.calls.get("Query") == 1, f.calls
    assert f.calls == expected  # the key lookup (and the join) as they are today; no new trip


def test_invitations_for_500_answer_with_a_job_and_its_worker_writes_in_transactions_of_100(
        figures: dict[str, Figure]) -> None:
    request = figures[f"invitations for {roundtrips.INVITED} members (request)"]
    assert request.sqs == {"jobs": 1}  # no mail recorded in the request: one message for the job
    assert request.writes_single() == 1, request.calls  # the job
    assert request.total <= 4 + math.ceil(roundtrips.INVITED / 100), request.calls
    f = figures[f"invitations for {roundtrips.INVITED} members (jobs worker)"]
    batches = math.ceil(roundtrips.INVITED / 100)
    assert f.sqs == {"mail": roundtrips.INVITED, "jobs": batches - 1}  # each page hands on the next
    assert f.calls.get("TransactWriteItems", 0) <= batches, f.calls
    assert f.items.get("TransactWriteItems", 0) == roundtrips.INVITED
    assert f.writes_single() == batches, f.calls  # the job's counters, once a page
    assert f.calls.get("BatchGetItem", 0) <= 2 * batches, f.calls  # members, then dedupe keys
    assert f.total <= 7 * batches, f.calls


def test_a_pairing_round_of_1000_writes_in_batches(figures: dict[str, Figure]) -> None:
    """Budget: batch writes (25 an item call, or transactions up to 100), not one call per pair
    and one per member."""
    f = figures[f"pairing round of {roundtrips.LUNCHERS} members (worker)"]
    ok, why = roundtrips.batched(f)
    assert ok, f"{why}: {f.calls}"


def test_no_scan_anywhere(figures: dict[str, Any]) -> None:
    assert all("Scan" not in f.calls for f in figures.values())
