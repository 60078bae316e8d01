"""Cold start: the median time to import the app in a fresh interpreter, beside a bare Chalice
hello-world measured in the same run (the baseline), and what the import pulls in.

    .venv/bin/python -m bench.coldstart [--runs 20]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HELLO = """from chalice import Chalice
app = Chalice(app_name="hello")

@app.route("/")
def index():
    return {"hello": "world"}
"""
PROBE = (
    "import sys, time; t = time.perf_counter(); import app; "
    "print((time.perf_counter() - t) * 1000); "
    "print(','.join(m for m in ('numpy', 'rustworkx', 'jinja2', 'icalendar', 'pydantic', 'boto3') "
    "if m in sys.modules))"
)
BUDGET = 1.3


def import_ms(folder: Path, runs: int) -> tuple[float, list[float], str]:
    times: list[float] = []
    loaded = ""
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", PROBE], cwd=folder, capture_output=True, text=True, check=True
        ).stdout.split("\n")
        times.append(float(out[0]))
        loaded = out[1]
    return statistics.median(times), times, loaded


def measure(runs: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "app.py").write_text(HELLO)
        # Interleave so that load on the machine hits both alike.
        base_times: list[float] = []
        app_times: list[float] = []
        loaded = ""
        for _ in range(runs):
            base_times += import_ms(Path(tmp), 1)[1]
            t, _, loaded = import_ms(ROOT, 1)[0:3]
            app_times.append(t)
    base = statistics.median(base_times)
    ours = statistics.median(app_times)
    return {
        "runs": runs,
        "hello_ms": round(base, 1),
        "app_ms": round(ours, 1),
        "ratio": round(ours / base, 2),
        "budget": BUDGET,
        "heavy_loaded_at_import": loaded or "none",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    result = measure(parser.parse_args().runs)
    for key, value in result.items():
        print(f"{key:>24}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
