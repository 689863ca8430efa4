"""Unmet needs: recorded with the events that make them (``recording``), and detached from a
person erased (``detach_person``). Their statistics are ``app.services.statistics.unmet_needs``.
"""

from app.services.unmet_needs.recording import (
    detach_person,
    record_for_handoff,
    record_no_solution,
)

__all__ = ["detach_person", "record_for_handoff", "record_no_solution"]
