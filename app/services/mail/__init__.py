"""Mail notifications about hand-offs: queued with the change, delivered after the commit.

*Queueing.* ``notify_handoff`` is called by ``app.services.handoffs`` at the end of each
change. It writes one ``MailMessage`` per recipient in the caller's transaction (a
transactional outbox): a hand-off sent, or its sender's reminder of it, reaches every active
caseworker of the receiving structure; an answer (accept, decline, redirect), an expiry or a closure (completed or not)
reaches the caseworker who sent it, or, when that account is closed or has moved, the active
caseworkers of the sending structure.

*Rendering.* A mail says only which person (by pseudonym), which structures, what happened
and where to look: a link to ``/handoffs/<id>`` on ``PUBLIC_BASE_URL``. ``render`` receives
nothing else (``MailFacts``), so no name, contact detail or note can reach a mail. The texts
are English msgids marked with ``N_``, translated with the application's catalog into the
recipient's language (French unless they chose English), with the standard ``gettext``
module: services do not import Flask.

*Delivery.* ``deliver_pending`` renders the unsent messages, hands them to a ``MailSender``
and marks them sent; the caller commits. ``OutboxLogSender`` (development and tests) keeps
them in the database and logs one line per message (its id and the recipient's domain, never
the text); ``SmtpSender`` sends them through the server of the environment. On PostgreSQL the
rows being delivered are locked (``SKIP LOCKED``), so two deliveries at once do not send a
mail twice. A failed message is retried by later runs, ``MAX_ATTEMPTS`` times at most; its
``last_error`` is a short code, never the server's reply (which may quote an address).

*Modules.* ``texts`` (what each kind of mail says), ``queue`` (writing messages with a change,
signalling the worker, reading the outbox), ``composing`` (the facts a mail may hold and its
text), ``transport`` (senders: outbox log, SMTP), ``settings`` (reading the configuration),
``delivery`` (one delivery run over the outbox), ``worker`` (the loop of ``flask --app app mail
work``). Services of other features import ``queue`` only. No module here imports Flask.
"""
