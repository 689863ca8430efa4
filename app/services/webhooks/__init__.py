"""Webhooks: a structure's software hears of its hand-offs without polling.

*Endpoints* (``endpoints``): a structure manager (or an administrator) registers an address,
chooses its events and receives a secret, shown once; the secret is sealed in the database
(``WebhookEndpoint``). The address is checked at registration and again at every delivery
(``transport``): ``https://`` only, unless ``RELAIS_WEBHOOK_ALLOW_HTTP``; never a loopback,
private, link-local or otherwise non-public address, unless ``RELAIS_WEBHOOK_ALLOW_PRIVATE``.

*Queueing* (``queue``): ``notify_webhooks`` is called next to ``notify_handoff``, in the same
transaction as the hand-off change (a transactional outbox): one ``WebhookDelivery`` per
active endpoint of each structure that hears the event (``app.domain.webhooks``). The body
is written then: ids, the pseudonym, structure codes, status, purpose and reason codes - no
identity and no note (free text a caseworker wrote, which may name the person).

*Delivery* (``delivery``, run by ``flask --app app webhooks work``): each due delivery is
POSTed, signed (Standard Webhooks), with a short timeout and no redirect followed; a 2xx
marks it delivered, anything else sets the next attempt (exponential back-off with jitter)
until ``RELAIS_WEBHOOK_MAX_ATTEMPTS``, then it is given up (shown on the structure's page
and counted by the command). Nothing of the receiver's answer is kept but its status code.

No module here imports Flask.
"""
