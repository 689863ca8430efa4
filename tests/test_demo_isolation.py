"""The application never imports the demo: ``app.demo`` (fictional people, a published password)
is for the CLI, the tests and the benchmarks only.

Modules are parsed, not imported, so that an import inside a function or under ``TYPE_CHECKING``
counts as much as one at the top, and relative imports are resolved.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The layers below the CLI, and the modules every request runs through.
SOURCES = ("services", "web", "models", "domain", "crypto", "unit_of_work.py", "extensions.py")
DEMO = "app.demo"


def _is_demo(name: str) -> bool:
    return name == DEMO or name.startswith(DEMO + ".")


def _imported(node: ast.Import | ast.ImportFrom, package: list[str]) -> list[str]:
    """The absolute names an import statement brings in; ``package`` is its module's package."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level == 0:
        base = node.module or ""
    elif node.level - 1 > len(package):
        return []  # beyond the top package: Python refuses it anyway
    else:
        parts = package[: len(package) - (node.level - 1)]
        base = ".".join([*parts, node.module] if node.module else parts)
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def demo_imports(path: Path, root: Path = ROOT) -> list[str]:
    """The names under ``app.demo`` that the module at ``path`` (under ``root``) imports."""
    # A module's relative imports start from its folder (for __init__.py, its own package).
    package = list(path.relative_to(root).parts[:-1])
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    names = [
        name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in _imported(node, package)
    ]
    return sorted({name for name in names if _is_demo(name)})


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


@pytest.mark.parametrize("source", SOURCES)
def test_the_application_does_not_import_the_demo(source: str) -> None:
    where = ROOT / "app" / source
    modules = sorted(where.rglob("*.py")) if where.is_dir() else [where]
    assert modules, f"nothing to check at app/{source}"
    assert all(m.is_file() for m in modules), f"app/{source} is missing"
    offenders = {_module(path): found for path in modules if (found := demo_imports(path))}
    assert not offenders, f"these modules import {DEMO}: {offenders}"


@pytest.mark.parametrize(
    ("where", "source"),
    [
        ("app/services/x.py", "import app.demo.loading"),
        ("app/services/x.py", "import app.demo as fiction"),
        ("app/services/x.py", "from app.demo import synthetic"),
        ("app/services/x.py", "from app import demo"),
        ("app/services/x.py", "def f():\n    from app.demo.data.network import PEOPLE\n"),
        ("app/services/x.py", "from ..demo import loading"),
        ("app/services/x.py", "from .. import demo"),
        ("app/services/people/x.py", "from ...demo.data import network"),
        ("app/services/__init__.py", "from ..demo import stories"),
    ],
)
def test_every_way_of_importing_the_demo_is_seen(tmp_path: Path, where: str, source: str) -> None:
    path = tmp_path / where
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    assert demo_imports(path, tmp_path)


@pytest.mark.parametrize(
    "source",
    [
        "from app import demographics",
        "import app.services.demo_free",
        "from .demo import x",  # app.services.demo: not the demo package
        "from . import demo",
    ],
)
def test_other_imports_are_not_taken_for_the_demo(tmp_path: Path, source: str) -> None:
    path = tmp_path / "app" / "services" / "x.py"
    path.parent.mkdir(parents=True)
    path.write_text(source, encoding="utf-8")
    assert demo_imports(path, tmp_path) == []
