"""The JSON API for partner systems: the scopes of an API token, and the token's shape."""

from __future__ import annotations

import re
from enum import StrEnum


class Scope(StrEnum):
    """What an API token may do; each endpoint of /api/v1 needs one of them."""

    PEOPLE_READ = "people:read"
    PEOPLE_WRITE = "people:write"
    HANDOFFS_READ = "handoffs:read"
    HANDOFFS_WRITE = "handoffs:write"
    DIRECTORY_READ = "directory:read"


# ``relais_<prefix>_<secret>``: the prefix (8 hex digits) names the token in lists and logs;
# the secret is 32 random bytes in base64url (256 bits).
TOKEN_SHAPE = re.compile(r"relais_([0-9a-f]{8})_([A-Za-z0-9_-]{43})")
NAME_LIMIT = 100


def parse_scopes(values: list[str] | tuple[str, ...] | frozenset[str]) -> frozenset[Scope]:
    """The scopes named by ``values``; ``ValueError`` naming the first unknown one."""
    found = set()
    for value in values:
        try:
            found.add(Scope(value))
        except ValueError:
            raise ValueError(value) from None
    return frozenset(found)
