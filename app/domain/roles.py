"""Who uses Relais."""

from enum import StrEnum


class Role(StrEnum):
    CASEWORKER = "caseworker"
    COORDINATOR = "coordinator"
    ADMIN = "admin"

    @property
    def needs_structure(self) -> bool:
        """A caseworker belongs to exactly one structure; other roles to none."""
        return self is Role.CASEWORKER
