"""Fictional identities of synthetic people, and their sealing as ``seal_identity`` seals them.

Names come from the demo people and a few more; addresses from the streets of the fictional QPVs
(or a few other streets); phone numbers from the demo's range; ``@exemple.fr`` e-mail addresses.
The identity is sealed by ``seal_identity`` itself (ciphertexts bound to their place, blind
indexes, birth year) on a stand-in object, for a bulk insert: the person is not in the database
yet, so the vault is handed the person's data key.
"""

from __future__ import annotations

import unicodedata
import uuid
from datetime import date
from typing import cast

from sqlalchemy.orm import Session

from app.crypto import DataKey
from app.demo.data.network import PEOPLE, QPVS
from app.demo.synthetic.pathway import Pathway
from app.models import IDENTITY_FIELDS, Beneficiary
from app.services.people.identity import Identity, seal_identity
from app.services.security.vault import Vault

_EXTRA_FEMALE = (
    "Manon", "Camille", "Emma", "Louise", "Sabrina", "Kenza", "Assia", "Marine", "Laura",
    "Mélissa", "Anaïs", "Justine", "Rokia", "Salimata", "Dounia", "Ophélie", "Elif", "Naïma",
)  # fmt: skip
_EXTRA_MALE = (
    "Lucas", "Adam", "Nathan", "Bilal", "Dylan", "Loïc", "Ousmane", "Moussa", "Florian",
    "Anthony", "Jordan", "Sami", "Walid", "Kévin", "Émile", "Quentin", "Baptiste", "Cem",
)  # fmt: skip
_EXTRA_LAST = (
    "Bourgeois", "Courvoisier", "Jacquemin", "Lhomme", "Mougenot", "Parisot", "Renaud",
    "Schneider", "Tournier", "Vuillaume", "Bensalem", "Diarra", "Keita", "Kaya", "Nguyen Van",
    "Da Silva", "Martins", "Lopes", "Bakayoko", "Chevalier", "Gauthier", "Hamidi", "Ouattara",
)  # fmt: skip
FEMALE_NAMES = tuple(sorted({p.first_name for p in PEOPLE if p.sex == "F"} | set(_EXTRA_FEMALE)))
MALE_NAMES = tuple(sorted({p.first_name for p in PEOPLE if p.sex == "M"} | set(_EXTRA_MALE)))
LAST_NAMES = tuple(sorted({p.last_name for p in PEOPLE} | set(_EXTRA_LAST)))
OTHER_STREETS = ("rue de la Paix", "avenue Jean-Jaurès", "rue des Jardins", "rue du Stade")
OTHER_TOWNS = (("90000", "Belfort"), ("90800", "Bavilliers"), ("90400", "Danjoutin"))
NOTES = (
    "Préfère être contactée par SMS.",
    "Disponible uniquement le matin.",
    "Joignable par l'intermédiaire de sa sœur.",
    "Ne souhaite pas de courrier à son adresse actuelle.",
)
FT_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_STREETS = {qpv.code: (qpv.streets, qpv.postcode, qpv.city) for qpv in QPVS}


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isalnum() and c.isascii()).lower()


def draw_identity(p: Pathway) -> Identity:
    """The person's fictional identity, drawn with their generator."""
    rng, index = p.rng, p.index
    names = {"female": FEMALE_NAMES, "male": MALE_NAMES}.get(p.sex)
    first = rng.choice(names or rng.choice((FEMALE_NAMES, MALE_NAMES)))
    last = rng.choice(LAST_NAMES)
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    year = p.start.year - p.age - ((month, day) > (p.start.month, p.start.day))
    serial = (index * 7919 + p.seed * 104729) % 1_000_000
    ft = p.entry == "FT90" or p.kind in ("graduate", "adult")
    return Identity(
        last_name=last,
        first_name=first,
        birth_date=date(min(max(year, 1960), 2010), month, day),
        phone=f"+33600{serial:06d}" if rng.random() < 0.9 else None,
        email=f"{_ascii(first)}.{_ascii(last)}.{index}@exemple.fr" if rng.random() < 0.7 else None,
        address=_address(p) if rng.random() < 0.95 else None,
        france_travail_id=(
            f"{rng.randint(1_000_000, 9_999_999)}{rng.choice(FT_LETTERS)}"
            if ft and rng.random() < 0.5
            else None
        ),
        ine=(
            f"{rng.randint(10**9, 10**10 - 1)}{rng.choice(FT_LETTERS)}"
            if p.kind == "young" and rng.random() < 0.5
            else None
        ),
        notes=rng.choice(NOTES) if rng.random() < 0.08 else None,
    )


def _address(p: Pathway) -> str:
    rng = p.rng
    known = _STREETS.get(p.qpv_code or "")
    if known is not None:
        streets, postcode, city = known
    else:
        streets, (postcode, city) = OTHER_STREETS, rng.choice(OTHER_TOWNS)
    return f"{rng.randint(1, 80)} {rng.choice(streets)}, {postcode} {city}"


class SealingVault(Vault):
    """The application's vault, holding the data key of the person being written (not in the
    database yet), which ``seal_identity`` asks for."""

    def __init__(self, vault: Vault) -> None:  # shares the key ring and indexer, no new keys
        self.keys = vault.keys
        self.indexer = vault.indexer
        self.key: DataKey | None = None
        self.sealed: SealedIdentity | None = None

    def person_key(self, session: Session, person_id: uuid.UUID) -> DataKey:
        if self.key is None:  # pragma: no cover - a bug in this package
            raise RuntimeError("no data key in hand")
        return self.key

    def sealing_key(self, session: Session, person_id: uuid.UUID) -> DataKey:
        """The person is not stored yet: no key row to lock, the key in hand."""
        return self.person_key(session, person_id)

    def index_name_words(
        self, session: Session, person_id: uuid.UUID, last_name: str, first_name: str
    ) -> None:
        if self.sealed is None:  # pragma: no cover - a bug in this package
            raise RuntimeError("no person being sealed")
        self.sealed.name_prefixes = sorted(self.indexer.name_prefixes(last_name, first_name))

    def seal_new_identity(
        self, session: Session, key: DataKey, person_id: uuid.UUID, identity: Identity
    ) -> SealedIdentity:
        """``identity`` sealed with ``key``, the data key of a person not stored yet."""
        self.key = key
        sealed = self.sealed = SealedIdentity(person_id)
        try:
            seal_identity(self, session, cast(Beneficiary, sealed), identity)
        finally:
            self.key = self.sealed = None
        return sealed


class SealedIdentity:
    """What ``seal_identity`` writes on a person, kept for a bulk insert (as the import does)."""

    def __init__(self, person_id: uuid.UUID) -> None:
        self.id = person_id
        self.name_prefixes: list[int] = []  # the rows of ``name_search_tokens``

    def __repr__(self) -> str:
        return f"SealedIdentity({self.id})"


SEALED_COLUMNS = (
    *IDENTITY_FIELDS,
    "index_version",
    "name_birth_index",
    "email_index",
    "phone_index",
    "lookup_version",
    "name_birth_lookup",
    "email_lookup",
    "phone_lookup",
    "birth_year",
)
