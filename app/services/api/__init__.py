"""The JSON API for partner systems (``docs/api.md``): API tokens and their service accounts,
idempotency keys, and the reads the API adds to the existing services (pages by cursor, the
changes of a structure's hand-offs since a cursor). The use cases themselves - registering a
person, sending and answering hand-offs, revealing an identity - are the web's services,
called with the token's service account as the actor. Nothing here imports Flask."""
