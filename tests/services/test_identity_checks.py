"""``IdentityChecks``: the rules of ``clean_identity``, worked out once per phone and domain.

The import checks thousands of lines with one ``IdentityChecks``; whatever it remembers, each
answer must be the one ``clean_identity`` gives without it, address by address.
"""

from __future__ import annotations

import random
from datetime import date

import email_validator
import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.services.errors import InvalidInput
from app.services.people import identity, identity_checks
from app.services.people.identity import Identity, IdentityChecks, clean_identity, normalise_phone

TODAY = date(2026, 11, 25)

ADDRESSES = (
    "aurelie.z@exemple.fr",
    "Aurelie.Z@Exemple.FR",
    "aurélie.12@exemple.fr",
    "a\u0301urelie@exemple.fr",  # not NFC: normalised, then checked again
    "POSTMASTER@exemple.fr",  # a mailbox name lower-cased by the library
    "abuse@Exemple.fr",
    "x@bücher.de",
    "x@xn--bcher-kva.de",  # IDNA: given back in Unicode
    "x@EXEMPLE.fr",
    "x@exemple",  # no dot
    "x@localhost",
    "x@exemple.invalid",  # special-use domain
    "x@exemple.test",
    "x@-exemple.fr",
    "x@exemple-.fr",
    "x@exem ple.fr",
    "x@exemple..fr",
    "x@.exemple.fr",
    "x@exemple.fr.",
    "x@123.45.67.89",
    "x@[127.0.0.1]",  # address literal: the library whole
    "x@[127.0.0.1",
    '"quoted"@exemple.fr',  # quoted local part: the library whole
    '"a@b"@exemple.fr',
    "Aurélie <aurelie@exemple.fr>",  # display name: the library whole
    "<aurelie@exemple.fr>",
    "aurelie@",
    "@exemple.fr",
    "aurelie",
    "aurelie@@exemple.fr",
    "a@b@exemple.fr",
    "aurelie.@exemple.fr",
    ".aurelie@exemple.fr",
    "aure..lie@exemple.fr",
    "aurelie+tag@exemple.fr",
    "aurélie\u200b@exemple.fr",  # zero-width space
    "aurelie@exemple.fr\u0301",
    "a" * 64 + "@exemple.fr",
    "a" * 65 + "@exemple.fr",
    "a" * 60 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + ".fr",  # too long overall
    "aurelie@" + "b" * 64 + ".fr",  # label too long
    "тест@пример.рф",
    "aurelie@exemple.xn--p1ai",
    "aurelie@ex\u0301emple.fr",
    "x@ß.de",
    "x@İstanbul.tr",
    "x@exemple.fr ",
    " x@exemple.fr",
)


def library(address: str) -> str | None:
    """What registration gets: the normalised address, or None when it is refused."""
    try:
        return str(validate_email(address, check_deliverability=False).normalized)
    except EmailNotValidError:
        return None


def remembered(checks: IdentityChecks, address: str) -> str | None:
    try:
        return checks.email(address)
    except EmailNotValidError:
        return None


def test_the_installed_email_validator_is_the_one_whose_steps_are_followed() -> None:
    # Another version validates each address whole (and would make the tests below compare
    # the library with itself): check that the steps still match before updating this.
    assert identity.REMEMBERS_EMAIL_DOMAINS
    assert email_validator.__version__.startswith("2.4.")


@pytest.mark.parametrize("address", ADDRESSES)
def test_each_address_gets_the_answer_of_validate_email(address: str) -> None:
    assert remembered(IdentityChecks(), address) == library(address)


def test_a_remembered_domain_gives_the_same_answers_to_the_next_addresses() -> None:
    checks = IdentityChecks()
    # Every address twice, in two orders, through one set of remembered domains.
    for address in (*ADDRESSES, *reversed(ADDRESSES)):
        assert remembered(checks, address) == library(address), address
    assert "domains=" in repr(checks)


def test_a_refused_domain_is_refused_again_and_a_bad_local_part_is_still_checked() -> None:
    checks = IdentityChecks()
    assert remembered(checks, "x@exemple") is None
    assert remembered(checks, "y@exemple") is None
    assert remembered(checks, "x@exemple.fr") == "x@exemple.fr"
    assert remembered(checks, "x..y@exemple.fr") is None  # same domain, local part refused
    assert remembered(checks, "a" * 250 + "@exemple.fr") is None  # same domain, too long


_LOCAL = st.text(alphabet='abcAZ09.+-_"\\ é\u0301ßİ<>@\u200b', min_size=0, max_size=12)
_DOMAIN = st.text(alphabet="abcAZ09.-é\u0301ßİ[]: ", min_size=0, max_size=16)


@settings(max_examples=400, deadline=None)
@given(local=_LOCAL, domain=st.sampled_from(["exemple.fr", "Exemple.FR", "bücher.de"]) | _DOMAIN)
@example(local="x", domain="exemple.fr")
def test_generated_addresses_get_the_answer_of_validate_email(local: str, domain: str) -> None:
    checks = IdentityChecks()
    address = f"{local}@{domain}"
    assert remembered(checks, address) == library(address)
    # And again, with the domain now remembered.
    assert remembered(checks, address) == library(address)
    other = f"{local}x@{domain}"
    assert remembered(checks, other) == library(other)


@pytest.mark.parametrize(
    "raw",
    [
        "06 12 34 56 78",
        "0612345678",
        "+33 6 12 34 56 78",
        "+44 20 7946 0958",
        "06 12 34 56",  # too short
        "01 23 45 67 89 01",
        "not a number",
        "+999 123",
        "",
    ],
)
def test_a_phone_number_gets_the_answer_of_normalise_phone_every_time(raw: str) -> None:
    checks = IdentityChecks()
    try:
        expected: str | None = normalise_phone(raw)
    except InvalidInput:
        expected = None
    for _ in range(2):  # the second answer is the remembered one
        if expected is not None:
            assert checks.phone(raw) == expected
            continue
        with pytest.raises(InvalidInput, match="valid phone number") as caught:
            checks.phone(raw)
        assert caught.value.field == "phone"


def parsed_by_phonenumbers(raw: str) -> str | None:
    """What ``normalise_phone`` gives without its shortcut for French national numbers."""
    try:
        number = phonenumbers.parse(raw, "FR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def normalised_or_none(raw: str) -> str | None:
    try:
        return normalise_phone(raw)
    except InvalidInput as exc:
        if exc.field != "phone":
            raise
        return None


def test_french_national_numbers_get_the_answer_of_phonenumbers_for_every_prefix() -> None:
    """Every prefix from 01 to 09 followed by two digits (valid and invalid ranges, the
    shortcut's own shapes), written with each separator and none."""
    rng = random.Random(2026)
    checked = valid = 0
    for prefix in range(100, 1000):
        digits = f"0{prefix}" + "".join(str(rng.randrange(10)) for _ in range(6))
        pairs = [digits[i : i + 2] for i in range(0, 10, 2)]
        for raw in (digits, " ".join(pairs), ".".join(pairs), "-".join(pairs)):
            assert normalised_or_none(raw) == parsed_by_phonenumbers(raw), raw
            checked += 1
            valid += parsed_by_phonenumbers(raw) is not None
    assert checked == 3600
    assert 0 < valid < checked  # both answers were compared


def test_the_french_validity_check_is_that_of_phonenumbers_for_every_prefix() -> None:
    """``_valid_in_france`` tries France's number types in another order than
    ``phonenumbers.is_valid_number``: the same answer for every three-digit prefix, valid
    and invalid, each with random endings."""
    rng = random.Random(2027)
    answers = set()
    for prefix in range(100, 1000):
        for _ in range(8):
            national = f"{prefix}" + "".join(str(rng.randrange(10)) for _ in range(6))
            number = phonenumbers.PhoneNumber(country_code=33, national_number=int(national))
            expected = phonenumbers.is_valid_number(number)
            assert identity_checks._valid_in_france(national) == expected, national
            answers.add(expected)
    assert answers == {True, False}


@settings(max_examples=300, deadline=None)
@given(
    st.from_regex(
        r"0[0-9][ .\-]?[0-9]{2}[ .\-]?[0-9]{2}[ .\-]?[0-9]{2}[ .\-]?[0-9]{1,3}", fullmatch=True
    )
)
@example("06 12 34 56 78")
@example("00 12 34 56 78")  # an international prefix: not the shortcut's
@example("06 12 34 56 789")
def test_numbers_shaped_like_french_ones_get_the_answer_of_phonenumbers(raw: str) -> None:
    assert normalised_or_none(raw) == parsed_by_phonenumbers(raw)


def cleaned(person: Identity, checks: IdentityChecks | None) -> Identity | tuple[str, str | None]:
    try:
        return clean_identity(person, TODAY, checks)
    except InvalidInput as exc:
        return (exc.message, exc.field)


@pytest.mark.parametrize(
    ("phone", "email"),
    [
        ("06 12 34 56 78", "Aurelie.Z@Exemple.fr"),
        ("06 12 34 56", "aurelie@exemple.fr"),
        ("06 12 34 56 78", "aurelie@exemple"),
        (None, "  aurelie@exemple.fr  "),
        ("  ", None),
    ],
)
def test_clean_identity_gives_the_same_identity_or_error_with_or_without_checks(
    phone: str | None, email: str | None
) -> None:
    person = Identity(
        last_name="Zephyrin",
        first_name="Aurélie",
        birth_date=date(2004, 3, 14),
        phone=phone,
        email=email,
    )
    checks = IdentityChecks()
    alone = cleaned(person, None)
    for _ in range(2):
        again = cleaned(person, checks)
        if isinstance(alone, Identity):
            assert isinstance(again, Identity)
            assert vars(again) == vars(alone)
        else:
            assert again == alone
