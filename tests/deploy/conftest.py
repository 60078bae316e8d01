"""The deploy tier: package the prod stage once per session (scripts/package.sh, exactly what
`make package` runs: merge template, chalice package, dependency check, cfn-lint) into a
temporary folder, and hand the tests the template.

Offline and without credentials. The first run on a machine downloads the Lambda runtime's
wheels from PyPI; afterwards Chalice's cache (.chalice/deployments) makes it ~15 s.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Packaged:
    out: Path
    returncode: int
    output: str

    @property
    def template(self) -> dict[str, Any]:
        return dict(json.loads((self.out / "sam.json").read_text()))


@pytest.fixture(scope="session")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Packaged:
    out = tmp_path_factory.mktemp("package") / "out"
    proc = subprocess.run(["bash", "scripts/package.sh", "prod", str(out)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    result = Packaged(out, proc.returncode, proc.stdout + proc.stderr)
    if proc.returncode != 0 or not (out / "sam.json").exists():
        pytest.fail(f"scripts/package.sh prod failed ({proc.returncode}):\n{result.output}")
    return result


@pytest.fixture(scope="session")
def template(packaged: Packaged) -> dict[str, Any]:
    return packaged.template


@pytest.fixture(scope="session")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return dict(template["Resources"])
