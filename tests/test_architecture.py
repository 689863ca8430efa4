"""The shape of the house, checked on every run (import directions are checked by import-linter
in CI: ``lint-imports``, contracts in pyproject.toml).

* no module of ``app/`` over 400 lines, except the demo's data tables;
* no function rated D or worse by radon (cyclomatic complexity over 20);
* no commit or rollback in the web layer: one unit of work per request (``app/unit_of_work``);
* CSV is written by ``app/services/safe_csv.py`` only (formula-like cells neutralised).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from radon.complexity import cc_rank, cc_visit

APP = Path(__file__).resolve().parent.parent / "app"
MAX_LINES = 400
# Data tables, not code: the fictional network, people and directory cards of the demo.
DATA_TABLES = {APP / "demo" / "data" / "network.py", APP / "demo" / "data" / "directory.py"}


def _modules() -> list[Path]:
    return sorted(path for path in APP.rglob("*.py") if "__pycache__" not in path.parts)


def test_modules_stay_small() -> None:
    long = {
        str(path.relative_to(APP)): count
        for path in _modules()
        if path not in DATA_TABLES
        and (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_no_function_is_rated_d_or_worse() -> None:
    complex_ = {
        f"{path.relative_to(APP)}:{block.lineno} {block.name}": block.complexity
        for path in _modules()
        for block in cc_visit(path.read_text(encoding="utf-8"))
        if cc_rank(block.complexity) not in "ABC"
    }
    assert complex_ == {}


def test_views_never_commit_or_roll_back() -> None:
    found = [
        f"{path.relative_to(APP)}:{number}"
        for path in sorted((APP / "web").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\b(commit|rollback)\(\)", line)
    ]
    assert found == []


# The one module that writes CSV (formula-like cells neutralised, see its docstring).
SAFE_CSV = APP / "services" / "safe_csv.py"
CSV_WRITERS = {"writer", "DictWriter"}


def _csv_writes(tree: ast.Module) -> list[int]:
    """Lines of ``tree`` that take a writer from the ``csv`` module (however it is imported)."""
    names: set[str] = set()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.asname or a.name for a in node.names if a.name == "csv")
        elif isinstance(node, ast.ImportFrom) and node.module == "csv":
            found += [node.lineno for a in node.names if a.name in CSV_WRITERS | {"*"}]
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in CSV_WRITERS
            and isinstance(node.value, ast.Name)
            and node.value.id in names
        ):
            found.append(node.lineno)
    return found


def test_csv_is_written_only_by_the_safe_writer() -> None:
    """Every export goes through ``app.services.safe_csv`` (reading CSV stays free)."""
    found = [
        f"{path.relative_to(APP)}:{line}"
        for path in _modules()
        if path != SAFE_CSV
        for line in _csv_writes(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert found == []


@pytest.mark.parametrize(
    "source",
    [
        "import csv\ncsv.writer(out)",
        "import csv as c\nc.DictWriter(out, [])",
        "from csv import writer",
        "from csv import DictWriter as W",
    ],
)
def test_the_csv_rule_sees_every_way_to_take_a_writer(source: str) -> None:
    assert _csv_writes(ast.parse(source)) != []
    assert _csv_writes(ast.parse("import csv\ncsv.reader(stream)")) == []
