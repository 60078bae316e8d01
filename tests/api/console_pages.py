"""Helpers for tests of console pages: an organizer signed in through the real flow (the link
from the .eml, tests/api/test_console_auth.py), posting forms with the page's CSRF token."""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from chalicelib.services import console
from tests.api.test_console_auth import ORGANIZER, body, sign_in

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Console:
    """One signed-in organizer of one group."""

    def __init__(self, client: Any, group_id: str, outbox_dir: Path) -> None:
        console.add_organizer(group_id, ORGANIZER)
        self.client = client
        self.group_id = group_id
        self.outbox_dir = outbox_dir
        self.cookie = sign_in(client, outbox_dir)
        found = CSRF.search(self.text(self.get("")))
        assert found
        self.csrf = found.group(1)

    @property
    def base(self) -> str:
        return f"/console/{self.group_id}"

    def get(self, path: str) -> Any:
        return self.client.http.get(self.base + path, headers={"Cookie": self.cookie})

    def post(self, path: str, form: dict[str, Any] | list[tuple[str, str]], *, csrf: str | None = "",
             multipart: dict[str, str] | None = None) -> Any:
        """POST a form; csrf "" uses the session's token, None sends none, else that value."""
        pairs = list(form.items()) if isinstance(form, dict) else list(form)
        token = self.csrf if csrf == "" else csrf
        if token is not None:
            pairs.append(("csrf_token", token))
        headers = {"Cookie": self.cookie}
        if multipart is not None:
            boundary = "consoleBoundary7MA4YWxkTrZu0gW"
            parts = [(k, v, None) for k, v in pairs] + [(k, v, "members.csv") for k, v in multipart.items()]
            chunks = []
            for name, value, filename in parts:
                disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
                kind = "Content-Type: text/csv\r\n" if filename else ""
                chunks.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n{kind}\r\n{value}\r\n")
            data = ("".join(chunks) + f"--{boundary}--\r\n").encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        else:
            data = urlencode(pairs).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return self.client.http.post(self.base + path, headers=headers, body=data)

    @staticmethod
    def text(response: Any) -> str:
        return body(response)


def error_beside(html: str, field: str) -> str:
    """The error shown beside a field (its aria-describedby target), or fail."""
    found = re.search(rf'<p class="error-text" id="e-{re.escape(field)}">(.*?)</p>', html, re.DOTALL)
    assert found, f"no error beside {field}"
    assert re.search(rf'id="f-{re.escape(field)}"[^>]*aria-invalid="true"', html) or field in ("subscribed",)
    return found.group(1)


def mails(outbox_dir: Path, kind: str) -> list[EmailMessage]:
    found = []
    for path in sorted(outbox_dir.glob(f"*-{kind}-*.eml")) if outbox_dir.exists() else []:
        found.append(email.message_from_bytes(path.read_bytes(), policy=email.policy.default))
    return found  # type: ignore[return-value]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())
