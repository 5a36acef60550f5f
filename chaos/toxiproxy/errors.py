"""The API's errors as values, so every handler fails the same way Toxiproxy 2.x does.

Toxiproxy answers every error with ``{"error": "<message>", "status": <code>}``;
the messages of its named errors are kept word for word because scripts match on them.
"""
from __future__ import annotations


class ApiError(Exception):
    """An error the API reports to its caller with an HTTP status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def joined(self, detail: str) -> ApiError:
        """The same error with a detail appended, as Toxiproxy's ``joinError`` does."""
        return ApiError(f"{self.message}: {detail}", self.status)

    def to_json(self) -> dict[str, object]:
        return {"error": self.message, "status": self.status}


BAD_REQUEST_BODY = ApiError("bad request body", 400)
MISSING_FIELD = ApiError("missing required field", 400)
PROXY_NOT_FOUND = ApiError("proxy not found", 404)
PROXY_ALREADY_EXISTS = ApiError("proxy already exists", 409)
INVALID_STREAM = ApiError("stream was invalid, can be either upstream or downstream", 400)
INVALID_TOXIC_TYPE = ApiError("invalid toxic type", 400)
TOXIC_ALREADY_EXISTS = ApiError("toxic already exists", 409)
TOXIC_NOT_FOUND = ApiError("toxic not found", 404)


def bad_body(detail: str) -> ApiError:
    """A 400 whose message names the offending field."""
    return BAD_REQUEST_BODY.joined(detail)
