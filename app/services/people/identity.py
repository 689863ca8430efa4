"""A person's identity: validation, sealing into ciphertexts and audited reading.

Identity values exist in clear only in the ``Identity`` objects built here, for the length of
one request; models hold ciphertexts, and reprs never show values.
"""

from __future__ import annotations

import dataclasses
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import email_validator
import phonenumbers
from email_validator import EmailNotValidError, EmailSyntaxError, ValidatedEmail, validate_email
from sqlalchemy.orm import Session

from app.crypto import DataKey
from app.domain.audit import AuditAction
from app.domain.people import plausible_birth_date
from app.models import Beneficiary, User
from app.services.errors import N_, Forbidden, InvalidInput
from app.services.people.access import may_change
from app.services.security import audit
from app.services.security.vault import Vault

# ``_validated_email`` follows the steps of ``validate_email`` as email-validator 2.4 takes
# them, with its own functions; with any other version, each address is validated whole.
try:
    from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES
    from email_validator.syntax import (
        DomainNameValidationResult,
        split_email,
        validate_email_domain_name,
        validate_email_length,
        validate_email_local_part,
    )

    REMEMBERS_EMAIL_DOMAINS = email_validator.__version__.startswith("2.4.")
except ImportError:  # pragma: no cover - another version of email-validator
    REMEMBERS_EMAIL_DOMAINS = False

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


def normalise_phone(raw: str, region: str = "FR") -> str:
    """A French or international phone number in E.164, or ``InvalidInput``."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(N_("Enter a valid phone number."), field="phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(N_("Enter a valid phone number."), field="phone")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


class IdentityChecks:
    """What ``clean_identity`` works out for many people at once (an import), kept for reuse.

    The rules are those of ``clean_identity`` without it, only not worked out twice: a phone
    number is parsed and validated once per distinct text (``normalise_phone`` is a function of
    its text alone), and the part of an e-mail address after the @-sign once per distinct
    domain (``email_validator``'s domain check is a function of the domain alone; the part
    before the @-sign, and the length of the whole address, are checked for every address,
    see ``_validated_email``). It holds identity values in clear: keep one for one import and
    let it go with it.
    """

    def __init__(self) -> None:
        self._phones: dict[str, str | None] = {}  # text -> E.164, or None when invalid
        self._domains: dict[tuple[str, bool, bool], DomainNameValidationResult | None] = {}

    def __repr__(self) -> str:
        return f"IdentityChecks(phones={len(self._phones)}, domains={len(self._domains)})"

    def phone(self, raw: str) -> str:
        if raw not in self._phones:
            try:
                self._phones[raw] = normalise_phone(raw)
            except InvalidInput:
                self._phones[raw] = None
        e164 = self._phones[raw]
        if e164 is None:
            raise InvalidInput(N_("Enter a valid phone number."), field="phone")
        return e164

    def email(self, raw: str) -> str:
        """The normalised address, or ``EmailNotValidError``."""
        if not REMEMBERS_EMAIL_DOMAINS:
            return str(validate_email(raw, check_deliverability=False).normalized)
        return _validated_email(raw, self._domains)


def _validated_email(
    address: str, domains: dict[tuple[str, bool, bool], DomainNameValidationResult | None]
) -> str:
    """``validate_email(address, check_deliverability=False).normalized``, or
    ``EmailNotValidError``, with the check of the domain looked up in ``domains`` first.

    The steps are those of ``email_validator.validate_email`` (version 2.4), in its order, with
    its own functions and its module-level defaults; only the result of
    ``validate_email_domain_name`` (a function of the domain and two of those defaults) is
    remembered. The part before the @-sign and the length of the whole address are checked
    every time. The rarer shapes - a display name, a quoted local part, an address literal in
    brackets - go to ``validate_email`` whole. ``tests/services/test_identity_checks.py``
    compares the two on many addresses.
    """
    display_name, original_local, local, quoted, domain_part = split_email(address)
    if display_name is not None or quoted or domain_part.startswith("["):
        return str(validate_email(address, check_deliverability=False).normalized)
    ev = email_validator
    options = {
        "allow_smtputf8": ev.ALLOW_SMTPUTF8,
        "allow_empty_local": ev.ALLOW_EMPTY_LOCAL,
        "quoted_local_part": False,
        "strict": ev.STRICT,
    }
    local_info = validate_email_local_part(local, **options)
    normalized_local = unicodedata.normalize("NFC", local)
    if normalized_local != local:
        local_info = validate_email_local_part(normalized_local, **options)
    checked = ValidatedEmail()
    checked.original = original_local + "@" + domain_part
    checked.display_name = None
    checked.smtputf8 = local_info["smtputf8"]
    checked.local_part = local_info["local_part"]
    checked.ascii_local_part = local_info["ascii_local_part"]
    if (
        checked.ascii_local_part is not None
        and checked.ascii_local_part.lower() in CASE_INSENSITIVE_MAILBOX_NAMES
        and checked.local_part is not None
    ):
        checked.ascii_local_part = checked.ascii_local_part.lower()
        checked.local_part = checked.local_part.lower()
    if not domain_part:
        raise EmailSyntaxError("There must be something after the @-sign.")
    key = (domain_part, bool(ev.TEST_ENVIRONMENT), bool(ev.GLOBALLY_DELIVERABLE))
    if key not in domains:
        try:
            domains[key] = validate_email_domain_name(
                domain_part, test_environment=key[1], globally_deliverable=key[2]
            )
        except EmailNotValidError:
            domains[key] = None
    domain = domains[key]
    if domain is None:
        raise EmailSyntaxError("The part after the @-sign is not valid.")
    checked.domain = domain["domain"]
    checked.ascii_domain = domain["ascii_domain"]
    checked.normalized = checked.local_part + "@" + checked.domain
    validate_email_length(checked)
    return checked.normalized


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
    columns: dict[str, bytes | int | None] = {}
    for name in _FIELD_NAMES:
        value = getattr(identity, name)
        text = value.isoformat() if isinstance(value, date) else value
        columns[name] = vault.seal(key, TABLE, name, person_id, person_id, text)
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

    The caller has checked that the actor may see it (see ``app.services.people.access``).
    """
    reveal, who = AuditAction.BENEFICIARY_REVEAL, open_identity(vault, session, person, fields)
    audit.record(session, actor, reveal, person, beneficiary_id=person.id, purpose=purpose)
    return who


def reveal_identities(
    vault: Vault,
    session: Session,
    actor: User,
    people: Sequence[Beneficiary],
    purpose: str,
    fields: Sequence[str] | None = None,
) -> dict[uuid.UUID, Identity]:
    """``reveal_identity`` for each of ``people`` (a page of a list), by person id, in a fixed
    number of queries: one for the data keys, then one ``beneficiary:reveal`` event listing
    ``people`` in their order (``audit.record_many``, chained at commit). Raises
    ``IdentityErased``, before recording anything, when a person's key is gone.
    """
    if not people:
        return {}
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
