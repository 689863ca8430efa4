"""The package layout that ``pyproject.toml`` cannot say: the top-level ``templates/`` and
``migrations/`` (the source of truth, edited where they are) ship inside the wheel as
``app/templates`` and ``app/migrations``, where ``app/paths.py`` finds them once installed.
Everything else is in ``pyproject.toml``."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["app", "app.*"]), "app.templates", "app.migrations"],
    package_dir={"app.templates": "templates", "app.migrations": "migrations"},
)
