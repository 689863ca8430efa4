"""The password policy: the shipped deny-list (10,000 common passwords and the demo password)
and zxcvbn's strength estimate, with our own messages."""

from __future__ import annotations

import random
from importlib import resources

import pytest

from app.services.errors import InvalidInput
from app.services.security.passwords import check_password_policy, check_strength

GOOD = "a long enough test passphrase"


def _list_entries() -> list[str]:
    text = resources.files("app.data").joinpath("common-passwords.txt").read_text("utf-8")
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_the_deny_list_holds_at_least_ten_thousand_passwords_and_says_where_from() -> None:
    text = resources.files("app.data").joinpath("common-passwords.txt").read_text("utf-8")
    assert len(set(_list_entries())) >= 10_000
    assert "zxcvbn" in text  # the source
    assert "MIT" in text  # and its licence


def test_the_published_demo_password_is_refused() -> None:
    with pytest.raises(InvalidInput, match="too common"):
        check_password_policy("relais-demo-2026", 12)
    with pytest.raises(InvalidInput, match="too common"):
        check_password_policy("Relais-Demo-2026", 12)  # compared case-folded


def test_a_sample_of_the_list_is_refused_at_any_length() -> None:
    """Entries long enough to pass the length rule are refused by the list itself (a minimum
    length of 1 lets every entry reach the list)."""
    entries = _list_entries()
    sample = random.Random(12).sample(entries, 40) + [e for e in entries if len(e) >= 12][:20]
    for entry in sample:
        with pytest.raises(InvalidInput):
            check_password_policy(entry, 1)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("qwertyuiopasdf", "commonly used password"),
        ("abcdefghijklmnop", "sequences"),
        ("troubadour123456", "common words"),
        ("bonjourbonjourbonjour", "repeated"),
    ],
)
def test_a_password_easy_to_guess_is_refused_with_its_reason(password: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match="too easy to guess") as refused:
        check_password_policy(password, 12)
    assert reason in refused.value.message
    assert refused.value.field == "password"


def test_the_name_of_the_account_counts_as_a_known_word() -> None:
    check_strength("zephyrinbalthazar")  # fine for someone else
    with pytest.raises(InvalidInput, match="your name or your login"):
        check_strength("zephyrinbalthazar", ["Zéphyrin Balthazar", "zephyrin.b@relais.example"])


def test_strong_passwords_pass_even_very_long_ones() -> None:
    check_password_policy(GOOD, 12, email="someone@relais.example", names=["Some One"])
    check_password_policy("grenouille violette sur un vélo rouge " * 20, 12)  # past zxcvbn's 72
