"""The guard that keeps Scans out of the app must itself work."""

from __future__ import annotations

import pytest

from chalicelib import deps


def test_a_scan_through_the_app_client_fails_the_test(moto_table: str) -> None:
    with pytest.raises(AssertionError, match="Scan"):
        deps.dynamodb_client().scan(TableName=moto_table)
