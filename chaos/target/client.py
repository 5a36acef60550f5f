"""One client of a target, driven by its profile: abstract operations in, ``Reply`` out.

Each client owns a ``requests.Session``, as ``BillingClient`` does: clients
meant to race must not share a connection pool. Unlike ``BillingClient`` it
never returns a raw response: every call comes back as a ``Reply`` with an
outcome, so a target-specific status or field name never reaches a
scenario. Exceptions of the HTTP library become ``info`` or ``fail``
replies by ``chaos.history.classify``; a caller's mistake (an unknown
parameter) and a lacked operation (``OperationMissing``) still raise.
"""
from __future__ import annotations

import time
from typing import Any

import requests

from chaos.http_client import SessionClient
from chaos.target.errors import OperationMissing
from chaos.target.model import AdminLogin, TargetProfile
from chaos.target.needs import needs_missing
from chaos.target.reply import Reply, failed, read
from chaos.target.request import build

DEFAULT_TIMEOUT_S = 30.0

__all__ = ["DEFAULT_TIMEOUT_S", "OperationMissing", "Reply", "TargetClient", "needs_missing"]


class TargetClient(SessionClient):
    def __init__(self, profile: TargetProfile, base_url: str, token: str | None = None,
                 timeout_s: float = DEFAULT_TIMEOUT_S, instance: str | None = None) -> None:
        """``instance``: the name of the instance ``base_url`` reaches (for profiles whose instance is
        ``from_url``; None for the lb, where the answering instance cannot be known)."""
        super().__init__(base_url, token, timeout_s)
        self.profile = profile
        self.instance = instance

    def offers(self, operation: str) -> bool:
        return self.profile.offers(operation)

    def call(self, operation: str, **params: Any) -> Reply:
        """Perform ``operation`` once. Raises ``OperationMissing`` (before any request) if the target lacks it."""
        request = build(self.profile, operation, params, self.token)
        started = time.perf_counter()
        try:
            response = self.session.request(request.method, self.base_url + request.path, params=request.query,
                                            json=request.json, headers=request.headers,
                                            timeout=self.timeout_s + request.hold_s)
        except requests.RequestException as exc:
            return failed(self.profile, operation, exc, time.perf_counter() - started)
        latency = time.perf_counter() - started
        cut = _cut(response)
        if cut is not None:  # the status line came, the rest of the answer did not: no answer to read
            return failed(self.profile, operation, cut, latency)
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text
        return read(self.profile, operation, response.status_code, response.headers, body, latency, self.instance)

    def login(self, email: str, password: str) -> Reply:
        """Log in; on ok the client keeps the token for its later calls."""
        return self._keep_token(self.call("login", email=email, password=password))

    def admin_login(self, email: str | None = None, password: str | None = None) -> Reply:
        """Log the admin in, with the profile's admin credentials unless others are given."""
        admin = self.profile.admin
        if (email is None or password is None) and isinstance(admin, AdminLogin):
            email, password = email or admin.email, password or admin.password
        return self._keep_token(self.call("admin_login", email=email, password=password))

    def _keep_token(self, reply: Reply) -> Reply:
        if reply.ok and reply.get("token"):
            self.token = str(reply["token"])
        return reply

    def __repr__(self) -> str:
        return f"TargetClient({self.profile.name!r}, {self.base_url!r})"


class AnswerCut(requests.RequestException):
    """An answer cut short: its headers end without a Content-Type or without a length (neither
    Content-Length nor chunked), its body is shorter than its Content-Length, or it says JSON and is not (a connection closed mid-answer, as Toxiproxy's
    ``limit_data`` does). http.client
    returns such an answer as if it were whole; reading its status as the outcome would take a
    refusal without its code, or a success without its values, for the service's answer."""


def _cut(response: requests.Response) -> AnswerCut | None:
    if response.status_code in (204, 304) or response.request.method == "HEAD":
        return None
    if "Content-Type" not in response.headers:
        return AnswerCut(f"{response.status_code} answer without a Content-Type (headers cut)")
    length = response.headers.get("Content-Length")
    if length is None and "chunked" not in response.headers.get("Transfer-Encoding", "").lower():
        return AnswerCut(f"{response.status_code} answer without a length (headers cut)")
    if length is not None and length.isdigit() and int(length) != len(response.content):
        return AnswerCut(f"{response.status_code} answer of {len(response.content)} of its {length} bytes")
    if "json" in response.headers["Content-Type"]:
        try:
            response.json()
        except ValueError:   # cut before its Content-Length came: what came is not the JSON it says it is
            return AnswerCut(f"{response.status_code} answer whose JSON body is cut ({len(response.content)} bytes)")
    return None
