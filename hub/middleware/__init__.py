"""The hub's Dramatiq middleware, one concern each, like Dramatiq's own ``Retries`` and ``AgeLimit``.

:mod:`~hub.middleware.stamps` stamps every message as it is enqueued and is part of every broker (a process that only
enqueues, such as the scheduler, needs nothing else). The others run around the actors, installed by
:mod:`hub.actors` in this order, so that Dramatiq's ``after_`` hooks (called in reverse) decide the outcome first,
then drop the lease, then write the attempt row, then clear the log context:

- :mod:`~hub.middleware.log_context`: the message id and actor bound to every log line of the try;
- :mod:`~hub.middleware.attempt_log`: one attempt row per try, written in batches;
- :mod:`~hub.middleware.leases`: the running message's lease (and this process's dossier locks) renewed;
- :mod:`~hub.middleware.outcomes`: a failure turned into the message's next state, and its retry scheduled.
"""
