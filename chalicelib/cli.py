"""Operator command line: `python -m chalicelib.cli [--stage local] COMMAND ...`.

create-group prints the group id and a new API key once; keys are stored only as hashes.
With --stage, the stage's environment from .chalice/config.json is used (table, endpoint);
without it, the process environment (as in AWS: TABLE_NAME, SIGNING_SECRET_ARN, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from chalicelib import deps, errors


def stage_environment(stage: str, config_path: Path | None = None) -> dict[str, str]:
    """The environment variables Chalice would give the app in this stage."""
    path = config_path or Path(__file__).resolve().parent.parent / ".chalice" / "config.json"
    config = json.loads(path.read_text())
    if stage not in config.get("stages", {}):
        raise SystemExit(f"no stage {stage!r} in {path}")
    env = dict(config.get("environment_variables", {}))
    env.update(config["stages"][stage].get("environment_variables", {}))
    return env


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.cli", description=__doc__.split("\n")[0])
    parser.add_argument("--stage", help="read settings from this stage of .chalice/config.json")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-group", help="create a group and print its first API key")
    create.add_argument("--name", required=True)
    create.add_argument("--timezone", required=True, help="IANA zone, e.g. Europe/Berlin")
    create.add_argument("--sender-name", help="name on outgoing mail (default: the group name)")
    create.add_argument("--reply-to", help="organizer's email for replies")
    key = sub.add_parser("create-key", help="add an API key to a group")
    key.add_argument("--group-id", required=True)
    revoke = sub.add_parser("revoke-key", help="revoke an API key by its id")
    revoke.add_argument("--key-id", required=True)
    sub.add_parser("list-groups", help="list every group")
    keys = sub.add_parser("list-keys", help="list a group's keys (ids and state, never secrets)")
    keys.add_argument("--group-id", required=True)
    ses = sub.add_parser("ses-event", help="handle a saved SES notification (bounce, complaint, delivery) "
                                           "as the SNS subscriber would; '-' reads stdin")
    ses.add_argument("file", help="SES JSON, the SNS envelope around it, or a Lambda SNS event")
    for name, what in (("add-organizer", "let an address sign in to the group's console"),
                       ("remove-organizer", "take an address off the group's organizers (not the last)")):
        organizer = sub.add_parser(name, help=what)
        organizer.add_argument("--group-id", required=True)
        organizer.add_argument("--email", required=True)
    sub.add_parser("index-addresses", help="put every member's email guard into the address index "
                                           "(once, after upgrading: bounces of older members find them)")
    sub.add_parser("index-member-search", help="give every member their search terms (once, after upgrading: "
                                               "the console's member search finds older members)")
    return parser


def run(argv: list[str]) -> dict[str, Any]:
    """Execute one command and return what it prints (as JSON)."""
    from chalicelib.models import GroupIn
    from chalicelib.services import groups

    args = _parser().parse_args(argv)
    if args.stage:
        os.environ.update(stage_environment(args.stage))
        deps.reset()
    if args.command == "create-group":
        group, key = groups.create_group(GroupIn(
            name=args.name, timezone=args.timezone, sender_name=args.sender_name or args.name,
            reply_to=args.reply_to))
        return {"group_id": group.group_id, "key_id": key.key_id, "api_key": key.secret,
                "note": "the api_key is shown only now; store it safely"}
    if args.command == "create-key":
        key = groups.create_key(args.group_id)
        return {"group_id": key.group_id, "key_id": key.key_id, "api_key": key.secret}
    if args.command == "revoke-key":
        revoked = groups.revoke_key(args.key_id)
        return {"key_id": revoked.key_id, "revoked_at": revoked.revoked_at.isoformat() if revoked.revoked_at else None}
    if args.command == "list-groups":
        found: list[dict[str, str]] = []
        cursor: str | None = None
        while True:
            page, cursor = deps.store().groups.page(limit=200, cursor=cursor)
            found.extend({"group_id": g.group_id, "name": g.name, "timezone": g.timezone} for g in page)
            if cursor is None:
                break
        return {"groups": found}
    if args.command == "list-keys":
        return {"keys": [{"key_id": k.key_id, "created_at": k.created_at.isoformat(),
                          "revoked": k.revoked_at is not None}
                         for k in deps.store().groups.keys_of(args.group_id)]}
    if args.command == "ses-event":
        from chalicelib.services import bounces

        return bounces.handle(_read_json(args.file)).to_dict()
    if args.command in ("add-organizer", "remove-organizer"):
        from chalicelib.services import console

        change = console.add_organizer if args.command == "add-organizer" else console.remove_organizer
        email, changed = change(args.group_id, args.email)
        organizers = deps.store().groups.require(args.group_id).organizers
        return {"group_id": args.group_id, "email": email, "changed": changed, "organizers": organizers}
    if args.command == "index-addresses":
        from chalicelib.services import bounces

        group_ids = [g["group_id"] for g in run(["list-groups"])["groups"]]
        return {"groups": len(group_ids), "indexed": bounces.index_addresses(group_ids)}
    if args.command == "index-member-search":
        from chalicelib.services import members

        group_ids = [g["group_id"] for g in run(["list-groups"])["groups"]]
        return {"groups": len(group_ids), "indexed": members.index_search(group_ids)}
    raise SystemExit(f"unknown command {args.command}")


def _read_json(name: str) -> Any:
    """A JSON file (or stdin for '-'); a missing or malformed one is an error naming it."""
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise errors.InvalidInput(f"cannot read it ({type(exc).__name__})", field=name) from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise errors.InvalidInput(f"is not JSON: {exc}", field=name) from None


def main(argv: list[str] | None = None) -> int:
    try:
        print(json.dumps(run(sys.argv[1:] if argv is None else argv), indent=2))
    except ValidationError as exc:
        first = exc.errors()[0]
        print(f"error: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}", file=sys.stderr)
        return 2
    except errors.PowerlunchError as exc:
        print(f"error: {exc.field + ': ' if exc.field else ''}{exc.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
