"""Where Relais finds its templates and migrations and keeps its instance folder
(``app/paths.py``): the checkout's top-level folders in development, the package's own once
installed from the wheel, and never an instance folder inside ``site-packages``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from app import paths

ROOT = Path(__file__).resolve().parents[1]


def test_a_checkout_uses_its_top_level_folders() -> None:
    assert paths.is_checkout()
    assert paths.shipped("templates") == ROOT / "templates"
    assert paths.shipped("migrations") == ROOT / "migrations"
    assert paths.instance_folder({}) == ROOT / "instance"


def test_the_instance_folder_is_the_setting_when_given(tmp_path: Path) -> None:
    assert paths.instance_folder({"RELAIS_INSTANCE_PATH": f" {tmp_path} "}) == tmp_path
    assert paths.instance_folder({"RELAIS_INSTANCE_PATH": "  "}) == ROOT / "instance"


def test_an_installed_package_uses_its_own_folders_and_keeps_its_instance_outside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site-packages"
    package = site / "app"
    (package / "templates").mkdir(parents=True)
    (package / "migrations").mkdir()
    monkeypatch.setattr(paths, "PACKAGE", package)
    monkeypatch.setattr(paths, "CHECKOUT", site)
    assert not paths.is_checkout()
    assert paths.shipped("templates") == package / "templates"
    assert paths.shipped("migrations") == package / "migrations"
    folder = paths.instance_folder({})
    assert folder == Path(sys.prefix) / "var" / "relais-instance"
    assert site not in folder.parents


def test_the_wheel_ships_the_top_level_templates_and_migrations() -> None:
    """setup.py maps them into the package; pyproject.toml's package data takes every file."""
    source = (ROOT / "setup.py").read_text("utf-8")
    assert '"app.templates": "templates"' in source
    assert '"app.migrations": "migrations"' in source
    project = (ROOT / "pyproject.toml").read_text("utf-8")
    assert '"app.templates" = ["**/*"]' in project
    shipped = {p.name for p in (ROOT / "migrations").iterdir() if p.is_file()}
    assert shipped <= {"README", "alembic.ini", "env.py", "script.py.mako"}
