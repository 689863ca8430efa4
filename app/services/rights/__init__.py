"""The rights of the people followed: subject access (``subject_access``), erasure by
crypto-shredding and its register (``erasure``), consent and its withdrawal (``consents``),
and the retention rules (``retention``). See docs/rights.md.

May import models, the domain, crypto and the other services (``security``, ``handoffs``,
``pathways``, ``people``); nothing here imports Flask or commits.
"""
