"""A Locust user's HTTP session in the place of a ``TargetClient``'s own: the profile builds and reads, Locust counts.

``TargetClient.call`` builds the request from the target profile's templates
and reads the reply through it; it sends with ``self.session.request``. Put
this object there and the same call goes through Locust's ``HttpSession``
(a ``requests.Session`` subclass), so every request is in Locust's stats,
with no second template engine and no second way of reading a reply.

Locust would judge a response by its status alone (a 409 ``sold_out`` a
failure); here each request is held open (``catch_response``) until the
caller has the ``Reply`` and marks it, and is reported when the ``named``
block ends: as marked, or, unmarked, by Locust's own rule. No Locust import:
the session and its responses are duck-typed.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # type only: importing locust patches the interpreter with gevent
    from locust.clients import HttpSession, ResponseContextManager


class LocustSession:
    """What ``TargetClient`` asks of its session (``request``, ``close``), sent through ``client``."""

    def __init__(self, client: HttpSession) -> None:
        self.client = client
        self._name: str | None = None
        self._sent: list[ResponseContextManager] = []

    @contextmanager
    def named(self, name: str) -> Iterator[list[ResponseContextManager]]:
        """Requests sent in the block are one stats entry, ``name``; the block gets them, to mark."""
        self._name, self._sent = name, []
        try:
            yield self._sent
        finally:
            for response in self._sent:
                response.__exit__(None, None, None)
            self._name, self._sent = None, []

    def request(self, method: str, url: str, **kwargs: Any) -> ResponseContextManager:
        response = self.client.request(method, url, name=self._name, catch_response=True, **kwargs)
        response.__enter__()
        self._sent.append(response)
        if response.error is not None and response.status_code == 0:
            raise response.error  # no answer: the client's caller reads the exception (info or fail)
        return response

    def close(self) -> None:
        """Locust owns the session."""
