"""The people a structure follows: registration (``registration``: pseudonym, identity sealed,
cohorts, consent), the identity and its audited reveals (``identity``), possible duplicates by
blind index (``duplicates``), the scoping every query that reaches a person goes through
(``access``) and the caseload and pathway lists (``overview``).

May import models, the domain, crypto and ``app.services.security`` (vault, audit); nothing here
imports Flask or commits.
"""
