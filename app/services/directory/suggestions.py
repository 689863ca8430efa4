"""Partners suggested for a hand-off: every active structure, the best fit for the person first.

The hand-off form lists them so that a caseworker sees, beside each partner, whether its card
acts on the purpose of the hand-off and takes in people like this one.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from app.domain.directory import Fit, age_fits, capacity_rank
from app.domain.french import fold
from app.domain.people import age_on
from app.models import Beneficiary, ReferenceKind, StructureCard
from app.services.directory.search import (
    EVERYONE,
    DirectoryEntry,
    DirectoryQuery,
    search_directory,
)


@dataclass(frozen=True)
class PartnerSuggestion:
    entry: DirectoryEntry
    fit: Fit


@dataclass(frozen=True)
class _Need:
    """What a hand-off asks of a partner: its purpose and who the person is."""

    barrier: str | None
    stage: str | None
    cohorts: frozenset[str]
    qpv: str | None
    age: int | None


def _fit(card: StructureCard, need: _Need) -> Fit:
    offered = set(card.codes(ReferenceKind.COHORT))
    purpose: bool | None = None
    if need.barrier:
        purpose = need.barrier in card.codes(ReferenceKind.BARRIER_CATEGORY)
    elif need.stage:
        purpose = need.stage in card.codes(ReferenceKind.STAGE)
    return Fit(
        purpose=purpose,
        cohort=bool(need.cohorts & offered) or EVERYONE in offered,
        qpv=need.qpv is not None
        and (card.covers_all_qpvs or need.qpv in card.codes(ReferenceKind.QPV)),
        age=age_fits(need.age, card.age_min, card.age_max),
    )


def suggest_partners(
    session: Session,
    person: Beneficiary,
    *,
    purpose_barrier: str | None,
    purpose_stage: str | None,
    exclude: Collection[int],
    today: date,
    stale_months: int,
) -> list[PartnerSuggestion]:
    """Every active partner but ``exclude``, best fit first, for a hand-off of ``person``.

    Fit reads the purpose (the barrier category or stage the card acts on), the person's
    cohorts and QPV, and their age against the card's age range (see ``Fit``); among equal
    fits, partners with free places come first. The partners not suggested follow, by name
    (accents folded), as in every list of partners.
    """
    need = _Need(
        barrier=purpose_barrier,
        stage=purpose_stage,
        cohorts=frozenset(c.code for c in person.cohorts),
        qpv=person.qpv.code if person.qpv else None,
        age=age_on(person.birth_year, today) if person.birth_year else None,
    )
    entries = search_directory(session, DirectoryQuery(), today=today, stale_months=stale_months)
    suggestions = [
        PartnerSuggestion(entry, _fit(entry.card, need))
        for entry in entries
        if entry.structure.id not in exclude
    ]
    return sorted(suggestions, key=_order)


def _order(suggestion: PartnerSuggestion) -> tuple[int, int, int, str]:
    """Suggested partners by fit, then free places, then name; the others by name."""
    name = fold(suggestion.entry.structure.name)
    if not suggestion.fit.suggested:
        return (1, 0, 0, name)
    capacity = capacity_rank(suggestion.entry.structure.capacity)
    return (0, -suggestion.fit.score, capacity, name)
