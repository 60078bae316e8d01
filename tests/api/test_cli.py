"""The operator command line: create a group, use its key, revoke it, the key stops working."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib import cli
from chalicelib.services.groups import _hash
from chalicelib.store import keys


def test_create_group_key_works_then_revoked_key_stops(client: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["create-group", "--name", "Porto Makers", "--timezone", "Europe/Lisbon",
                     "--reply-to", "org@example.com"]) == 0
    made = json.loads(capsys.readouterr().out)
    gid, key = made["group_id"], made["api_key"]
    r = client.http.get(f"/groups/{gid}", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200 and json.loads(r.body)["sender_name"] == "Porto Makers"

    assert cli.main(["create-key", "--group-id", gid]) == 0
    second = json.loads(capsys.readouterr().out)
    assert cli.main(["revoke-key", "--key-id", made["key_id"]]) == 0
    capsys.readouterr()
    assert client.http.get(f"/groups/{gid}", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    ok = client.http.get(f"/groups/{gid}", headers={"Authorization": f"Bearer {second['api_key']}"})
    assert ok.status_code == 200

    assert cli.main(["list-groups"]) == 0
    assert [g["group_id"] for g in json.loads(capsys.readouterr().out)["groups"]] == [gid]
    assert cli.main(["list-keys", "--group-id", gid]) == 0
    listed = json.loads(capsys.readouterr().out)["keys"]
    assert sorted((k["key_id"], k["revoked"]) for k in listed) == sorted(
        [(made["key_id"], True), (second["key_id"], False)])


def test_keys_are_stored_only_as_hashes(client: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from chalicelib import deps

    cli.main(["create-group", "--name", "Hashes", "--timezone", "UTC"])
    made = json.loads(capsys.readouterr().out)
    item = deps.store().db.get(keys.api_key(made["key_id"]))
    assert item is not None
    assert made["api_key"] not in json.dumps(item)
    assert item["key_hash"] == _hash(made["api_key"])


def test_cli_errors_name_the_field(client: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["create-group", "--name", "X", "--timezone", "Nowhere/Else"]) == 2
    assert "timezone" in capsys.readouterr().err
    assert cli.main(["revoke-key", "--key-id", "key_nope"]) == 1
    assert "key_id" in capsys.readouterr().err
