"""The service graph has no circle (issue 10, item 8): services depend one way.

Every `chalicelib/services/*.py` is parsed with `ast`; imports anywhere in a module count,
module-level and function-local alike (a local import hides a circle, it does not remove it).
"""

from __future__ import annotations

import ast
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[2] / "chalicelib" / "services"
PACKAGE = "chalicelib.services"


def imported_services(source: str, known: set[str]) -> set[str]:
    """The services modules `source` imports, by any spelling."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE + "."):
                    found.add(alias.name.split(".")[2])
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 1:  # relative, from inside the package
                module = f"{PACKAGE}.{module}" if module else PACKAGE
            if module == PACKAGE:
                found.update(alias.name for alias in node.names)
            elif module.startswith(PACKAGE + "."):
                found.add(module.split(".")[2])
    return found & known


def service_graph(directory: Path = SERVICES) -> dict[str, set[str]]:
    files = {p.stem: p for p in directory.glob("*.py") if p.stem != "__init__"}
    return {name: imported_services(path.read_text(), set(files)) - {name} for name, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each circle found by a depth-first walk, as the path that closes it."""
    found: list[list[str]] = []
    state: dict[str, str] = {}  # "open" while on the path, "done" after

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append([*path[path.index(nxt) :], node, nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*path, node])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    return found


def test_services_import_each_other_one_way_only() -> None:
    graph = service_graph()
    assert cycles(graph) == [], {k: sorted(v) for k, v in graph.items() if v}


def test_erasure_sits_above_members_pairing_and_outbox() -> None:
    graph = service_graph()
    assert {"members", "pairing", "outbox"} <= graph["erasure"]
    assert "pairing" not in graph["members"] and "outbox" not in graph["members"]


def test_the_walk_sees_local_imports_and_finds_a_circle(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("from chalicelib.services import b\n")
    (tmp_path / "b.py").write_text("import chalicelib.services.c\n")
    (tmp_path / "c.py").write_text("def f():\n    from chalicelib.services.a import x\n    return x\n")
    (tmp_path / "d.py").write_text("from . import a\nfrom .c import y\n")
    graph = service_graph(tmp_path)
    assert graph == {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a", "c"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]
