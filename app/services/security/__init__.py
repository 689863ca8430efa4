"""Keys, accounts and the audit log: the vault that seals and opens personal fields with a key
per person (``vault``), the tamper-evident audit chain (``audit``, ``audit_check``), key rotation
and rebuilt indexes (``keys``), accounts and sign-in (``accounts``, ``passwords``).

May import models, the domain and crypto; nothing here imports Flask or commits.
"""
