"""Who acts when no account does: a structure answering a hand-off from a mailed link.

Services take the acting account (``User``), ``None`` for a rule the system applies (the
deadline, the retention), or a ``StructureByLink``: the structure whose contact address
received a hand-off link, acting through it. It has no user id; the audit log and the
hand-off's history name its structure, and the audit event its channel.
"""

from __future__ import annotations

from dataclasses import dataclass

# The channel of an action taken from a link mailed to a structure's contact address.
EMAIL_LINK = "email_link"


@dataclass(frozen=True, slots=True)
class StructureByLink:
    """The structure ``structure_id`` acting from a link it received by mail (no account)."""

    structure_id: int
    channel: str = EMAIL_LINK

    @property
    def id(self) -> None:
        """No account acts: the user id recorded is empty."""
        return None
