"""Serve the app for the browser tests: `python serve.py PORT`.

Builds Chalice's own LocalDevServer (what `chalice local` runs) with no stage: the
environment is exactly what the test gives (table on DynamoDB Local, outbox folder, signing
secret, BASE_URL), where `chalice local --stage local` would put .chalice/config.json's
values on top of it.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from chalice.config import Config
    from chalice.local import LocalDevServer

    from app import app

    port = int(sys.argv[1])
    config = Config.create(chalice_app=app, app_name="powerlunch", chalice_stage="browser",
                           project_dir=str(ROOT))
    server = LocalDevServer(app, config, "127.0.0.1", port)
    print(f"serving on http://127.0.0.1:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
