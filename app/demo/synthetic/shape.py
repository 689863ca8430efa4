"""The shape of a synthetic caseload: who the people are, how far they go, how partners answer.

The shape is what the coordinators' indicators need: people registered over the last 36 months,
more of them recently; a funnel (orientation, then barriers, then training, then employment,
each reached by fewer people, since a stage is only played once the one before is reached);
barriers of every category handled by the partner that acts on them; hand-offs in every state,
every decline reason and every outcome, redirect chains of two to four hand-offs, some pending
and overdue on ``today``; partners joining the network over time, so that the cooperation
network grows quarter by quarter. Tables only: the draws are in ``draws``.
"""

from __future__ import annotations

from app.demo.data.wording import DECLINE_MESSAGE
from app.domain.handoffs import HandoffEvent

MONTHS = 36  # people are registered over the last 36 months

# -- who the people are -----------------------------------------------------------------------

# Kinds of people, how many of each, the cohort they come from and their age at registration
# (low, mode, high of a triangular draw): most are 16 to 30.
KINDS = ("young", "graduate", "parent", "adult")
KIND_WEIGHTS = (36, 14, 15, 35)
KIND_COHORT = {
    "young": "young_dropout",
    "graduate": "young_graduate",
    "parent": "single_parent",
    "adult": "other",
}
KIND_AGE = {"young": (16, 19, 25), "graduate": (20, 24, 29), "parent": (22, 32, 50)}
ADULT_AGE = (26, 30, 64)
EDUCATION: dict[str, tuple[tuple[str, int], ...]] = {
    "young": (("none", 75), ("level_3", 22)),
    "graduate": (("level_4", 25), ("level_5", 40), ("level_6_plus", 33)),
    "parent": (("none", 30), ("level_3", 35), ("level_4", 22), ("level_5", 10)),
    "adult": (("none", 25), ("level_3", 34), ("level_4", 24), ("level_5", 10), ("level_6_plus", 5)),
}  # the rest of each kind: not recorded
# The structure that registers the person (it must exist from the first month).
ENTRY: dict[str, tuple[tuple[str, int], ...]] = {
    "young": (("ML90", 55), ("MLDS90", 20), ("E2C90", 10), ("FT90", 10), ("CCAS-OFF", 5)),
    "graduate": (("FT90", 60), ("ML90", 30), ("PLIE90", 10)),
    "parent": (("CD90", 50), ("FT90", 25), ("CCAS-OFF", 15), ("PLIE90", 10)),
    "adult": (("FT90", 45), ("CD90", 20), ("PLIE90", 15), ("CCAS-OFF", 12), ("CAPE90", 8)),
}
CONSENT_RATE = 0.93
OUTSIDE_QPV_RATE = 0.15
SECOND_COHORT_RATE = 0.2

# -- how far they go --------------------------------------------------------------------------

# Chances of going as far as the barriers, training and employment stages, if time allows.
DEPTH = {
    "young": (0.85, 0.62, 0.38),
    "graduate": (0.75, 0.65, 0.52),
    "parent": (0.85, 0.52, 0.32),
    "adult": (0.80, 0.50, 0.32),
}
EXIT_RATE = 0.12
CATEGORIES: dict[str, tuple[tuple[str, int], ...]] = {
    "young": (
        ("mobility", 3), ("motivation", 3), ("digital", 2), ("housing", 2), ("legal_admin", 1),
        ("mental_health", 1), ("addiction", 1), ("financial", 1),
    ),
    "graduate": (
        ("mobility", 3), ("financial", 2), ("housing", 2), ("digital", 1), ("legal_admin", 1),
    ),
    "parent": (
        ("childcare", 4), ("financial", 3), ("mobility", 2), ("housing", 2), ("health", 1),
        ("digital", 1), ("legal_admin", 1),
    ),
    "adult": (
        ("mobility", 2), ("housing", 2), ("financial", 2), ("digital", 2), ("health", 2),
        ("language", 2), ("legal_admin", 1), ("addiction", 1), ("mental_health", 1),
        ("motivation", 1),
    ),
}  # fmt: skip
# Partners that may take a barrier when the one acting on it (``ACTING_ON``) declines or
# redirects, and generalists a redirect falls back on.
ALTERNATES = {
    "mobility": ("CCAS-OFF", "PLIE90", "CD90"),
    "childcare": ("CCAS-OFF", "CD90"),
    "digital": ("CCAS-OFF", "ML90", "FT90"),
    "health": ("CCAS-OFF", "CD90"),
    "mental_health": ("ADDI90", "CD90"),
    "addiction": ("SANTE90", "CD90"),
    "housing": ("CCAS-OFF", "DROIT90", "CD90"),
    "language": ("FT90", "CCAS-OFF"),
    "legal_admin": ("CCAS-OFF", "CD90"),
    "financial": ("DROIT90", "CD90"),
    "motivation": ("E2C90", "EPIDE90", "PLIE90"),
}
GENERALISTS = ("CD90", "CCAS-OFF", "PLIE90", "FT90", "ML90")
TRAINING = {
    "young": ("E2C90", "EPIDE90", "UNIS90", "P1618-90"),
    "graduate": ("FT90", "UNIS90", "PLIE90"),
    "parent": ("FT90", "PLIE90", "E2C90"),
    "adult": ("FT90", "PLIE90"),
}
EMPLOYMENT = {
    "young": ("EMP90", "SIAE90", "PLIE90"),
    "graduate": ("EMP90", "PLIE90", "FT90"),
    "parent": ("SIAE90", "EMP90", "PLIE90"),
    "adult": ("SIAE90", "EMP90", "PLIE90", "CAPE90"),
}
AGE_LIMITS = {"P1618-90": 18, "E2C90": 25, "EPIDE90": 25, "UNIS90": 25, "MLDS90": 20, "ML90": 25}
# Partners that joined the network after the first month: hand-offs to them start then.
JOINED_MONTHS_AGO = {
    "LANG90": 32, "GARDE90": 28, "NUM90": 24, "ADDI90": 20, "EMP90": 18, "SIAE90": 14,
    "P1618-90": 10,
}  # fmt: skip

# -- how partners answer ----------------------------------------------------------------------

WITHDRAW_RATE = 0.03
SILENT_RATE = 0.06  # never answered: expires
SLOW_RATE = 0.2  # answered after 8 to 28 days rather than 1 to 7
DECLINE_RATE = 0.14
REDIRECT_RATE = (0.07, 0.35, 0.35)  # for the 1st, 2nd and 3rd hand-off of a chain (4 at most)
NEVER_CAME_RATE = 0.05  # accepted, then closed without completion before any contact
NO_CONTACT_RATE = 0.03  # accepted, and no first contact is ever recorded (lost from view)
LATE_CONTACT_RATE = 0.08  # accepted, the first contact more than 15 days later
DECLINE_REASONS = tuple(DECLINE_MESSAGE)
# (event, outcome, weight) once the first contact is made; None: the purpose's own success.
CLOSINGS: tuple[tuple[HandoffEvent, str | None, int], ...] = (
    (HandoffEvent.COMPLETE, None, 68),
    (HandoffEvent.COMPLETE, "oriented_further", 8),
    (HandoffEvent.COMPLETE, "other", 6),
    (HandoffEvent.NOT_COMPLETE, "person_stopped", 10),
    (HandoffEvent.NOT_COMPLETE, "other", 5),
    (HandoffEvent.NOT_COMPLETE, "oriented_further", 3),
)
SUCCESS = {"barrier": "barrier_lifted", "training": "training_entered", "employment": "job_signed"}
# Days from acceptance (first contact) to the closing, by purpose.
SPANS = {"barrier": (20, 120), "training": (7, 30), "employment": (5, 45)}
END_AFTER_OUTCOME = {
    "barrier_lifted": "goal_reached",
    "training_entered": "goal_reached",
    "job_signed": "goal_reached",
    "oriented_further": "handed_off",
    "person_stopped": "person_stopped",
    "other": "other",
}
EXIT_REASONS = (("moved", 35), ("lost_contact", 40), ("person_stopped", 15), ("other", 10))
