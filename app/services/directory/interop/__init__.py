"""The directory in the data·inclusion schema (v0): structures and services, JSON and CSV.

Export: each active structure is a data·inclusion *structure* (``id`` is the Relais code) and
each of its services a *service* (``id`` is ``CODE--n``) carrying the card's publics, referral
conditions, reception modes and zone. What data·inclusion has no field for (cohort codes,
barrier categories and stages as Relais codes, QPVs, age range, free places and their date,
the date the card was last checked, the referral delay) travels in one extension object,
``relais``, that other readers ignore. See docs/directory.md for the field-by-field mapping.

Import: every record is checked first; any problem (record, field, reason) stops the import
before anything is written. A record with a ``relais`` object is read from it exactly (a
round trip gives the same directory); another file's record is read from its standard
fields and its services (thématiques, profils, pré-requis...). QPVs named in a ``relais``
object are added to the reference list when missing.

*Modules.* ``schema`` (data·inclusion's field names and the file as read), ``files`` (JSON and
CSV, read and written), ``export`` (cards as data·inclusion records), ``records`` (one record
read field by field, keeping every problem), ``parsing`` (a whole file checked into cards to
write), ``apply`` (the checked cards written).

May import the domain, the models and the other directory services; never Flask. Nothing here
commits.
"""
