"""The directory in the data·inclusion schema (v1, read v0 too): structures and services, JSON
and CSV.

Export: each active structure is a data·inclusion v1 *structure* (``id`` is the Relais code)
and each of its services a *service* (``id`` is ``CODE--n``) carrying the card's thématiques,
publics, conditions, modes and zone. What data·inclusion has no field for (cohort codes,
barrier categories and stages as Relais codes, QPVs, age range, free places and their date,
the date the card was last checked, the referral delay; a service's several kinds and fees)
travels in extension objects, ``relais``, that other readers ignore. The models and
vocabularies are the ``data-inclusion-schema`` package's; ``app.domain.data_inclusion`` maps
Relais's codes onto them. See docs/directory.md for the field-by-field mapping.

Import: the version is told (``schema.version_of``); a v0 file is mapped to v1 first, each value
that could not be mapped reported (``v0``). Every record is checked first; any problem (record,
field, reason) stops the import before anything is written. A record with a ``relais`` object
is read from it exactly (a round trip gives the same directory); another file's record is read
from its standard fields and its services. QPVs named in a ``relais`` object are added to the
reference list when missing.

*Modules.* ``schema`` (field names from the package's models, the file as read, the version),
``files`` (JSON and CSV, read and written), ``export`` (cards as v1 records), ``records`` (one
record read field by field, keeping every problem), ``service_records`` (the services of a
structure), ``parsing`` (a whole v1 file checked into cards to write), ``v0`` (a v0 file mapped
to v1), ``apply`` (the checked cards written).

May import the domain, the models and the other directory services; never Flask. Nothing here
commits.
"""
