"""The one base of the errors a person can act on: what went wrong, and what to do next.

Each package raises its own subclass (``ClusterError``, ``ProfileError``,
``GrammarError`` ...), and the command line catches this base alone
(``chaos.cli_errors``): anything else that escapes a command is a bug and
stays a traceback. The module imports nothing, so any module may raise one
without pulling in Docker or HTTP clients.
"""
from __future__ import annotations


class ChaosError(Exception):
    """``str(error)`` is the message and, after ``; ``, the ``hint``: what the person should do.

    ``hint`` is empty when the message already says it; a subclass may give a default, one error
    its own (``ClusterError("no stack is up", hint="start one with `chaos up`")``)."""

    hint: str = ""

    def __init__(self, *args: object, hint: str | None = None) -> None:
        super().__init__(*args)
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        message = super().__str__()
        return f"{message}; {self.hint}" if self.hint else message
