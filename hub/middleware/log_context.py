"""Bind the message id and actor to every log line of a try, and forget them (and what the actor bound) after."""

from __future__ import annotations

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware

from foundation import logs

BOUND_BY_ACTORS = ("dossier_code", "unit")  # keys the actors bind while they work


class LogContext(Middleware):
    """The log context of the message a worker thread runs."""

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        logs.bind(message_id=int(message.args[0]), actor=message.actor_name)

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: object = None,
        exception: BaseException | None = None,
    ) -> None:
        self._forget()

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self._forget()

    @staticmethod
    def _forget() -> None:
        logs.unbind("message_id", "actor", *BOUND_BY_ACTORS)
