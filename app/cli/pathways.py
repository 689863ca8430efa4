"""``flask pathways check-state``: each person's kept pathway state against their events.

The day and the structure of each person's latest event and their current stage are kept on
their row by every write (``app.services.pathways.state``). After a manual restore of some
tables, or rows written outside Relais, an administrator checks them, and repairs what
differs::

    flask --app app pathways check-state [--repair]
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli.common import transaction
from app.services.pathways import refresh_state, stale_people

CHUNK = 5000  # people per UPDATE when repairing
SHOWN = 20  # ids printed

pathways_cli = AppGroup("pathways", help="People's pathway state kept for the lists.")


@pathways_cli.command("check-state")
@click.option("--repair", is_flag=True, help="Recompute the state of the people found.")
def check_state(repair: bool) -> None:
    """Compare each person's kept state (day and structure of the latest event, current
    stage) with the state their events give. Exits 1 when some differ, unless ``--repair`` recomputed them
    (in one transaction)."""
    with transaction(commit=repair) as session:
        stale = stale_people(session)
        if repair:
            for start in range(0, len(stale), CHUNK):
                refresh_state(session, stale[start : start + CHUNK])
    if not stale:
        click.echo("every pathway state matches its events")
        return
    shown = ", ".join(str(pid) for pid in stale[:SHOWN])
    more = f" (and {len(stale) - SHOWN} more)" if len(stale) > SHOWN else ""
    if repair:
        click.echo(f"repaired the pathway state of {len(stale)} people: {shown}{more}")
        return
    click.echo(f"{len(stale)} people's pathway state differs from their events: {shown}{more}")
    click.echo("Run again with --repair to recompute them.")
    raise SystemExit(1)
