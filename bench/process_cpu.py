"""Where a load bench's CPU goes, read from ``/proc``: the workers of one server process (its
children: a gunicorn master's workers) and PostgreSQL's processes (its server processes and
the connections to one database: not another database's, a bench database being generated
beside). User + system time, in seconds, since each process started: a bench reads it before
and after a run."""

from __future__ import annotations

import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: str) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command's name (the state first)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone meanwhile
        return None
    return text[text.rindex(")") + 2 :].split()


def cpu_of(server_pid: int, database: str) -> dict[str, float]:
    """CPU seconds used so far by the children of ``server_pid`` ("server") and by PostgreSQL
    ("postgres": its server processes and the connections to ``database``)."""
    used = {"server": 0.0, "postgres": 0.0}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        fields = _stat(pid)
        if fields is None:
            continue
        seconds = (int(fields[11]) + int(fields[12])) / TICK
        if int(fields[1]) == server_pid:
            used["server"] += seconds
        elif _postgres_of(pid, database):
            used["postgres"] += seconds
    return used


def _postgres_of(pid: str, database: str) -> bool:
    """A PostgreSQL process, and if a connection ("postgres: 15/main: USER DB HOST ..."), one
    to ``database``."""
    try:
        if Path(f"/proc/{pid}/comm").read_text().strip() != "postgres":
            return False
        title = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split()
    except OSError:
        return False
    connection = len(title) >= 5 and ("(" in title[4] or title[4] == "[local]")
    return not connection or title[3] == database
