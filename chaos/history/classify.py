"""How a client turns an HTTP outcome into ok, fail or info.

``fail`` only when the effect certainly did not happen; when it may have
(a timeout, a reset connection, a 5xx after a write was sent), ``info``:
the checkers resolve it from the final reads instead of trusting luck.
"""
from __future__ import annotations

from typing import Literal

Outcome = Literal["ok", "fail", "info"]
READ_METHODS = {"GET", "HEAD", "OPTIONS"}


def classify(status: int | None, exc: BaseException | None, method: str) -> Outcome:
    write = method.upper() not in READ_METHODS
    if exc is not None or status is None:
        # a connection refused before anything was sent changed nothing
        if exc is not None and type(exc).__name__ == "ConnectTimeout":
            return "fail"
        if exc is not None and "refused" in str(exc).lower() and "ConnectionError" in type(exc).__name__:
            return "fail"
        return "info" if write else "fail"
    if 200 <= status < 300:
        return "ok"
    if 400 <= status < 500:
        return "fail"
    return "info" if write else "fail"
