"""A person's identity: validation, sealing into ciphertexts and audited reading.

Identity values exist in clear only in the ``Identity`` objects built here, for the length of
one request; models hold ciphertexts, and reprs never show values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.people import plausible_birth_date
from app.models import Beneficiary, User
from app.services import audit
from app.services.errors import N_, InvalidInput
from app.services.vault import Vault

TABLE = Beneficiary.__tablename__
TEXT_LIMITS = {
    "last_name": 100,
    "first_name": 100,
    "phone": 32,
    "email": 254,
    "address": 300,
    "france_travail_id": 32,
    "ine": 32,
    "notes": 4000,
}


@dataclass(frozen=True, repr=False)
class Identity:
    """Who a person is. ``repr`` is deliberately empty of values."""

    last_name: str
    first_name: str
    birth_date: date | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    france_travail_id: str | None = None
    ine: str | None = None
    notes: str | None = None

    def __repr__(self) -> str:
        return "Identity(<hidden>)"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name.upper()}"


def normalise_phone(raw: str, region: str = "FR") -> str:
    """A French or international phone number in E.164, or ``InvalidInput``."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(N_("Enter a valid phone number."), field="phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(N_("Enter a valid phone number."), field="phone")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def clean_identity(identity: Identity, today: date) -> Identity:
    """Check and normalise identity values; raise ``InvalidInput`` naming the field."""
    values: dict[str, object] = {}
    for field in dataclasses.fields(identity):
        value = getattr(identity, field.name)
        if isinstance(value, str):
            value = value.strip() or None
            if value is not None and len(value) > TEXT_LIMITS[field.name]:
                raise InvalidInput(N_("This value is too long."), field=field.name)
        values[field.name] = value
    if not values["last_name"]:
        raise InvalidInput(N_("Enter the last name."), field="last_name")
    if not values["first_name"]:
        raise InvalidInput(N_("Enter the first name."), field="first_name")
    birth = values["birth_date"]
    if isinstance(birth, date) and not plausible_birth_date(birth, today):
        raise InvalidInput(
            N_("The birth date must be in the past and give a plausible age."), field="birth_date"
        )
    if values["phone"]:
        values["phone"] = normalise_phone(str(values["phone"]))
    if values["email"]:
        try:
            checked = validate_email(str(values["email"]), check_deliverability=False)
        except EmailNotValidError as exc:
            raise InvalidInput(N_("Enter a valid e-mail address."), field="email") from exc
        values["email"] = checked.normalized
    return Identity(**values)  # type: ignore[arg-type]


def seal_identity(
    vault: Vault,
    session: Session,
    person: Beneficiary,
    identity: Identity,
    *,
    indexes: Mapping[str, int] | None = None,
) -> None:
    """Encrypt every identity field of ``person`` and refresh its blind indexes and birth year.

    ``indexes`` (index name -> value), when the caller has computed them already (the import
    does, for its duplicate lookup), saves computing the keyed hashes twice.
    """
    key = vault.person_key(session, person.id)
    for field in dataclasses.fields(identity):
        value = getattr(identity, field.name)
        text = value.isoformat() if isinstance(value, date) else value
        setattr(person, field.name, vault.seal(key, TABLE, field.name, person.id, person.id, text))
    person.birth_year = identity.birth_date.year if identity.birth_date else None
    if indexes is not None:
        person.index_version = vault.indexer.version
        person.name_birth_index = indexes.get("name_birth")
        person.email_index = indexes.get("email")
        person.phone_index = indexes.get("phone")
        return
    vault.index_person(
        person,
        identity.last_name,
        identity.first_name,
        identity.birth_date,
        identity.email,
        identity.phone,
    )


# What the caseload list shows: nothing more is decrypted for it.
SUMMARY_FIELDS = ("last_name", "first_name", "birth_date")


def open_identity(
    vault: Vault, session: Session, person: Beneficiary, fields: Sequence[str] | None = None
) -> Identity:
    """Decrypt a person's identity, or only ``fields`` of it (the others read as empty).

    No audit here: callers outside this module go through ``reveal_identity``.
    """
    key = vault.person_key(session, person.id)
    values: dict[str, object] = {"last_name": "", "first_name": ""}
    for field in dataclasses.fields(Identity):
        if fields is not None and field.name not in fields:
            continue
        text = vault.open(key, TABLE, field.name, person.id, person.id, getattr(person, field.name))
        values[field.name] = (
            date.fromisoformat(text) if field.name == "birth_date" and text else text
        )
    return Identity(**values)  # type: ignore[arg-type]


def reveal_identity(
    vault: Vault,
    session: Session,
    actor: User,
    person: Beneficiary,
    purpose: str,
    fields: Sequence[str] | None = None,
) -> Identity:
    """Decrypt a person's identity for ``actor`` and record the reveal in the audit log.

    The caller has checked that the actor may see it (see ``app.services.access``).
    """
    identity = open_identity(vault, session, person, fields)
    audit.record(
        session,
        actor,
        AuditAction.BENEFICIARY_REVEAL,
        person,
        beneficiary_id=person.id,
        purpose=purpose,
    )
    return identity


def update_identity(
    vault: Vault,
    session: Session,
    actor: User,
    person: Beneficiary,
    identity: Identity,
    *,
    today: date,
) -> list[str]:
    """Replace a person's identity; returns the names of the fields that changed (audited).

    The caller has checked that the actor's structure follows the person.
    """
    cleaned = clean_identity(identity, today)
    before = open_identity(vault, session, person)
    changed = [
        f.name
        for f in dataclasses.fields(Identity)
        if getattr(before, f.name) != getattr(cleaned, f.name)
    ]
    if changed:
        seal_identity(vault, session, person, cleaned)
        audit.record(
            session,
            actor,
            AuditAction.BENEFICIARY_UPDATE,
            person,
            beneficiary_id=person.id,
            fields=",".join(changed),
        )
    return changed
