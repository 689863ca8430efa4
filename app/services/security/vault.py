"""Per-person data keys and the sealing of personal fields.

The vault turns a person's wrapped data key into a ``DataKey`` for the length of one use, and
seals or opens one field at a time, bound to its table, column, row and person.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from app.crypto import (
    DataKey,
    DecryptionError,
    FieldContext,
    KeyRing,
    decrypt_field,
    decrypt_fields,
    encrypt_field,
)
from app.crypto.blind_index import BlindIndexer, name_birth_key, normalise_email
from app.models import Beneficiary, NameSearchToken, PersonKey
from app.services.errors import N_, NotFound


class IdentityErased(NotFound):
    """The person's data key is gone (erased): the identity can no longer be read."""

    code = "erased"


class Vault:
    """The key ring and blind indexer of one application."""

    def __init__(self, keys: KeyRing, index_bits: int) -> None:
        self.keys = keys
        self.indexer = BlindIndexer(keys.index_key, index_bits)

    def __repr__(self) -> str:
        return f"Vault(active_kek={self.keys.active_kek_id!r}, {self.indexer!r})"

    # -- data keys ---------------------------------------------------------------------

    def new_person_key(self, session: Session, person_id: uuid.UUID) -> DataKey:
        """Create and store (wrapped) a fresh data key for a new person."""
        key = DataKey.generate()
        kek_id, wrapped = self.keys.wrap(key)
        session.add(PersonKey(beneficiary_id=person_id, kek_id=kek_id, wrapped_key=wrapped))
        return key

    def person_key(self, session: Session, person_id: uuid.UUID) -> DataKey:
        """Unwrap the person's data key; ``IdentityErased`` when it was shredded."""
        row = session.get(PersonKey, person_id)
        if row is None:
            raise IdentityErased(N_("This person's identity has been erased."))
        return self.keys.unwrap(row.kek_id, row.wrapped_key)

    def sealing_key(self, session: Session, person_id: uuid.UUID) -> DataKey:
        """``person_key``, to seal a new value: the key's row stays locked (``FOR SHARE`` on
        PostgreSQL) until the transaction ends, so that a data-key rotation (which locks it
        ``FOR UPDATE``, ``app/services/security/data_keys.py``) cannot replace the key between
        this read and the commit of the ciphertext - which would leave it sealed under a key
        that no longer exists. SQLite has one writer at a time: no lock needed."""
        row = session.get(PersonKey, person_id, with_for_update={"read": True})
        if row is None:
            raise IdentityErased(N_("This person's identity has been erased."))
        return self.keys.unwrap(row.kek_id, row.wrapped_key)

    def person_keys(
        self, session: Session, person_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, DataKey]:
        """``person_key`` for many people in one query (a page of a list); ``IdentityErased``
        when any of them was shredded."""
        rows = session.scalars(select(PersonKey).where(PersonKey.beneficiary_id.in_(person_ids)))
        keys = {row.beneficiary_id: self.keys.unwrap(row.kek_id, row.wrapped_key) for row in rows}
        if len(keys) < len(set(person_ids)):
            raise IdentityErased(N_("This person's identity has been erased."))
        return keys

    # -- fields ------------------------------------------------------------------------

    @staticmethod
    def seal(
        key: DataKey,
        table: str,
        column: str,
        row_id: uuid.UUID,
        person_id: uuid.UUID,
        value: str | None,
    ) -> bytes | None:
        """Encrypt ``value`` for its place; ``None`` and empty strings are stored as NULL."""
        if value is None or value == "":
            return None
        return encrypt_field(key, FieldContext(table, column, row_id, person_id), value)

    @staticmethod
    def open(
        key: DataKey,
        table: str,
        column: str,
        row_id: uuid.UUID,
        person_id: uuid.UUID,
        stored: bytes | None,
    ) -> str | None:
        """Decrypt a stored field; NULL stays ``None``; any anomaly raises ``DecryptionError``."""
        if stored is None:
            return None
        return decrypt_field(key, FieldContext(table, column, row_id, person_id), stored)

    @staticmethod
    def open_row(
        key: DataKey, table: str, row_id: uuid.UUID, person_id: uuid.UUID, stored: dict[str, bytes]
    ) -> dict[str, str]:
        """Decrypt several stored columns of one row (``open`` for each), by column: one cipher
        for them all."""
        sealed = [
            (FieldContext(table, column, row_id, person_id), v) for column, v in stored.items()
        ]
        return dict(zip(stored, decrypt_fields(key, sealed), strict=True))

    def open_many(
        self,
        session: Session,
        person_id: uuid.UUID,
        sealed: list[tuple[str, str, uuid.UUID, bytes | None]],
        key: DataKey | None = None,
    ) -> dict[uuid.UUID, str]:
        """Decrypt several (table, column, row id, stored) texts of one person, by row id;
        ``key``, the person's data key when the caller read it already, saves reading it."""
        present = [item for item in sealed if item[3] is not None]
        if not present:
            return {}
        if key is None:
            key = self.person_key(session, person_id)
        return {
            row_id: str(self.open(key, table, column, row_id, person_id, stored))
            for table, column, row_id, stored in present
        }

    # -- blind indexes -----------------------------------------------------------------

    def index_person(
        self,
        person: Beneficiary,
        last_name: str,
        first_name: str,
        birth_date: date | None,
        email: str | None,
        phone_e164: str | None,
    ) -> None:
        """Set the person's blind indexes (the narrow ones and the import's wide lookup
        indexes) from normalised identity values."""
        ix = self.indexer
        name_birth = name_birth_key(last_name, first_name, birth_date) if birth_date else None
        mail = normalise_email(email) if email else None
        person.index_version = ix.version
        person.name_birth_index = ix.compute("name_birth", name_birth) if name_birth else None
        person.email_index = ix.compute("email", mail) if mail else None
        person.phone_index = ix.compute("phone", phone_e164) if phone_e164 else None
        person.lookup_version = ix.version
        person.name_birth_lookup = ix.lookup("name_birth", name_birth) if name_birth else None
        person.email_lookup = ix.lookup("email", mail) if mail else None
        person.phone_lookup = ix.lookup("phone", phone_e164) if phone_e164 else None

    def index_name_words(
        self, session: Session, person_id: uuid.UUID, last_name: str, first_name: str
    ) -> None:
        """Replace the person's name-search values (``NameSearchToken``) with those of these
        names; the person is in the database already."""
        session.execute(delete(NameSearchToken).where(NameSearchToken.beneficiary_id == person_id))
        values = self.indexer.name_prefixes(last_name, first_name)
        if values:
            session.execute(
                insert(NameSearchToken),
                [{"beneficiary_id": person_id, "value": value} for value in sorted(values)],
            )


__all__ = ["DecryptionError", "IdentityErased", "Vault"]
