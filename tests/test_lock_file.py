"""requirements.lock (the production install, with hashes) pins every production dependency
of pyproject.toml: a dependency added without refreshing the lock fails here, not in the
production install (docs/security.md, "Dependencies")."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==[^ ]+ \\$")


def _name(requirement: str) -> str:
    found = re.match(r"[A-Za-z0-9_.\-]+", requirement)
    assert found, requirement
    return re.sub(r"[-_.]+", "-", found.group(0)).lower()


def test_the_lock_pins_every_production_dependency_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    lines = (ROOT / "requirements.lock").read_text("utf-8").splitlines()
    pinned = {_name(m.group(1)) for line in lines if (m := PIN.match(line))}
    missing = sorted({_name(r) for r in project["dependencies"]} - pinned)
    assert not missing, f"refresh requirements.lock (docs/security.md): {missing} not pinned"
    hashes = sum(line.strip().startswith("--hash=sha256:") for line in lines)
    assert hashes >= len(pinned)
