"""Audit action tags, ``subject:action``."""

from enum import StrEnum


class AuditAction(StrEnum):
    LOGIN = "user:login"
    LOGIN_FAILED = "user:login_failed"
    # ProConnect (OpenID Connect): an identity linked to an account at its first use, and a
    # sign-in refused after the provider answered (no account, closed account...).
    IDENTITY_LINK = "user:identity_link"
    IDENTITY_UNLINK = "user:identity_unlink"
    OIDC_REFUSED = "user:oidc_refused"
    LOGOUT = "user:logout"
    SESSION_END = "user:session_end"
    USER_CREATE = "user:create"
    USER_DEACTIVATE = "user:deactivate"
    USER_REACTIVATE = "user:reactivate"
    INVITATION_SEND = "user:invitation_send"
    INVITATION_REVOKE = "user:invitation_revoke"
    INVITATION_ACCEPT = "user:invitation_accept"
    USER_SET_PASSWORD = "user:set_password"  # noqa: S105 - an action tag
    SECOND_FACTOR_ENABLE = "user:second_factor_enable"
    SECOND_FACTOR_RESET = "user:second_factor_reset"
    SECOND_FACTOR_FAILED = "user:second_factor_failed"
    RECOVERY_CODES_ISSUE = "user:recovery_codes_issue"
    RECOVERY_CODE_USE = "user:recovery_code_use"
    REAUTHENTICATE = "user:reauthenticate"
    PASSWORD_RESET_REQUEST = "user:password_reset_request"  # noqa: S105 - an action tag
    PASSWORD_RESET_USE = "user:password_reset_use"  # noqa: S105 - an action tag
    STRUCTURE_CREATE = "structure:create"
    STRUCTURE_ARTICLE = "structure:article"
    CARD_UPDATE = "structure:card_update"
    CARD_CHECK = "structure:card_check"
    CARD_CAPACITY = "structure:capacity"
    CARD_IMPORT = "structure:card_import"
    CARD_EDITOR = "user:card_editor"
    STRUCTURE_MANAGER = "user:structure_manager"
    API_TOKEN_CREATE = "api_token:create"  # noqa: S105 - an action tag
    API_TOKEN_REVOKE = "api_token:revoke"  # noqa: S105 - an action tag
    WEBHOOK_CREATE = "webhook:create"
    WEBHOOK_NEW_SECRET = "webhook:new_secret"  # noqa: S105 - an action tag
    WEBHOOK_ENABLE = "webhook:enable"
    WEBHOOK_DISABLE = "webhook:disable"
    WEBHOOK_DELETE = "webhook:delete"
    WEBHOOK_PING = "webhook:ping"
    NETWORK_EVENT_RECORD = "network_event:record"
    NETWORK_EVENT_UPDATE = "network_event:update"
    REFERENCE_ADD = "reference:add"
    BENEFICIARY_CREATE = "beneficiary:create"
    BENEFICIARY_REVEAL = "beneficiary:reveal"
    BENEFICIARY_UPDATE = "beneficiary:update"
    BENEFICIARY_FACTS = "beneficiary:facts_update"
    DUPLICATE_CHECK = "beneficiary:duplicate_check"
    IMPORT = "beneficiary:import"
    PATHWAY_VIEW = "pathway:view"
    PATHWAYS_EXPORT = "pathways:export"
    STATISTICS_EXPORT = "statistics:export"
    # A territory's signed publication for the national layer, and its gathering there.
    STATISTICS_PUBLISH = "statistics:publish"
    STATISTICS_GATHER = "statistics:gather"
    FOLLOW_UP_START = "follow_up:start"
    FOLLOW_UP_END = "follow_up:end"
    FOLLOW_UP_REFERENT = "follow_up:referent"
    USER_CONTACT = "user:contact"
    STEP_ADD = "step:add"
    BARRIER_ADD = "barrier:add"
    BARRIER_STATUS = "barrier:status"
    BARRIER_ASSESS = "barrier:assess"
    ORIENTATION_DECIDE = "orientation:decide"
    # A caseworker found no partner for a person's need (an unmet-need record).
    UNMET_NEED_RECORD = "unmet_need:record"
    CONSENT_RECORD = "consent:record"
    HANDOFF_SEND = "handoff:send"
    HANDOFF_TRANSITION = "handoff:transition"
    # A link to answer a hand-off (or report what followed) mailed to a structure's contact.
    HANDOFF_LINK_ISSUE = "handoff:link_issue"
    AUDIT_SEAL_LEGACY = "audit:seal_legacy"
    # A finished month of the log sealed (``audit_seals``), and sealed months pruned.
    AUDIT_SEAL = "audit:seal"
    AUDIT_PRUNE = "audit:prune"
    # The database was restored from a backup: the events after it are lost (the last
    # checkpoint, ahead of the restored chain, says up to where).
    AUDIT_RESTORED = "audit:restored"
    KEK_ROTATE = "keys:rotate_kek"
    INDEX_REBUILD = "keys:rebuild_index"
    DATA_KEY_ROTATE = "keys:rotate_data_key"
    SUBJECT_ACCESS_EXPORT = "beneficiary:subject_access"
    CONSENT_WITHDRAW = "consent:withdraw"
    BENEFICIARY_ERASE = "beneficiary:erase"
    ERASURE_REAPPLY = "beneficiary:erasure_reapplied"
    ERASURE_NOTICE = "beneficiary:erasure_notice"
    ERASURE_NOTICE_CANCEL = "beneficiary:erasure_notice_cancelled"
