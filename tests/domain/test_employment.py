"""Contracts of the jobs a pathway leads to, and where a contract may be recorded."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.employment import (
    EMPLOYMENT_STAGE,
    ContractType,
    EmploymentMismatch,
    check_employment,
    job_start_fits,
)
from app.domain.pathway import STAGE_ORDER, BarrierLevel

TODAY = date(2026, 11, 25)


def test_the_contract_types_of_the_field() -> None:
    assert [c.value for c in ContractType] == [
        "cdi", "cdd_long", "cdd_short", "interim", "apprenticeship", "subsidised", "iae",
        "business_creation", "paid_training",
    ]  # fmt: skip


def test_lasting_jobs_are_cdi_long_cdd_and_business_creation() -> None:
    lasting = {c for c in ContractType if c.is_lasting}
    assert lasting == {ContractType.CDI, ContractType.CDD_LONG, ContractType.BUSINESS_CREATION}


def test_the_barrier_levels_are_the_national_scale() -> None:
    assert [level.value for level in BarrierLevel] == ["strong", "moderate", "no_impact"]


def test_the_employment_stage_is_a_known_stage() -> None:
    assert EMPLOYMENT_STAGE in STAGE_ORDER


@pytest.mark.parametrize("stage", ["employment"])
@pytest.mark.parametrize(
    ("contract", "employer"),
    [(None, None), (ContractType.CDI, None), (None, "Garage"), (ContractType.IAE, "Régie")],
)
def test_an_employment_step_may_carry_a_contract(
    stage: str, contract: ContractType | None, employer: str | None
) -> None:
    check_employment(stage, contract, employer)


@pytest.mark.parametrize("stage", [s for s in STAGE_ORDER if s != "employment"])
def test_other_steps_carry_no_contract(stage: str) -> None:
    check_employment(stage, None, None)
    check_employment(stage, None, "   ")  # blank is nothing
    with pytest.raises(EmploymentMismatch):
        check_employment(stage, ContractType.CDI, None)
    with pytest.raises(EmploymentMismatch):
        check_employment(stage, None, "Boulangerie")


@pytest.mark.parametrize(
    ("started_on", "fits"),
    [
        (date(2026, 11, 9), False),  # the day before the hand-off
        (date(2026, 11, 10), True),  # the day it was sent
        (TODAY, True),
        (date(2027, 5, 27), True),  # six months ahead (183 days)
        (date(2027, 5, 28), False),
    ],
)
def test_a_job_starts_after_the_handoff_and_within_six_months(started_on: date, fits: bool) -> None:
    assert job_start_fits(started_on, sent_on=date(2026, 11, 10), today=TODAY) is fits
