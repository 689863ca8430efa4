"""What went wrong in a page's forms, for the error summary and the "Error:" page title.

Every template may name the forms it shows (``{% set error_forms = [...] %}``; by default the
``form`` it was given); ``base.html`` asks :func:`form_problems` for their errors, prefixes the
page title with "Error:" and lists them at the top of the page, each linked to its field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

# Field types drawn as a group of options: the link goes to the first option (``id-0``).
GROUPS = {"RadioField", "MultiCheckboxField"}
HIDDEN = {"HiddenField", "CSRFTokenField", "SubmissionField"}


@dataclass(frozen=True)
class Problem:
    """One error of one field: ``anchor`` is the id of the control to focus."""

    anchor: str
    label: str
    message: str


def _anchor(field: Any) -> str:
    return f"{field.id}-0" if field.type in GROUPS else str(field.id)


def _first_visible(form: Any) -> str:
    for field in form:
        if field.type not in HIDDEN:
            return _anchor(field)
    return "main"


def form_problems(forms: Iterable[Any]) -> list[Problem]:
    """The errors of ``forms`` (``None`` entries skipped), in the order of their fields.

    An expired or missing CSRF token is told as such and linked to the form's first field:
    the values typed are kept, and nothing was done.
    """
    problems = []
    for form in forms:
        if form is None:
            continue
        for field in form:
            if not field.errors:
                continue
            if field.type == "CSRFTokenField":
                message = _("The form had expired: nothing was saved. Check it and send it again.")
                problems.append(Problem(_first_visible(form), _("Form"), message))
                continue
            # A hidden field's error (a stale one-time token) is about the whole form.
            anchor = _first_visible(form) if field.type in HIDDEN else _anchor(field)
            for error in field.errors:
                problems.append(Problem(anchor, str(field.label.text), str(error)))
    return problems
