"""The API's request and response bodies, as pydantic models: they validate requests and
give the OpenAPI 3.1 document its schemas (``app.web.api.spec``)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StringConstraints

from app.domain.pathway import ConsentMethod
from app.domain.people import EducationLevel, Sex

# Text without control characters (TAB, LF and CR allowed), as the web's forms accept it.
_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
Text = Annotated[str, StringConstraints(pattern=_TEXT)]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Pseudonym = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9-]{1,16}$")]
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_day(value: object) -> object:
    """A day of a request is ISO text ("2026-12-01"): not a number of seconds, nor a date
    and time (which pydantic would read as a day)."""
    if isinstance(value, str) and not _ISO_DAY.match(value):
        raise ValueError("a day as YYYY-MM-DD")
    if not isinstance(value, str | date):
        raise ValueError("a day as YYYY-MM-DD text")
    return value


# Request values are taken as sent: a day as ISO text, a yes/no as JSON true or false (not
# "yes", "no", "true" or 1, which pydantic reads as booleans by default).
Day = Annotated[date, BeforeValidator(_iso_day)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- problems --------------------------------------------------------------------------------


class FieldProblem(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldProblem] | None = None
    duplicates: list[str] | None = Field(
        None, description="Possible duplicates your structure follows (pseudonyms)."
    )
    elsewhere: bool | None = Field(
        None, description="A possible duplicate is followed by another structure."
    )


# -- headers ---------------------------------------------------------------------------------


class IdempotencyHeaders(BaseModel):
    idempotency_key: Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,128}$")] = Field(
        alias="Idempotency-Key",
        description="A key of your choice, new for each operation (a UUID): the same key "
        "with the same request gets the same answer again, for 24 hours.",
    )


# -- people ----------------------------------------------------------------------------------


class IdentityIn(Strict):
    last_name: Annotated[Text, Field(min_length=1, max_length=100)]
    first_name: Annotated[Text, Field(min_length=1, max_length=100)]
    birth_date: Day | None = None
    phone: Annotated[Text, Field(max_length=32)] | None = None
    email: Annotated[Text, Field(max_length=254)] | None = None
    address: Annotated[Text, Field(max_length=300)] | None = None
    france_travail_id: Annotated[Text, Field(max_length=32)] | None = None
    ine: Annotated[Text, Field(max_length=32)] | None = None
    notes: Annotated[Text, Field(max_length=4000)] | None = None


class Identity(BaseModel):
    last_name: str
    first_name: str
    birth_date: date | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    france_travail_id: str | None = None
    ine: str | None = None
    notes: str | None = None


class ConsentIn(Strict):
    method: ConsentMethod
    given_on: Day


class PersonIn(Strict):
    identity: IdentityIn
    cohorts: Annotated[list[Code], Field(min_length=1, max_length=20)]
    qpv: Code | None = None
    sex: Sex | None = None
    education_level: EducationLevel | None = None
    consent: ConsentIn | None = None
    register_anyway: StrictBool = Field(
        False, description="Register even though a possible duplicate was found (409)."
    )


class FollowUp(BaseModel):
    started_on: date
    ended_on: date | None = None


class OpenBarrier(BaseModel):
    id: str = Field(description="Give it as a hand-off's `purpose_barrier`.")
    category: str
    status: str
    level: str | None = None
    identified_on: date


class Person(BaseModel):
    pseudonym: str
    cohorts: list[str]
    qpv: str | None = None
    sex: Sex | None = None
    education_level: EducationLevel | None = None
    consent: bool = Field(
        description="The person's consent to share with the network is on record."
    )
    follow_up: FollowUp | None = None
    identity: Identity | None = Field(
        None,
        description="Given when reading a person (each reading is audited), never in "
        "the answer to a registration.",
    )
    open_barriers: list[OpenBarrier] | None = Field(
        None,
        description="Given when reading a person: the barriers not closed yet, oldest first "
        "(the purposes a hand-off may have besides a stage); their details stay on the web.",
    )


class PeopleQuery(Strict):
    cursor: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,200}$")] | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class PeoplePage(BaseModel):
    items: list[Person]
    next_cursor: str | None = Field(None, description="Give it as `cursor` for the next page.")


# -- hand-offs -------------------------------------------------------------------------------


class HandoffIn(Strict):
    pseudonym: Pseudonym
    to_structure: Code
    purpose_stage: Code | None = None
    purpose_barrier: Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F-]{32,36}$")] | None = (
        None
    )
    note: Annotated[Text, Field(max_length=4000)] | None = None
    consent_confirmed: StrictBool = Field(description="The person agrees to this hand-off.")


class Handoff(BaseModel):
    id: str
    version: int
    status: str
    pseudonym: str
    from_structure: str
    to_structure: str
    purpose_stage: str | None = None
    purpose_barrier: str | None = None
    sent_at: datetime
    answered_on: date | None = None
    first_contact_on: date | None = None
    closed_on: date | None = None
    decline_reason: str | None = None
    outcome: str | None = None
    parent_id: str | None = None
    changed_at: datetime | None = None


class HandoffsQuery(Strict):
    box: Annotated[str, StringConstraints(pattern=r"^(inbox|outbox)$")] = "inbox"
    since: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,300}$")] | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 100


class HandoffChanges(BaseModel):
    items: list[Handoff]
    next_cursor: str = Field(description="Give it as `since` to get the changes after these.")


class Message(Strict):
    message: Annotated[Text, Field(max_length=4000)] | None = None


class AcceptIn(Message):
    on: Day | None = Field(None, description="The day it happened (today if not given).")


class DeclineIn(Message):
    reason: Code


class RedirectIn(Message):
    to_structure: Code


class FirstContactIn(Message):
    on: Day | None = None


class OutcomeIn(Message):
    completed: StrictBool = Field(description="The hand-off reached its purpose.")
    outcome: Code
    on: Day | None = None


# -- directory -------------------------------------------------------------------------------


class Directory(BaseModel):
    """The partner directory in the data·inclusion shape of the export."""

    structures: list[dict[str, Any]]
    services: list[dict[str, Any]]
