"""Malformed requests stop here, before any view: control characters and ids out of range.

* ``refuse_control_characters`` runs first of all request hooks, for every route (anonymous
  ones included): a NUL byte or another control character in the path, in the name or value
  of a query parameter, or in the name, value or file name of a form field is answered with a
  400 and the reason, instead of reaching the database (PostgreSQL refuses NUL in text) or a
  parser. Values may hold TAB, LF and CR (text areas, pasted text); names and paths may not.
* ``DatabaseId`` replaces Flask's ``int`` URL converter: ASCII digits only, 1 to
  ``DATABASE_INT_MAX``, so an id beyond the database's integer range is a 404, not an overflow.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any, NoReturn

from flask import Flask, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, Map, ValidationError

from app.domain.numbers import DATABASE_INT_MAX, MAX_DIGITS, read_id

log = logging.getLogger(__name__)

# C0 controls and DEL; TAB, LF and CR are allowed in values only.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_VALUE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


PATH_REASON = _l("The address of the page holds a control character.")
FORM_REASON = _l("The form sent holds a control character (a character that cannot be typed).")


class MalformedRequest(BadRequest):
    """A request Relais refuses as a whole; its description says why (shown on the 400 page)."""


class DatabaseId(IntegerConverter):
    """``<int:name>`` in a route: a positive database id, ASCII digits, within ``integer``
    (werkzeug's ``\\d+`` matches other scripts' digits and has no upper bound)."""

    regex = rf"[0-9]{{1,{MAX_DIGITS}}}"

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        super().__init__(url_map, min=1, max=DATABASE_INT_MAX)

    def to_python(self, value: str) -> int:
        found = read_id(value)
        if found is None:
            raise ValidationError()  # no route matches: a 404
        return found


def install(app: Flask) -> None:
    """Use ``DatabaseId`` for ``int`` (call before the blueprints are registered) and check
    every request before the other hooks (CSRF included) and the views."""
    app.url_map.converters["int"] = DatabaseId
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_control_characters)


def refuse_control_characters() -> None:
    """Raise ``MalformedRequest`` when the request carries a control character (logged with
    the method and the endpoint only: the path and the values may hold personal data)."""
    if _CONTROL.search(request.path) or _has_control(request.args.items(multi=True)):
        _refuse(PATH_REASON, "address")
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        files = ((name, upload.filename or "") for name, upload in request.files.items(multi=True))
        if _has_control(request.form.items(multi=True)) or _has_control(files):
            _refuse(FORM_REASON, "form")


def _refuse(reason: object, where: str) -> NoReturn:
    log.info(
        "request refused: control character in the %s (%s %s)",
        where,
        request.method,
        request.endpoint,
    )
    raise MalformedRequest(str(reason))


def _has_control(pairs: Iterable[tuple[str, str]]) -> bool:
    return any(_CONTROL.search(name) or _CONTROL_IN_VALUE.search(value) for name, value in pairs)
