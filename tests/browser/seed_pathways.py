"""Adds the pathways of ``tests/pathway_scenes.py`` to a browser tests' server database and
prints their pseudonyms as JSON: ``{"one_day": ..., "long": ...}``.

Run in the server's environment (its database and keys), in a process of its own, so that the
tests' process never binds the application's database to the server's:
``python -m tests.browser.seed_pathways``.
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from app import create_app
from app.extensions import db
from tests import pathway_scenes


def main() -> None:
    app = create_app()
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    with app.app_context():
        session = db.session()
        vault = app.extensions["relais_vault"]
        people = pathway_scenes.cast(session, "WEB")
        one_day = pathway_scenes.one_busy_day(session, vault, people, today)
        long = pathway_scenes.long_pathway(session, vault, people, today)
        found = {"one_day": one_day.pseudonym, "long": long.pseudonym}
        session.commit()
    print(json.dumps(found))


if __name__ == "__main__":
    main()
