"""Audit action tags, ``subject:action``."""

from enum import StrEnum


class AuditAction(StrEnum):
    LOGIN = "user:login"
    LOGIN_FAILED = "user:login_failed"
    LOGOUT = "user:logout"
    USER_CREATE = "user:create"
    USER_DEACTIVATE = "user:deactivate"
    USER_SET_PASSWORD = "user:set_password"  # noqa: S105 - an action tag
    STRUCTURE_CREATE = "structure:create"
    REFERENCE_ADD = "reference:add"
    BENEFICIARY_CREATE = "beneficiary:create"
    BENEFICIARY_REVEAL = "beneficiary:reveal"
    BENEFICIARY_UPDATE = "beneficiary:update"
    DUPLICATE_CHECK = "beneficiary:duplicate_check"
    IMPORT = "beneficiary:import"
    PATHWAY_VIEW = "pathway:view"
    PATHWAYS_EXPORT = "pathways:export"
    STATISTICS_EXPORT = "statistics:export"
    FOLLOW_UP_START = "follow_up:start"
    FOLLOW_UP_END = "follow_up:end"
    STEP_ADD = "step:add"
    BARRIER_ADD = "barrier:add"
    BARRIER_STATUS = "barrier:status"
    CONSENT_RECORD = "consent:record"
    HANDOFF_SEND = "handoff:send"
    HANDOFF_TRANSITION = "handoff:transition"
