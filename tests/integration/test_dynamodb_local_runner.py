"""The DynamoDB Local runner starts the real engine on loopback and leaves nothing behind."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from scripts.dynamodb_local import DynamoDBLocal, ensure_installed, free_port

TABLE = "runner-test"  # DynamoDB Local, like DynamoDB, wants 3-255 characters


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still "exists"; stop() reaps its child, so this must not happen either.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def _create_table(client: Any) -> None:
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(
        TableName=TABLE, WaiterConfig={"Delay": 1, "MaxAttempts": 10}
    )


def test_in_memory_put_get_then_stop_leaves_nothing_running() -> None:
    ensure_installed()
    port = free_port()
    server = DynamoDBLocal(port=port)
    assert server.endpoint_url == f"http://127.0.0.1:{port}"
    with server:
        assert server.process is not None
        pid = server.process.pid
        client = server.client()
        _create_table(client)
        client.put_item(TableName=TABLE, Item={"pk": {"S": "a"}, "n": {"N": "1"}})
        item = client.get_item(
            TableName=TABLE, Key={"pk": {"S": "a"}}, ConsistentRead=True
        )
        assert item["Item"] == {"pk": {"S": "a"}, "n": {"N": "1"}}
        # Bound to loopback only: nothing answers on the machine's other addresses.
        listening = (
            Path("/proc/net/tcp6").read_text() + Path("/proc/net/tcp").read_text()
        )
        assert f":{port:04X} " in listening
        assert f"00000000000000000000000000000000:{port:04X} " not in listening
        assert f"00000000:{port:04X} " not in listening
    assert server.process is None
    assert not _port_open(port)
    assert not _alive(pid)
    server.stop()  # idempotent


def test_data_dir_survives_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "ddb"
    port = free_port()
    with DynamoDBLocal(port=port, data_dir=data_dir) as server:
        client = server.client()
        _create_table(client)
        client.put_item(TableName=TABLE, Item={"pk": {"S": "kept"}})
    assert (data_dir / "shared-local-instance.db").is_file()
    assert not _port_open(port)

    with DynamoDBLocal(data_dir=data_dir) as server:  # another port, same data
        client = server.client()
        assert TABLE in client.list_tables()["TableNames"]
        item = client.get_item(
            TableName=TABLE, Key={"pk": {"S": "kept"}}, ConsistentRead=True
        )
        assert item["Item"] == {"pk": {"S": "kept"}}
