"""Where Relais finds its templates and migrations, and where it keeps its instance folder.

The top-level ``templates/`` and ``migrations/`` of the repository are the source of truth.
A wheel ships them inside the package (``app/templates``, ``app/migrations``: ``setup.py``
maps them there), so an installed Relais finds them next to its code; a checkout (the
editable install of development and tests) finds them at the top level.

The instance folder (the development SQLite file, the development keys, the erasure register
by default) is never inside ``site-packages``: ``RELAIS_INSTANCE_PATH`` when set, else the
checkout's ``instance/``, else ``<virtual environment>/var/relais-instance`` as Flask does
for installed applications.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
CHECKOUT = PACKAGE.parent


def shipped(name: str) -> Path:
    """A folder of the release: inside the installed package, else at the checkout's top."""
    inside = PACKAGE / name
    return inside if inside.is_dir() else CHECKOUT / name


def is_checkout() -> bool:
    """True when the code runs from the repository (it has its ``pyproject.toml``)."""
    return (CHECKOUT / "pyproject.toml").is_file() and not (PACKAGE / "templates").is_dir()


def instance_folder(environ: Mapping[str, str]) -> Path:
    """The instance folder: the setting, else the checkout's, else the environment's."""
    given = environ.get("RELAIS_INSTANCE_PATH", "").strip()
    if given:
        return Path(given).expanduser().resolve()
    if is_checkout():
        return CHECKOUT / "instance"
    return Path(sys.prefix) / "var" / "relais-instance"
