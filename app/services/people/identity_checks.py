"""The checks of identity values worked out once for many people (an import): phone numbers
and e-mail domains, remembered (``IdentityChecks``), with ``normalise_phone`` that
``app.services.people.identity.clean_identity`` applies to one person."""

from __future__ import annotations

import functools
import re
import unicodedata

import email_validator
import phonenumbers
from email_validator import EmailNotValidError, EmailSyntaxError, ValidatedEmail, validate_email

from app.services.errors import N_, InvalidInput

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


# A French number written the national way: 0, a digit from 1 to 9, then four pairs of digits,
# each pair after one space, dot or hyphen, or nothing ("06 12 34 56 78", "0612345678").
_FRENCH_NATIONAL = re.compile(r"0[1-9](?:[ .\-]?[0-9]{2}){4}")
_NOT_DIGITS = re.compile(r"[^0-9]")


def normalise_phone(raw: str, region: str = "FR") -> str:
    """A French or international phone number in E.164, or ``InvalidInput``.

    A French number written the national way (most numbers in a French file) skips
    ``phonenumbers.parse``, which would give the same number: country code 33, the national
    prefix 0 stripped (the nine digits left are the national number; ten digits starting
    with 0 are never a national number in France's metadata, so the prefix is always
    stripped). Its validity is checked by ``phonenumbers`` all the same.
    ``tests/services/test_identity_checks.py`` compares the two ways on every prefix.
    """
    if region == "FR" and _FRENCH_NATIONAL.fullmatch(raw):
        national = _NOT_DIGITS.sub("", raw)[1:]
        if not _valid_in_france(national):
            raise InvalidInput(N_("Enter a valid phone number."), field="phone")
        return f"+33{national}"
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(N_("Enter a valid phone number."), field="phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(N_("Enter a valid phone number."), field="phone")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


# One description of France's numbering plan: its possible lengths (none: any) and pattern.
_Description = tuple[frozenset[int], re.Pattern[str]]


def _valid_in_france(national: str) -> bool:
    """``phonenumbers.is_valid_number`` of the French number +33 ``national`` (the national
    number: nine digits, the first from 1 to 9), from the same metadata.

    ``phonenumbers`` finds the number's type: the general description first, then eight rare
    types, then fixed lines and mobiles - ten patterns tried for a mobile number. A number is
    valid when the general description and any type match, whatever the type: here mobiles and
    fixed lines, most numbers of a file, are tried first (three patterns for a mobile).
    ``tests/services/test_identity_checks.py`` compares the two on every prefix.
    """
    general, types = _french_descriptions()
    return _matches(national, general) and any(_matches(national, kind) for kind in types)


@functools.cache
def _french_descriptions() -> tuple[_Description | None, tuple[_Description, ...]]:
    """France's general description and those of its number types, mobiles and fixed lines
    first (``phonenumbers.phonenumberutil._number_type_helper`` tries the same ones)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("FR")
    if metadata is None:  # pragma: no cover - France is in every version's metadata
        return None, ()
    kinds = (
        metadata.mobile,
        metadata.fixed_line,
        metadata.premium_rate,
        metadata.toll_free,
        metadata.shared_cost,
        metadata.voip,
        metadata.personal_number,
        metadata.pager,
        metadata.uan,
        metadata.voicemail,
    )
    types = tuple(found for found in map(_description, kinds) if found is not None)
    return _description(metadata.general_desc), types


def _description(desc: phonenumbers.PhoneNumberDesc | None) -> _Description | None:
    """None for a description without a pattern (``phonenumbers`` matches nothing with it)."""
    if desc is None or not desc.national_number_pattern:
        return None
    return frozenset(desc.possible_length or ()), re.compile(desc.national_number_pattern)


def _matches(national: str, description: _Description | None) -> bool:
    """``phonenumbers``' ``_is_number_matching_desc``: a possible length, then the whole
    number matching the pattern."""
    if description is None:
        return False
    lengths, pattern = description
    if lengths and len(national) not in lengths:
        return False
    return pattern.fullmatch(national) is not None


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
