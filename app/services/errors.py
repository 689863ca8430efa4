"""Errors raised by services.

Each carries an English message marked for translation with ``N_`` (the web and CLI layers
translate it, then fill ``params``), the form field it is about if any, and a stable ``code``.
"""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 - the usual gettext "no-op" marker
    """Mark a message for extraction; it is translated where it is shown."""
    return message


class ServiceError(Exception):
    code = "error"

    def __init__(self, message: str, *, field: str | None = None, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.field = field
        self.params = params


class NotFound(ServiceError):
    """The record does not exist, or the actor may not know it exists."""

    code = "not_found"


class Forbidden(ServiceError):
    code = "forbidden"


class InvalidInput(ServiceError):
    code = "invalid"


class Conflict(ServiceError):
    """Someone else changed the record first (e.g. two answers to one hand-off)."""

    code = "conflict"
