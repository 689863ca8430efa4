"""Employment outcomes: the contract a person signed, and which steps may carry one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

# The stage whose steps say that a person found work (see ``STAGE_ORDER``).
EMPLOYMENT_STAGE = "employment"


class ContractType(StrEnum):
    """The kinds of work a pathway leads to, as the employment committees count them."""

    CDI = "cdi"
    CDD_LONG = "cdd_long"  # fixed term of six months or more
    CDD_SHORT = "cdd_short"  # fixed term under six months
    INTERIM = "interim"
    APPRENTICESHIP = "apprenticeship"  # apprentissage, contrat de professionnalisation
    SUBSIDISED = "subsidised"  # contrat aidé, PEC (parcours emploi compétences)
    IAE = "iae"  # insertion par l'activité économique (SIAE contract)
    BUSINESS_CREATION = "business_creation"
    PAID_TRAINING = "paid_training"  # training with pay (rémunérée)

    @property
    def is_lasting(self) -> bool:
        """A lasting job (*emploi durable*): permanent, fixed term of six months or more, or
        the person's own business."""
        return self in LASTING_CONTRACTS


LASTING_CONTRACTS = frozenset(
    {ContractType.CDI, ContractType.CDD_LONG, ContractType.BUSINESS_CREATION}
)


class EmploymentMismatch(ValueError):
    """Contract details given for a step that is not an employment step."""


def check_employment(
    stage_code: str, contract_type: ContractType | None, employer: str | None
) -> None:
    """Only an employment step carries a contract type or an employer; raise
    ``EmploymentMismatch`` otherwise. (Both stay optional on an employment step: a job may be
    recorded before its contract is known, and older records have none.)"""
    if stage_code != EMPLOYMENT_STAGE and (contract_type is not None or (employer or "").strip()):
        raise EmploymentMismatch(stage_code)


@dataclass(frozen=True)
class Employment:
    """A job found: the contract, its first day and the employer (a free text, sealed)."""

    contract_type: ContractType
    started_on: date
    employer: str | None = None


# A contract is often signed some weeks before its first day; not more than this ahead.
JOB_START_HORIZON = timedelta(days=183)


def job_start_fits(started_on: date, *, sent_on: date, today: date) -> bool:
    """Whether a job found through a hand-off sent on ``sent_on`` may start on ``started_on``:
    not before the hand-off, and at most six months after today."""
    return sent_on <= started_on <= today + JOB_START_HORIZON
