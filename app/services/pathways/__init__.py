"""Pathways: follow-ups, steps and barriers recorded by the structures that follow a person, and
the timeline that puts them together across structures.

The use cases are re-exported here (``from app.services import pathways``, then
``pathways.add_step``). This package may import models, the domain, ``app.services.people.registration``
(scoping) and ``app.services.security`` (audit, keys); nothing here imports Flask.
"""

from app.services.pathways.assessments import assess_barrier
from app.services.pathways.orientation import decide_pathway, decisions_of
from app.services.pathways.reading import (
    Timeline,
    TimelineEntry,
    readable_employers,
    readable_texts,
    timeline,
)
from app.services.pathways.recording import (
    add_barrier,
    add_step,
    barrier_of,
    end_follow_up,
    find_barrier,
    move_barrier,
    other_open_follow_ups,
    record_step,
    set_barrier_status,
    start_follow_up,
)
from app.services.pathways.state import note_event, refresh_everyone, refresh_state, stale_people

__all__ = [
    "Timeline",
    "TimelineEntry",
    "add_barrier",
    "add_step",
    "assess_barrier",
    "barrier_of",
    "decide_pathway",
    "decisions_of",
    "end_follow_up",
    "find_barrier",
    "move_barrier",
    "note_event",
    "other_open_follow_ups",
    "readable_employers",
    "readable_texts",
    "record_step",
    "refresh_everyone",
    "refresh_state",
    "set_barrier_status",
    "stale_people",
    "start_follow_up",
    "timeline",
]
