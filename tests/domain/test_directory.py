"""The directory's pure rules: vocabularies, freshness, fit, quarters, opening hours."""

from __future__ import annotations

from datetime import date, time

import pytest

from app.domain.directory import (
    BARRIER_THEMATIQUES,
    STAGE_THEMATIQUES,
    TYPE_TYPOLOGIES,
    Fit,
    age_fits,
    capacity_rank,
    codes_from_thematiques,
    cohorts_from_profils,
    is_stale,
    months_before,
    profils_for,
    thematiques_for,
    type_from_typologie,
)
from app.domain.opening_hours import (
    HoursProblem,
    OpeningHoursError,
    normalise_opening_hours,
    parse_opening_hours,
)
from app.domain.periods import Quarter, quarters_between

# -- thématiques, typologies, profils ---------------------------------------------------------


def test_every_seeded_barrier_and_stage_is_published_and_read_back() -> None:
    barriers, stages = list(BARRIER_THEMATIQUES), list(STAGE_THEMATIQUES)
    assert codes_from_thematiques(thematiques_for(barriers, stages)) == (
        sorted(barriers),
        sorted(stages),
    )
    # No two codes share a thématique, or a round trip would merge them.
    values = [*BARRIER_THEMATIQUES.values(), *STAGE_THEMATIQUES.values()]
    assert len(set(values)) == len(values)


def test_thematiques_of_other_files_are_read_by_family() -> None:
    barriers, stages = codes_from_thematiques(
        [
            "mobilite--louer-un-vehicule",
            "sante--se-soigner-et-prevenir-la-maladie",
            "sante--accompagner-les-traumatismes",
            "famille--garde-denfants",
            "famille--soutien-a-la-parentalite",  # nothing in Relais for it
            "illettrisme--etre-autonome",
            "creation-activite--financer-son-projet",
            "equipement-et-alimentation--alimentation",  # nothing either
        ]
    )
    assert barriers == ["childcare", "health", "language", "mental_health", "mobility"]
    assert stages == ["employment"]


@pytest.mark.parametrize("type_code", sorted(TYPE_TYPOLOGIES))
def test_every_structure_type_survives_its_typologie(type_code: str) -> None:
    typologie, label = TYPE_TYPOLOGIES[type_code]
    assert type_from_typologie(typologie, [label] if label else []) == type_code


def test_typologies_of_other_files() -> None:
    assert type_from_typologie("ASSO", []) == "association"
    assert type_from_typologie("ASSO", ["unis-cite"]) == "uniscite"
    assert type_from_typologie("EI", []) == "siae"
    assert type_from_typologie("CIAS", []) == "ccas"
    assert type_from_typologie(None, ["mission-locale"]) == "mission_locale"
    assert type_from_typologie("BIB", []) == "other"
    assert type_from_typologie(None, []) == "other"


def test_cohorts_and_profils() -> None:
    assert profils_for(["young_dropout", "young_graduate", "unknown"]) == ["jeunes-16-26"]
    assert cohorts_from_profils(["jeunes-16-26"]) == ["young_dropout", "young_graduate"]
    assert cohorts_from_profils(["familles-enfants", "retraites"]) == ["single_parent"]


# -- freshness --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 11, 25), 6, date(2026, 5, 25)),
        (date(2026, 3, 31), 1, date(2026, 2, 28)),
        (date(2024, 8, 31), 6, date(2024, 2, 29)),
        (date(2026, 1, 15), 13, date(2024, 12, 15)),
    ],
)
def test_months_before(day: date, months: int, expected: date) -> None:
    assert months_before(day, months) == expected


def test_a_card_is_stale_from_the_same_day_n_months_later() -> None:
    today = date(2026, 11, 25)
    assert is_stale(None, today, 6)
    assert is_stale(date(2026, 5, 25), today, 6)
    assert not is_stale(date(2026, 5, 26), today, 6)
    assert not is_stale(today, today, 6)


# -- fit --------------------------------------------------------------------------------------


def test_purpose_comes_first_then_cohort_then_neighbourhood() -> None:
    full = Fit(purpose=True, cohort=True, qpv=True)
    purpose_only = Fit(purpose=True, cohort=False, qpv=False)
    public_only = Fit(purpose=False, cohort=True, qpv=True)
    assert full.score > purpose_only.score > public_only.score
    assert full.suggested
    assert purpose_only.suggested
    assert not public_only.suggested


def test_outside_the_age_range_is_never_suggested() -> None:
    too_old = Fit(purpose=True, cohort=True, qpv=True, age=False)
    assert not too_old.suggested
    assert too_old.score < Fit(purpose=False, cohort=False, qpv=False).score


def test_without_a_purpose_cohort_and_neighbourhood_suggest() -> None:
    assert Fit(purpose=None, cohort=True, qpv=True).suggested
    assert not Fit(purpose=None, cohort=True, qpv=False).suggested


def test_age_range_and_capacity_rank() -> None:
    assert age_fits(None, 16, 25)
    assert age_fits(17, 16, None)
    assert age_fits(40, None, None)
    assert not age_fits(26, 16, 25)
    assert not age_fits(15, 16, None)
    assert capacity_rank(3) < capacity_rank(None) < capacity_rank(0)


# -- quarters ---------------------------------------------------------------------------------


def test_quarters_between_includes_both_ends_and_empty_quarters() -> None:
    quarters = quarters_between(date(2025, 11, 30), date(2026, 7, 1))
    assert [str(q) for q in quarters] == ["2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]
    assert quarters[1].starts_on == date(2026, 1, 1)
    assert quarters[1].ends_on == date(2026, 3, 31)
    assert Quarter.of(date(2026, 12, 31)).ends_on == date(2026, 12, 31)
    assert quarters_between(date(2026, 2, 1), date(2026, 1, 1)) == []


# -- opening hours ----------------------------------------------------------------------------


def test_opening_hours_are_read() -> None:
    rules = parse_opening_hours("Mo-Fr 09:00-12:00,13:30-17:00; Sa 09:00-12:00; PH off")
    assert rules[0].days == (0, 1, 2, 3, 4)
    assert rules[0].spans == ((time(9), time(12)), (time(13, 30), time(17)))
    assert rules[1].days == (5,)
    assert rules[2].holidays
    assert rules[2].closed
    assert parse_opening_hours("Mo,We,Fr 14:00-17:00")[0].days == (0, 2, 4)
    assert parse_opening_hours("24/7")[0].days is None
    assert parse_opening_hours("  ") == []


def test_opening_hours_are_written_the_usual_way() -> None:
    text = "Mo-Fr   09:00-12:00, 13:30-17:00 ;Sa 09:00-12:00"
    assert normalise_opening_hours(text) == "Mo-Fr 09:00-12:00,13:30-17:00; Sa 09:00-12:00"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Mo-Fr 9:00-12:00", HoursProblem.TIME_FORMAT),
        ("Lu-Ve 09:00-12:00", HoursProblem.UNKNOWN_DAY),
        ("Fr-Mo 09:00-12:00", HoursProblem.DAY_ORDER),
        ("Mo 25:00-26:00", HoursProblem.NOT_A_TIME),
        ("Mo 12:00-09:00", HoursProblem.SPAN_ORDER),
        ("Mo-Fr", HoursProblem.NO_TIMES),
        ("Mo 09:00-12:00;; Tu off", HoursProblem.EMPTY_RULE),
    ],
)
def test_opening_hours_problems_are_named(text: str, problem: HoursProblem) -> None:
    with pytest.raises(OpeningHoursError) as raised:
        parse_opening_hours(text)
    assert raised.value.problem is problem
