"""Who uses Relais."""

from enum import StrEnum


class Role(StrEnum):
    CASEWORKER = "caseworker"
    COORDINATOR = "coordinator"
    ADMIN = "admin"
    # Youth workers, educators and other people who orient but do not follow anyone: they read
    # the partner directory and nothing else (no person, no hand-off, no statistic).
    FIELD_WORKER = "field_worker"

    @property
    def needs_structure(self) -> bool:
        """A caseworker belongs to exactly one structure; other roles to none."""
        return self is Role.CASEWORKER
