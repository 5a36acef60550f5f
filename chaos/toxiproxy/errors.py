"""The API's errors, so every handler fails the same way Toxiproxy 2.x does.

Toxiproxy answers every error with ``{"error": "<message>", "status": <code>}``;
the messages of its named errors are kept word for word because scripts match on them.

The named errors are *kinds* that make a fresh ``ApiError`` each time, never one
exception instance raised again and again: Python grows a raised exception's
traceback on every raise, so a shared instance would keep every frame (request,
handler, locals) of every 404 and 409 alive for the life of the process.
"""
from __future__ import annotations

from dataclasses import dataclass


class ApiError(Exception):
    """An error the API reports to its caller with an HTTP status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def to_json(self) -> dict[str, object]:
        return {"error": self.message, "status": self.status}


@dataclass(frozen=True)
class ErrorKind:
    """One of Toxiproxy's named errors (``ErrProxyNotFound``...); calling it makes the exception to raise."""

    message: str
    status: int

    def __call__(self, detail: str | None = None) -> ApiError:
        """A new error, with ``detail`` appended as Toxiproxy's ``joinError`` does."""
        return ApiError(self.message if detail is None else f"{self.message}: {detail}", self.status)


BAD_REQUEST_BODY = ErrorKind("bad request body", 400)
MISSING_FIELD = ErrorKind("missing required field", 400)
PROXY_NOT_FOUND = ErrorKind("proxy not found", 404)
PROXY_ALREADY_EXISTS = ErrorKind("proxy already exists", 409)
INVALID_STREAM = ErrorKind("stream was invalid, can be either upstream or downstream", 400)
INVALID_TOXIC_TYPE = ErrorKind("invalid toxic type", 400)
TOXIC_ALREADY_EXISTS = ErrorKind("toxic already exists", 409)
TOXIC_NOT_FOUND = ErrorKind("toxic not found", 404)


def bad_body(detail: str) -> ApiError:
    """A 400 whose message names the offending field."""
    return BAD_REQUEST_BODY(detail)
