"""The shape of the house, checked on every run (import directions are checked by import-linter
in CI: ``lint-imports``, contracts in pyproject.toml).

* no module of ``app/`` over 400 lines, except the demo's data tables;
* no function rated D or worse by radon (cyclomatic complexity over 20);
* no commit or rollback in the web layer: one unit of work per request (``app/unit_of_work``).
"""

from __future__ import annotations

import re
from pathlib import Path

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
