"""`make run`: DynamoDB Local (data under .local/dynamodb), the table, the demo, the schedules
every minute, and `chalice local` on http://127.0.0.1:8000. Ctrl-C stops everything it started."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
PORT = 8000


def ensure_secret(path: Path) -> None:
    """Generate the local link-signing secret once (never committed: .local/ is ignored)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48) + "\n")
        path.chmod(0o600)


def _schedules(stop: threading.Event) -> None:
    from chalicelib import deps
    from chalicelib.services import schedules

    while not stop.wait(60):
        try:
            done = schedules.run_hourly(deps.now())
            if any(done.values()):
                print(f"schedule: {done}", flush=True)
        except Exception as exc:  # keep the dev server alive; show what broke
            print(f"schedule failed: {exc!r}", file=sys.stderr, flush=True)


def main() -> int:
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    from chalicelib import cli, deps
    from chalicelib.store import schema
    from scripts.dynamodb_local import DynamoDBLocal, check_prerequisites, ensure_installed

    check_prerequisites()
    env = cli.stage_environment("local")
    endpoint_port = int(env["DYNAMODB_ENDPOINT"].rsplit(":", 1)[1])
    ensure_secret(ROOT / env["SIGNING_SECRET_FILE"])
    os.environ.update(env)
    deps.reset()
    ensure_installed()
    ddb = DynamoDBLocal(port=endpoint_port, data_dir=LOCAL / "dynamodb", log_path=LOCAL / "dynamodb.log")
    ddb.start()
    server: subprocess.Popen[bytes] | None = None
    stop = threading.Event()
    try:
        created = schema.create_table(deps.dynamodb_client(), env["TABLE_NAME"])
        print(f"table {env['TABLE_NAME']}: {'created' if created else 'exists'}")
        from scripts.seed_demo import seed

        state = seed(LOCAL / "demo.json")
        print(json.dumps(state, indent=2), flush=True)
        print(f"\ntry: curl -H 'Authorization: Bearer {state['api_key']}' "
              f"{state['base_url']}/groups/{state['group_id']}/meetups", flush=True)
        print(f"join the demo group in a browser: {state['join_url']}\n"
              f"  (the confirmation email lands in {LOCAL / 'outbox'})\n", flush=True)
        print(f"organizer console: {state['console_url']}\n"
              f"  (sign in as {state['organizer_email']}; the sign-in link lands in {LOCAL / 'outbox'})\n",
              flush=True)
        threading.Thread(target=_schedules, args=(stop,), daemon=True).start()
        server = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "chalice"), "local", "--stage", "local",
             "--host", "127.0.0.1", "--port", str(PORT), "--no-autoreload"],
            cwd=ROOT, start_new_session=True)

        def shut_down(signum: int, frame: object) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, shut_down)
        signal.signal(signal.SIGINT, shut_down)
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        stop.set()
        if server and server.poll() is None:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
        ddb.stop()
        print("stopped chalice local and DynamoDB Local")


if __name__ == "__main__":
    raise SystemExit(main())
