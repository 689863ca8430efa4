"""The draws of the generator: weighted choices, and digests that seed them.

Everything but the ciphertexts (random keys and nonces) follows from the seed and the number of
people already in the database: person ``i`` of the database gets its own random generator
seeded from ``digest("person", seed, i)``, so a run gives the same data whatever the batch size,
and a second run adds new people. Pseudonyms come from the same seed.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from collections.abc import Iterable

from app.demo.synthetic.shape import (
    CATEGORIES,
    CLOSINGS,
    EDUCATION,
    ENTRY,
    EXIT_REASONS,
    KIND_WEIGHTS,
    KINDS,
)
from app.domain.handoffs import HandoffEvent
from app.domain.people import PSEUDONYM_ALPHABET


class Choice:
    """A weighted choice, with its cumulative weights computed once."""

    def __init__(self, pairs: Iterable[tuple[str, int]]) -> None:
        items = list(pairs)
        self.values = [value for value, _ in items]
        self.cumulative = list(itertools.accumulate(weight for _, weight in items))

    def __call__(self, rng: random.Random) -> str:
        return rng.choices(self.values, cum_weights=self.cumulative)[0]


DRAW_KIND = Choice(zip(KINDS, KIND_WEIGHTS, strict=True))
DRAW_ENTRY = {kind: Choice(pairs) for kind, pairs in ENTRY.items()}
DRAW_EDUCATION = {
    kind: Choice((*pairs, ("", 100 - sum(w for _, w in pairs))))
    for kind, pairs in EDUCATION.items()
}
DRAW_CATEGORY = {kind: Choice(pairs) for kind, pairs in CATEGORIES.items()}
DRAW_SEX = {
    "parent": Choice((("female", 85), ("male", 12), ("other", 1), ("", 2))),
    "any": Choice((("female", 47), ("male", 48), ("other", 1), ("", 4))),
}
DRAW_EXIT = Choice(EXIT_REASONS)
_CLOSING_CHOICES = [(event, outcome) for event, outcome, _ in CLOSINGS]
_CLOSING_WEIGHTS = list(itertools.accumulate(weight for _, _, weight in CLOSINGS))


def draw_closing(rng: random.Random) -> tuple[HandoffEvent, str | None]:
    """How a hand-off closes once the first contact is made (see ``CLOSINGS``)."""
    return rng.choices(_CLOSING_CHOICES, cum_weights=_CLOSING_WEIGHTS)[0]


def digest(*parts: object) -> bytes:
    text = "|".join(["relais-synthetic", *(str(p) for p in parts)])
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def pseudonym_for(seed: int, index: int, attempt: int = 0) -> str:
    """The pseudonym of the ``index``-th person of the database for ``seed`` (the next
    ``attempt`` after a collision), in the format of ``new_pseudonym``."""
    base = len(PSEUDONYM_ALPHABET)
    number = int.from_bytes(digest("pseudonym", seed, index, attempt)[:8], "big") % base**8
    chars = []
    for _ in range(8):
        number, digit = divmod(number, base)
        chars.append(PSEUDONYM_ALPHABET[digit])
    return f"P-{''.join(chars[:4])}-{''.join(chars[4:])}"
