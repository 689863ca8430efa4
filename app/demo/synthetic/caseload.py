"""Synthetic caseloads: thousands of fictional people on the demo network, for dashboards and
benchmarks (``flask demo generate``).

Each person's pathway is played forward in memory from their registration, with the rules the
services apply - the hand-off transition table of ``app.domain.handoffs``, the barrier moves of
``app.domain.pathway``, one open follow-up per structure, consent before any hand-off (see
``stages``) - and then written the way ``app.services.imports`` writes a caseload (see
``writing``). The shape of the data is set in ``shape``. Nothing is dated on or after ``today``.

Everything but the ciphertexts (random keys and nonces) follows from the seed and the number of
people already in the database (see ``draws``), so a run gives the same data whatever the batch
size, and a second run adds new people. Pseudonyms come from the same seed and are checked free
per batch.

Nothing here commits: ``write_batch`` writes one batch; the caller commits after each, or rolls
the batch back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.demo.synthetic.dates import Calendar
from app.demo.synthetic.draws import digest, pseudonym_for
from app.demo.synthetic.network import Network, read_network
from app.demo.synthetic.pathway import Pathway
from app.demo.synthetic.stages import play
from app.demo.synthetic.writing import TABLES, BatchWriter, GenerationCounts
from app.models import Beneficiary
from app.services.errors import N_, InvalidInput
from app.services.security.vault import Vault

MAX_PEOPLE = 2_000_000
DEFAULT_BATCH_SIZE = 2000
# PostgreSQL's planner statistics are refreshed when the people have grown by this factor.
ANALYZE_GROWTH = 1.5
LOOKUP_CHUNK = 500


class SyntheticCaseload:
    """A run of the generator: the network, the seed, the calendar and the next person's index."""

    def __init__(
        self, network: Network, *, seed: int, today: date, first_index: int, expiry_days: int
    ) -> None:
        self.network = network
        self.seed = seed
        self.calendar = Calendar(today, expiry_days)
        self.next_index = first_index
        self.run_id = str(uuid.UUID(bytes=digest("run", seed, first_index), version=4))
        self._analyzed_at: int | None = None  # people when the statistics were last refreshed

    def write_batch(self, session: Session, vault: Vault, size: int) -> GenerationCounts:
        """Play and write the next ``size`` people (one statement per table); no commit."""
        self._refresh_statistics(session)
        indices = range(self.next_index, self.next_index + size)
        writer = BatchWriter(self.network, self.run_id, session, vault)
        for index, pseudonym in zip(indices, self._pseudonyms(session, indices), strict=True):
            pathway = Pathway(self.seed, index, self.calendar, self.network)
            play(pathway)
            writer.add(pathway, pseudonym)
        writer.insert()
        self.next_index += size
        return writer.counts

    def _refresh_statistics(self, session: Session) -> None:
        """On PostgreSQL, ``ANALYZE`` the tables written at the run's start and each time the
        people have grown by ``ANALYZE_GROWTH``: the pathway state's UPDATE of each batch
        looks each person's events up by index only while the planner knows the tables'
        sizes, and autovacuum may be off or late (without it, a run of 100,000 people became
        quadratic: each batch scanned every event table once per person)."""
        if session.get_bind().dialect.name != "postgresql":
            return  # SQLite's planner uses the indexes without statistics
        if self._analyzed_at is not None and self.next_index < self._analyzed_at * ANALYZE_GROWTH:
            return
        session.execute(text("ANALYZE " + ", ".join(table.name for table in TABLES)))
        self._analyzed_at = max(self.next_index, 1)

    def _pseudonyms(self, session: Session, indices: Sequence[int]) -> list[str]:
        """The batch's pseudonyms, drawn again (deterministically) where one is taken."""
        attempts = dict.fromkeys(indices, 0)
        chosen = {i: pseudonym_for(self.seed, i) for i in indices}
        for _ in range(20):
            taken = _taken(session, list(chosen.values()))
            seen: set[str] = set()
            clashes = []
            for i in indices:
                if chosen[i] in taken or chosen[i] in seen:
                    clashes.append(i)
                seen.add(chosen[i])
            if not clashes:
                return [chosen[i] for i in indices]
            for i in clashes:
                attempts[i] += 1
                chosen[i] = pseudonym_for(self.seed, i, attempts[i])
        raise RuntimeError("could not draw free pseudonyms")  # 20 rounds of collisions: never


def _taken(session: Session, pseudonyms: Sequence[str]) -> set[str]:
    taken: set[str] = set()
    for start in range(0, len(pseudonyms), LOOKUP_CHUNK):
        chunk = pseudonyms[start : start + LOOKUP_CHUNK]
        taken.update(
            session.scalars(select(Beneficiary.pseudonym).where(Beneficiary.pseudonym.in_(chunk)))
        )
    return taken


def people_count(session: Session) -> int:
    """How many people the database holds: a run numbers its people after them."""
    return session.scalar(select(func.count()).select_from(Beneficiary)) or 0


def prepare_caseload(
    session: Session, *, seed: int, today: date, expiry_days: int = 30
) -> SyntheticCaseload:
    """A generator run on the demo network, numbering people after those already stored.

    Raises ``NotFound`` when the demo network (structures and their caseworkers) or the seeded
    reference lists are not all there. ``expiry_days`` is the hand-off expiry delay.
    """
    network = read_network(session)
    return SyntheticCaseload(
        network,
        seed=seed,
        today=today,
        first_index=people_count(session),
        expiry_days=expiry_days,
    )


def generate(
    session: Session,
    vault: Vault,
    *,
    people: int,
    today: date,
    seed: int,
    batch_size: int = DEFAULT_BATCH_SIZE,
    expiry_days: int = 30,
    progress: Callable[[int], None] | None = None,
) -> GenerationCounts:
    """Add ``people`` fictional people to the demo network, ``batch_size`` at a time, in the
    caller's transaction (``flask demo generate`` commits after each ``write_batch`` instead).

    Raises ``InvalidInput`` for a number of people out of 1 to ``MAX_PEOPLE`` or a batch
    size below 1, ``NotFound`` as ``prepare_caseload`` does.
    """
    if not 1 <= people <= MAX_PEOPLE:
        raise InvalidInput(
            N_("The number of people must be between 1 and %(max)d."),
            field="people",
            max=MAX_PEOPLE,
        )
    if batch_size < 1:
        raise InvalidInput(N_("The batch size must be at least 1."), field="batch_size")
    caseload = prepare_caseload(session, seed=seed, today=today, expiry_days=expiry_days)
    totals = GenerationCounts()
    while totals.people < people:
        size = min(batch_size, people - totals.people)
        totals.add(caseload.write_batch(session, vault, size))
        if progress is not None:
            progress(size)
    return totals
