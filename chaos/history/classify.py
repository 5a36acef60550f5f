"""How a client turns an HTTP outcome into ok, fail or info.

``fail`` only when the effect certainly did not happen. When it may have (a
timeout or a reset connection after the request left, a 5xx after a write was
sent), the outcome is ``info`` and the checkers resolve it from the final
reads instead of trusting luck. This is conservative on purpose: even a 503
whose error code is raised before any write (``redis_unavailable`` before the
lock) is ``info`` on a write, because the client cannot tell which instance
code path produced it, and a checker that treats an unknown as a failure is
the one that misses a double charge.

No HTTP library is imported: exceptions are recognised by class name (their
own and their bases') and message, so any client library, or a class name
read back from a history, can be classified.
"""
from __future__ import annotations

from typing import Literal

Outcome = Literal["ok", "fail", "info"]
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

# Exceptions raised before a single byte of the request left the client.
NOTHING_SENT = frozenset({
    "ConnectTimeout", "NewConnectionError", "ConnectionRefusedError", "NameResolutionError",
    "InvalidURL", "MissingSchema", "InvalidSchema", "URLRequired", "InvalidHeader", "InvalidJSONError",
    "LocationParseError",
})
NOTHING_SENT_MESSAGES = ("connection refused", "newconnectionerror", "failed to resolve",
                         "name or service not known", "nodename nor servname", "failed to establish a new connection")


def classify(status: int | None, exc: BaseException | str | None, method: str = "POST", *,
             write: bool | None = None) -> Outcome:
    """``exc`` is the exception the call raised, or its class name; ``write`` overrides what
    ``method`` implies (a POST that only reads, say)."""
    is_write = write if write is not None else method.upper() not in READ_METHODS
    if exc is not None:
        if _nothing_sent(exc):
            return "fail"
        return "info" if is_write else "fail"
    if status is None:
        return "info" if is_write else "fail"
    if 200 <= status < 300:
        return "ok"
    if 400 <= status < 500:
        return "fail"
    # 5xx, and the unexpected 1xx/3xx: a write may have happened before the answer was made
    return "info" if is_write else "fail"


def _nothing_sent(exc: BaseException | str) -> bool:
    if isinstance(exc, str):
        return exc in NOTHING_SENT
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & NOTHING_SENT:
        return True
    text = str(exc).lower()
    return any(message in text for message in NOTHING_SENT_MESSAGES)
