"""What the mail worker (``flask --app app mail work``) needs besides delivery: waiting for
new mail without a busy loop.

On PostgreSQL the worker listens on ``MAIL_CHANNEL``: a trigger on the outbox sends a
``NOTIFY`` with every transaction that queues mail (delivered when it commits), so a mail
leaves within moments of the commit. On SQLite, or when a notification is missed, the worker looks
again after its polling interval.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

from sqlalchemy import Engine

from app.services.mail.queue import MAIL_CHANNEL


class MailWakeups:
    """Wait until mail may be waiting: a ``NOTIFY`` (PostgreSQL) or the end of the interval.

    ``channel``: the mail worker's by default; the webhook worker listens on its own.
    ``engine`` None: no connection to listen through (behind PgBouncer in transaction mode
    without ``RELAIS_LISTEN_DATABASE_URL``), the worker polls.
    Holds its own connection to the database (outside the pool) while it is open; use it as a
    context manager.
    """

    def __init__(self, engine: Engine | None, channel: str = MAIL_CHANNEL) -> None:
        self._engine = engine
        self._channel = channel
        self._connection: Any = None

    def __enter__(self) -> MailWakeups:
        if self._engine is not None and self._engine.dialect.name == "postgresql":
            raw = self._engine.raw_connection()
            connection = raw.driver_connection
            assert connection is not None  # a fresh connection from the pool
            raw.detach()  # ours until closed: LISTEN needs autocommit and a long life
            connection.autocommit = True
            connection.execute(f"LISTEN {self._channel}")
            self._connection = connection
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    @property
    def listening(self) -> bool:
        return self._connection is not None

    def wait(self, seconds: float) -> bool:
        """Block for at most ``seconds``; ``True`` if a commit announced new mail meanwhile."""
        if self._connection is None:
            time.sleep(seconds)
            return False
        heard = False
        for _notify in self._connection.notifies(timeout=seconds, stop_after=1):
            heard = True
        if heard:  # several commits may have announced mail: one delivery run covers them all
            for _notify in self._connection.notifies(timeout=0):
                pass
        return heard
