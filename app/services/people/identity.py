"""A person's identity: validation, sealing into ciphertexts and audited reading.

Identity values exist in clear only in the ``Identity`` objects built here, for the length of
one request; models hold ciphertexts, and reprs never show values.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from app.crypto import DataKey, encrypt_row
from app.domain.audit import AuditAction
from app.domain.people import plausible_birth_date
from app.models import Beneficiary, User
from app.services.errors import N_, Forbidden, InvalidInput
from app.services.people.access import may_change

# Re-exported: the callers of ``clean_identity`` and the import take them from here.
from app.services.people.identity_checks import REMEMBERS_EMAIL_DOMAINS as REMEMBERS_EMAIL_DOMAINS
from app.services.people.identity_checks import IdentityChecks as IdentityChecks
from app.services.people.identity_checks import normalise_phone as normalise_phone
from app.services.security import audit
from app.services.security.vault import Vault

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


_FIELD_NAMES = tuple(f.name for f in dataclasses.fields(Identity))


def clean_identity(
    identity: Identity, today: date, checks: IdentityChecks | None = None
) -> Identity:
    """Check and normalise identity values; raise ``InvalidInput`` naming the field.

    ``checks``, given by an import, remembers what it has already worked out (the same rules).
    """
    values, problems = _checked(identity, today, checks)
    if problems:
        raise problems[0]
    return Identity(**values)  # type: ignore[arg-type]


def identity_problems(identity: Identity, today: date) -> list[InvalidInput]:
    """Every problem of ``identity``, one per field, in the order in which ``clean_identity``
    finds them (it raises the first): a form shows them all at once."""
    return _checked(identity, today, None)[1]


def _checked(
    identity: Identity, today: date, checks: IdentityChecks | None
) -> tuple[dict[str, object], list[InvalidInput]]:
    values: dict[str, object] = {}
    problems: list[InvalidInput] = []
    for name in _FIELD_NAMES:
        value = getattr(identity, name)
        if isinstance(value, str):
            value = value.strip() or None
            if value is not None and len(value) > TEXT_LIMITS[name]:
                problems.append(InvalidInput(N_("This value is too long."), field=name))
        values[name] = value
    flagged = {p.field for p in problems}
    if not values["last_name"]:
        problems.append(InvalidInput(N_("Enter the last name."), field="last_name"))
    if not values["first_name"]:
        problems.append(InvalidInput(N_("Enter the first name."), field="first_name"))
    birth = values["birth_date"]
    if isinstance(birth, date) and not plausible_birth_date(birth, today):
        problems.append(
            InvalidInput(
                N_("The birth date must be in the past and give a plausible age."),
                field="birth_date",
            )
        )
    if values["phone"] and "phone" not in flagged:
        phone = str(values["phone"])
        try:
            values["phone"] = checks.phone(phone) if checks is not None else normalise_phone(phone)
        except InvalidInput as exc:
            problems.append(exc)
    if values["email"] and "email" not in flagged:
        email = str(values["email"])
        try:
            values["email"] = (
                checks.email(email)
                if checks is not None
                else validate_email(email, check_deliverability=False).normalized
            )
        except EmailNotValidError:
            problems.append(InvalidInput(N_("Enter a valid e-mail address."), field="email"))
    return values, problems


def identity_columns(
    vault: Vault, key: DataKey, person_id: uuid.UUID, identity: Identity
) -> dict[str, bytes | int | None]:
    """The ciphertext of every identity field of a person, and the birth year, by column.

    What ``seal_identity`` writes on a person (with the blind indexes); the import puts these
    values straight into its bulk insert.
    """
    columns: dict[str, bytes | int | None] = dict.fromkeys(_FIELD_NAMES)
    present: list[tuple[str, str]] = []
    for name in _FIELD_NAMES:
        value = getattr(identity, name)
        text = value.isoformat() if isinstance(value, date) else value
        if text:  # None and empty strings are stored as NULL (``Vault.seal``)
            present.append((name, text))
    # One cipher for the person's fields (``encrypt_row``), as ``Vault.seal`` would seal each.
    sealed = encrypt_row(key, TABLE, person_id, person_id, present)
    columns.update(zip((name for name, _ in present), sealed, strict=True))
    columns["birth_year"] = identity.birth_date.year if identity.birth_date else None
    return columns


def seal_identity(vault: Vault, session: Session, person: Beneficiary, identity: Identity) -> None:
    """Encrypt every identity field of ``person`` and refresh its blind indexes (the search's
    name prefixes included) and birth year."""
    key = vault.sealing_key(session, person.id)
    for column, value in identity_columns(vault, key, person.id, identity).items():
        setattr(person, column, value)
    vault.index_person(
        person,
        identity.last_name,
        identity.first_name,
        identity.birth_date,
        identity.email,
        identity.phone,
    )
    vault.index_name_words(session, person.id, identity.last_name, identity.first_name)


# What the caseload list shows: nothing more is decrypted for it.
SUMMARY_FIELDS = ("last_name", "first_name", "birth_date")


def open_identity(
    vault: Vault,
    session: Session,
    person: Beneficiary,
    fields: Sequence[str] | None = None,
    *,
    key: DataKey | None = None,
) -> Identity:
    """Decrypt a person's identity, or only ``fields`` of it (the others read as empty).

    ``key``, the person's data key when the caller has it already, saves reading it again.
    No audit here: callers outside this module go through ``reveal_identity``.
    """
    if key is None:
        key = vault.person_key(session, person.id)
    wanted = [name for name in _FIELD_NAMES if fields is None or name in fields]
    return identity_from_columns(
        vault, key, person.id, {name: getattr(person, name) for name in wanted}
    )


def identity_from_columns(
    vault: Vault, key: DataKey, person_id: uuid.UUID, stored: Mapping[str, bytes | None]
) -> Identity:
    """``open_identity`` from the stored columns of a person read without the ORM (``stored``:
    the ciphertexts of the wanted fields, by column; the others read as empty)."""
    present = {name: value for name, value in stored.items() if value is not None}
    opened = vault.open_row(key, TABLE, person_id, person_id, present)
    values: dict[str, object] = {"last_name": "", "first_name": ""}
    for name in stored:
        text = opened.get(name)
        values[name] = date.fromisoformat(text) if name == "birth_date" and text else text
    return Identity(**values)  # type: ignore[arg-type]


def reveal_identity(
    vault: Vault,
    session: Session,
    actor: User,
    person: Beneficiary,
    purpose: str,
    fields: Sequence[str] | None = None,
    *,
    keys: Mapping[uuid.UUID, DataKey] | None = None,
) -> Identity:
    """Decrypt a person's identity for ``actor`` and record the reveal in the audit log.

    The caller has checked that the actor may see it (see ``app.services.people.access``).
    ``keys``: as for ``reveal_identities``.
    """
    key = keys.get(person.id) if keys is not None else None
    who = open_identity(vault, session, person, fields, key=key)
    reveal = AuditAction.BENEFICIARY_REVEAL
    audit.record(session, actor, reveal, person, beneficiary_id=person.id, purpose=purpose)
    return who


def reveal_identities(
    vault: Vault,
    session: Session,
    actor: User,
    people: Sequence[Beneficiary],
    purpose: str,
    fields: Sequence[str] | None = None,
    *,
    keys: Mapping[uuid.UUID, DataKey] | None = None,
) -> dict[uuid.UUID, Identity]:
    """``reveal_identity`` for each of ``people`` (a page of a list), by person id, in a fixed
    number of queries: one for the data keys, then one ``beneficiary:reveal`` event listing
    ``people`` in their order (``audit.record_many``, chained at commit).

    ``keys``, the people's data keys when the page read them already (``Vault.person_keys``,
    so that a page that decrypts more than the identity reads each key once), saves that
    query. Raises
    ``IdentityErased``, before recording anything, when a person's key is gone.
    """
    if not people:
        return {}
    if keys is None:
        keys = vault.person_keys(session, [person.id for person in people])
    identities = {
        person.id: open_identity(vault, session, person, fields, key=keys[person.id])
        for person in people
    }
    audit.record_many(
        session,
        actor,
        AuditAction.BENEFICIARY_REVEAL,
        [(person, person.id) for person in people],
        purpose=purpose,
    )
    return identities


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

    Raises ``Forbidden`` unless the actor's structure follows the person now (an open
    follow-up: the reading grace period after one ended does not allow changes).
    """
    if not may_change(session, actor, person):
        raise Forbidden(N_("Your structure does not follow this person."))
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
