"""Reading request bodies: a bad body is a 400 that names the field.

Everything a client can put in a body is refused here, before any query, when
the database or the parser would otherwise turn it into a 5xx: JSON nested
past the parser's recursion limit (a RecursionError, not a ValueError, so it
escaped "not valid JSON" and became 500 ``internal_error``), and text that
PostgreSQL or the UTF-8 encoder refuses (a NUL character, a lone surrogate
such as ``"\\ud800"``), which became 503 ``db_error`` or 500. A 5xx tells the
client, and the contract checker, that the service could not tell; these
requests have a definite answer: no.
"""
from __future__ import annotations

import json
from typing import Any

from flask import request

from billing.errors import ApiError

MAX_DEPTH = 32  # no body billing reads is deeper than 2; deeper is refused as malformed, whatever the route


def body() -> dict[str, Any]:
    raw = request.get_data()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise ApiError(400, "invalid_json", "the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "the request body must be a JSON object")
    check_text(data)
    return data


def check_text(data: Any) -> None:
    """Refuse a body deeper than ``MAX_DEPTH``, or with a string (key or value) the database cannot store.

    Iterative, so a body just under the parser's limit cannot exhaust the stack here either.
    """
    pending: list[tuple[str, Any, int]] = [("", data, 1)]
    while pending:
        where, value, depth = pending.pop()
        if isinstance(value, (dict, list)) and depth > MAX_DEPTH:
            raise ApiError(400, "invalid_json", f"the request body is nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, str):
            _storable(where, value)
        elif isinstance(value, dict):
            for key, item in value.items():
                name = f"{where}.{key}" if where else key
                _storable(name, key)
                pending.append((name, item, depth + 1))
        elif isinstance(value, list):
            pending.extend((f"{where}[{i}]", item, depth + 1) for i, item in enumerate(value))


def _storable(where: str, text: str) -> None:
    if "\x00" in text:
        raise ApiError(400, "invalid_request", f"field '{_printable(where)}' contains a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(400, "invalid_request",
                       f"field '{_printable(where)}' is not valid text (an unpaired surrogate)") from None


def _printable(where: str) -> str:
    """A field name safe to echo in a message (the name itself may hold the bad character)."""
    return where.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000")[:100]


def field(data: dict[str, Any], name: str, kind: type, *, required: bool = True, default: Any = None,
          max_length: int | None = None) -> Any:
    """``max_length`` is the column's: a longer string is PostgreSQL's error (503) unless refused here."""
    if name not in data or data[name] is None:
        if required:
            raise ApiError(400, "invalid_request", f"field '{name}' is required")
        return default
    value = data[name]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ApiError(400, "invalid_request", f"field '{name}' must be an integer")
    if kind is str and not isinstance(value, str):
        raise ApiError(400, "invalid_request", f"field '{name}' must be a string")
    if max_length is not None and len(value) > max_length:
        raise ApiError(400, "invalid_request", f"field '{name}' is longer than {max_length} characters")
    return value


def positive_int(data: dict[str, Any], name: str, *, required: bool = True, default: int | None = None,
                 maximum: int = 1_000_000) -> int:
    value = field(data, name, int, required=required, default=default)
    if value is None or not 1 <= value <= maximum:
        raise ApiError(400, "invalid_request", f"field '{name}' must be an integer from 1 to {maximum}")
    return value


def query_float(name: str, maximum: float) -> float:
    raw = request.args.get(name, "0")
    try:
        value = float(raw)
    except ValueError:
        raise ApiError(400, "invalid_request", f"query parameter '{name}' must be a number")
    if not 0 <= value <= maximum:
        raise ApiError(400, "invalid_request", f"query parameter '{name}' must be from 0 to {maximum}")
    return value
