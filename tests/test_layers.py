"""The layers the folders show import only downwards (app/ARCHITECTURE.md §2).

rules (app.porting) < settings (app.config) < what a process shows of itself: metrics, log
context, the request middleware (app.observability) < storage (app.store) < use cases
(app.services) < adapters (app.adapters) < wiring (app.wiring) < the processes: the
transports' shared credentials (app.http_auth), then the transports, runners and operations
endpoints (app.graphql, app.rest, app.web, app.runners, app.ops: none imports another), the
application (app.main) and the command (app.cli).
Every import counts, also one inside a function or under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"
LAYERS: dict[str, int] = {
    "app.porting": 0,
    "app.config": 1,
    "app.observability": 2,
    "app.store": 3,
    "app.services": 4,
    "app.adapters": 5,
    "app.wiring": 6,
    "app.http_auth": 7,
    "app.http_body": 7,
    "app.origins": 7,
    "app.graphql": 8,
    "app.rest": 8,
    "app.web": 8,
    "app.runners": 8,
    "app.ops": 8,
    "app.main": 9,
    "app.cli": 10,
}


def _room(module: str) -> str:
    parts = module.split(".")
    room = ".".join(parts[:2])
    if room not in LAYERS:
        raise AssertionError(f"{module} is in no layer: add its room to LAYERS")
    return room


def _module_of(path: Path, root: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, root: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    module = _module_of(path, root)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("app.")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the package
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            if name == "app" or name.startswith("app."):
                if name == "app":  # `from app import x`
                    found += [(node.lineno, f"app.{a.name}") for a in node.names]
                else:
                    found.append((node.lineno, name))
    return found


def upward_imports(root: Path = APP) -> list[str]:
    """Every import of a module in a higher layer, or of a peer room in the same layer."""
    problems = []
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts or path == root / "__init__.py":
            continue
        here = _room(_module_of(path, root))
        for line, target in _imports(path, root):
            there = _room(target)
            if there != here and LAYERS[there] >= LAYERS[here]:
                where = path.relative_to(root.parent)
                problems.append(f"{where}:{line}: {here} imports {there}")
    return problems


def test_every_import_points_downwards() -> None:
    assert upward_imports() == []


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    """The check itself: a rules module importing a use case (inside a function), a relative
    import into storage from the rules, and a transport importing another are all reported."""
    fake = tmp_path / "app"
    (fake / "porting").mkdir(parents=True)
    (fake / "porting" / "bad.py").write_text(
        "def f() -> None:\n    from app.services import context  # noqa\n"
    )
    (fake / "porting" / "rel.py").write_text("from ..store import tables\n")
    (fake / "rest").mkdir()
    (fake / "rest" / "peer.py").write_text("from app.graphql import schema\nimport app.store\n")
    assert upward_imports(fake) == [
        "app/porting/bad.py:2: app.porting imports app.services",
        "app/porting/rel.py:1: app.porting imports app.store",
        "app/rest/peer.py:1: app.rest imports app.graphql",
    ]
