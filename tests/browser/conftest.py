"""Browser tier: Debian's Chromium driven by playwright against the app served by Chalice's
local server (tests/browser/serve.py) on a free loopback port, with a fresh table on
DynamoDB Local per test. Members open links taken from the .eml files the outbox wrote."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]
PHONE = {"width": 390, "height": 844}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until_serving(process: subprocess.Popen[bytes], port: int, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app server exited ({process.returncode}):\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)  # the interval between polls of the condition above
    raise RuntimeError(f"the app server did not listen within {timeout}s:\n{log.read_text()}")


@pytest.fixture
def app_url(local_table: str, clock: Any, outbox_dir: Path, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app on http://127.0.0.1:<free port>, sharing this test's table, outbox and secret."""
    from chalicelib import deps

    clock.set(datetime.now(UTC))  # the server runs on the real clock: agree with it
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("BASE_URL", base)
    deps.reset()
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, str(Path(__file__).with_name("serve.py")), str(port)],
                                   env=dict(os.environ), stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        _wait_until_serving(process, port, log)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        subprocess.run(["bash", str(ROOT / "scripts" / "ensure_chromium.sh")], check=True)
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail("Chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    yield context
    context.close()


@pytest.fixture
def phone_without_js(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport=PHONE, java_script_enabled=False)
    yield context
    context.close()


class Scene:
    """A group with members and one meetup, invitations sent; links come from the .eml files."""

    def __init__(self, base: str, outbox_dir: Path, *, capacity: int | None, guests_allowed: int,
                 people: int) -> None:
        from chalicelib import deps
        from chalicelib.models import GroupIn, MeetupIn, MemberIn
        from chalicelib.services import groups, jobs, meetups, members

        self.base = base
        self.outbox_dir = outbox_dir
        self.group, _ = groups.create_group(GroupIn(
            name="Porto Makers", timezone="Europe/Lisbon", sender_name="Porto Makers",
            reply_to="host@example.com"))
        created, _ = members.add_members(self.group.group_id, [
            MemberIn(email=f"guest{i}@example.com", name=f"Guest {i}") for i in range(people)])
        self.members = sorted(created, key=lambda m: m.email)
        start = (deps.now() + timedelta(days=5)).replace(hour=12, minute=30, second=0, microsecond=0)
        self.meetup = meetups.create_meetup(self.group.group_id, MeetupIn(
            title="Makers <lunch> & talk", description="Show what you're building.",
            starts_at=start, ends_at=start + timedelta(hours=2), timezone="Europe/Lisbon",
            venue={"name": "Mercado do Bolhão", "address": "Rua Formosa 322, Porto"},
            capacity=capacity, guests_allowed=guests_allowed))
        job = jobs.invite_to_meetup(self.group.group_id, self.meetup.meetup_id, None)
        assert jobs.get_job(self.group.group_id, job.job_id).sent == people

    def link(self, index: int) -> str:
        import email
        import email.policy

        address = self.members[index].email
        for path in sorted(self.outbox_dir.glob("*-rsvp_invite-*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if address in str(message["To"]):
                text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
                match = re.search(re.escape(self.base) + r"/rsvp/[A-Za-z0-9_.\-]+", text)
                assert match, text
                return match.group(0)
        raise AssertionError(f"no invitation for {address}")


@pytest.fixture
def scene_factory(app_url: str, outbox_dir: Path) -> Any:
    def make(capacity: int | None = 3, guests_allowed: int = 1, people: int = 3) -> Scene:
        return Scene(app_url, outbox_dir, capacity=capacity, guests_allowed=guests_allowed, people=people)

    return make


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
