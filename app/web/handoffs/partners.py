"""The partners of the hand-off form: the choices of the partner list, what is shown beside
the suggested ones (capacity statuses, track record), and the check before sending to a
partner that says it is full."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from flask_babel import format_decimal, format_percent, ngettext
from flask_babel import gettext as _
from wtforms import SelectChoice

from app.models import Structure
from app.services.directory.capacity import card_says_full, partner_is_full
from app.services.directory.partner_details import PartnerDetails, partner_details
from app.services.directory.suggestions import PartnerSuggestion
from app.services.structures import structure_by_id
from app.web.context import dbs, today
from app.web.handoffs.forms import SendForm

SHOWN = 6  # suggested partners shown with their details


def suggested_choices(
    suggestions: list[PartnerSuggestion], purpose_chosen: bool
) -> list[SelectChoice]:
    """Partners best fitting the person (and purpose) first, each with its free places - or
    "full" when its card says so (the status the send is held on), whatever places it
    declared before."""
    first = _("Suggested for this purpose") if purpose_chosen else _("Suggested for this person")
    groups = (first, _("Other partners"))
    options = [SelectChoice("", _("Choose a partner"))]
    for item in suggestions:
        structure = item.entry.structure
        if card_says_full(item.entry.card) or structure.capacity == 0:
            text = _("%(name)s — full", name=structure.name)
        elif structure.capacity is None:
            text = structure.name
        else:
            text = ngettext(
                "%(name)s — %(num)d free place",
                "%(name)s — %(num)d free places",
                structure.capacity,
                name=structure.name,
            )
        group = groups[0] if item.fit.suggested else groups[1]
        options.append(SelectChoice(str(structure.id), text, optgroup=group))
    return options


def details(suggestions: list[PartnerSuggestion]) -> dict[int, PartnerDetails]:
    """Capacity and track record of the partners shown (publication view: k)."""
    return partner_details(
        dbs(),
        suggestions[:SHOWN],
        today=today(),
        now=datetime.now(UTC),
        stale_weeks=current_app.config["CAPACITY_STALE_WEEKS"],
        k=current_app.config["SMALL_COUNT_THRESHOLD"],
    )


def full_partner(form: SendForm) -> Structure | None:
    """The chosen partner when it says it is full and the sender has not confirmed yet."""
    target = structure_by_id(dbs(), form.to_structure.data)
    if target is None or form.send_to_full.data or not partner_is_full(dbs(), target):
        return None
    return target


def days_text(value: float) -> str:
    return str(format_decimal(round(value, 1), format="#,##0.#"))


def share_text(value: float) -> str:
    return str(format_percent(value, format="#,##0 %"))
