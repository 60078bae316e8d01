"""Size of the Lambda deployment (`scripts/package.sh prod`, the deploy engineer's packaging)
and what makes it up; budget <= 25 MB zipped (function zip + dependency layer zip).

    .venv/bin/python -m bench.package_size

Contributors are the layer's top-level packages (site-packages/<name>, dist-info folded into
its package) and the function zip's app code, by compressed size.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUDGET_MB = 25.0  # MB = 10**6 bytes, as the issue writes it; MiB shown beside
MIB = 2**20
_SITE = re.compile(r"^python/lib/python[0-9.]+/site-packages/")


def _top(name: str) -> str:
    top = _SITE.sub("", name).split("/")[0]
    top = re.sub(r"-[^-]+\.(dist-info|egg-info)$", "", top)
    top = re.sub(r"\.libs$", "", top)  # numpy.libs, rustworkx.libs: the wheel's bundled .so files
    top = re.sub(r"\.(cpython-[^.]+\.)?(so|py)$", "", top)
    return top.lower().replace("-", "_")


def contributors(path: Path) -> tuple[Counter[str], Counter[str]]:
    """Compressed and uncompressed bytes by top-level package in one zip."""
    zipped: Counter[str] = Counter()
    unzipped: Counter[str] = Counter()
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            key = _top(info.filename)
            zipped[key] += info.compress_size
            unzipped[key] += info.file_size
    return zipped, unzipped


def measure(out_dir: Path | None = None) -> dict[str, Any]:
    """Package prod into a temporary folder and measure it."""
    with tempfile.TemporaryDirectory(prefix="package-") as tmp:
        out = out_dir or Path(tmp) / "out"
        started = time.perf_counter()
        run = subprocess.run(["bash", "scripts/package.sh", "prod", str(out)], cwd=ROOT,
                             capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        if run.returncode != 0:
            raise RuntimeError(f"scripts/package.sh failed:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
        zips: dict[str, dict[str, int]] = {}
        parts: Counter[str] = Counter()
        parts_unzipped: Counter[str] = Counter()
        for name in ("deployment.zip", "layer-deployment.zip"):
            path = out / name
            if not path.exists():
                continue
            with zipfile.ZipFile(path) as archive:
                unzipped = sum(i.file_size for i in archive.infolist())
            zips[name] = {"zipped": path.stat().st_size, "unzipped": unzipped}
            z, u = contributors(path)
            label = "app code (function zip)" if name == "deployment.zip" else None
            for key in z:
                parts[label or key] += z[key]
                parts_unzipped[label or key] += u[key]
    zipped = sum(z["zipped"] for z in zips.values())
    return {
        "zips": zips,
        "zipped": zipped,
        "unzipped": sum(z["unzipped"] for z in zips.values()),
        "budget_mb": BUDGET_MB,
        "met": zipped <= BUDGET_MB * 10**6,
        "top": [(name, size, parts_unzipped[name]) for name, size in parts.most_common(12)],
        "seconds": round(seconds, 1),
    }


def render_rows(result: dict[str, Any]) -> list[str]:
    lines = ["| part | zipped MiB | unzipped MiB |", "|---|---|---|"]
    for name, sizes in result["zips"].items():
        lines.append(f"| {name} | {sizes['zipped'] / MIB:.1f} | {sizes['unzipped'] / MIB:.1f} |")
    lines.append(f"| **total** | **{result['zipped'] / MIB:.1f}** ({result['zipped'] / 10**6:.1f} MB) | "
                 f"**{result['unzipped'] / MIB:.1f}** |")
    lines += ["", "Top contributors (compressed size inside the zips):", "",
              "| package | zipped MiB | unzipped MiB |", "|---|---|---|"]
    lines += [f"| {name} | {z / MIB:.2f} | {u / MIB:.2f} |" for name, z, u in result["top"]]
    return lines


def main() -> int:
    result = measure()
    print("\n".join(render_rows(result)))
    print(f"budget ≤ {BUDGET_MB} MB zipped: {'met' if result['met'] else 'NOT MET'}; packaging took {result['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
