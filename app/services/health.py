"""Whether this instance can serve: what the load balancer's health check asks."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def database_answers(session: Session) -> None:
    """Run the cheapest query; a database error propagates (the check fails with a 500)."""
    session.execute(text("SELECT 1"))
