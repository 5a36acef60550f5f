"""A client that owns its HTTP session: what every client of a target has in common.

Clients meant to race must not share a connection pool (a shared pool
serialises them on its connections and hides the very overlap a scenario
needs), so each client object owns one ``requests.Session`` and closes it.
"""
from __future__ import annotations

from typing import Self

import requests


class SessionClient:
    def __init__(self, base_url: str, token: str | None = None, timeout_s: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s
        self.session = requests.Session()

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
