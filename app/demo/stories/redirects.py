"""Stories of redirects: a receiver passes the person on to a partner better placed, once or
twice, or completes its action by orienting further."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from app.demo.builder import StoryBuilder
from app.demo.data.network import DemoPerson
from app.demo.data.wording import redirect_message
from app.domain.handoffs import HandoffEvent, HandoffStatus
from app.domain.pathway import BarrierStatus
from app.models import Beneficiary, Handoff

# Redirect chains of two and three partners, for young people (training) and adults (housing).
YOUNG_CHAINS_2 = (("EPIDE90", "E2C90"), ("UNIS90", "E2C90"), ("EPIDE90", "UNIS90"))
ADULT_CHAINS_2 = (("CCAS-OFF", "LOGE90"), ("DROIT90", "LOGE90"))
YOUNG_CHAINS_3 = (("UNIS90", "EPIDE90", "E2C90"), ("EPIDE90", "E2C90", "P1618-90"))
ADULT_CHAINS_3 = (("CCAS-OFF", "DROIT90", "LOGE90"), ("DROIT90", "CCAS-OFF", "LOGE90"))


def _chain(
    b: StoryBuilder, p: DemoPerson, who: Beneficiary, day: date, chain: Sequence[str]
) -> tuple[Handoff, date]:
    """Send to ``chain[0]``, each receiver redirecting to the next; the last hand-off."""
    reg = p.registered_by
    if b.kind(p) == "young":
        handoff = b.send(who, reg, chain[0], day, stage="training")
    else:
        barrier = b.barrier_step(who, reg, "housing", day, chain[-1])
        handoff = b.send(who, reg, chain[0], day, barrier=barrier)
    for here, there in zip(chain, chain[1:], strict=False):
        day = b.later(day, 1, 8)
        handoff = b.act(
            handoff,
            HandoffEvent.REDIRECT,
            here,
            day,
            message=redirect_message(b.structures[there].name),
            redirect_to=there,
        )
    return handoff, day


def _pick_chain(b: StoryBuilder, p: DemoPerson, chains: Sequence[Sequence[str]]) -> Sequence[str]:
    fits = [c for c in chains if p.registered_by not in c]
    if b.kind(p) == "young" and p.age > 18:
        fits = [c for c in fits if "P1618-90" not in c] or fits
    return b.rng.choice(fits)


def redirect_two(b: StoryBuilder, p: DemoPerson) -> None:
    """The receiver redirects to a third partner, which takes the person."""
    who, start = b.begin(p, 90, 380)
    young = b.kind(p) == "young"
    chain = _pick_chain(b, p, YOUNG_CHAINS_2 if young else ADULT_CHAINS_2)
    last, _day = _chain(b, p, who, b.later(start, 5, 25), chain)
    until = b.rng.choice((HandoffStatus.IN_PROGRESS, HandoffStatus.COMPLETED))
    b.run(last, until, "training_entered" if young else "barrier_lifted", span=(10, 40))


def redirect_three(b: StoryBuilder, p: DemoPerson) -> None:
    """Two redirects in a row before the right partner takes the person."""
    reg = p.registered_by
    who, start = b.begin(p, 120, 400)
    young = b.kind(p) == "young"
    chain = _pick_chain(b, p, YOUNG_CHAINS_3 if young else ADULT_CHAINS_3)
    last, _day = _chain(b, p, who, b.later(start, 5, 25), chain)
    done = b.run(
        last,
        HandoffStatus.COMPLETED,
        "training_entered" if young else "barrier_lifted",
        span=(10, 40),
    )
    if reg == "MLDS90":
        b.end(who, reg, "handed_off", b.later(done, 2, 10))


def oriented_further(b: StoryBuilder, p: DemoPerson) -> None:
    """Access to rights: the legal partner completes by orienting further, to the CCAS."""
    reg = p.registered_by
    who, start = b.begin(p, 120, 450)
    day = b.later(start, 5, 20)
    legal = b.barrier_step(who, reg, "legal_admin", day, "DROIT90")
    done = b.run(
        b.send(who, reg, "DROIT90", day, barrier=legal),
        HandoffStatus.COMPLETED,
        "oriented_further",
        span=(15, 45),
        message="Dossier déposé ; la suite relève d'un accompagnement budgétaire.",
    )
    if b.rng.random() < 0.5:
        b.move(legal, BarrierStatus.LIFTED, "DROIT90", done)
    money = b.barrier(who, "DROIT90", "financial", done, "CCAS-OFF")
    until = b.rng.choice((HandoffStatus.ACCEPTED, HandoffStatus.IN_PROGRESS))
    b.run(b.send(who, "DROIT90", "CCAS-OFF", b.later(done, 0, 3), barrier=money), until)
