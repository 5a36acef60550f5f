"""Reading request bodies: a bad body is a 400 that names the field."""
from __future__ import annotations

from typing import Any

from flask import request

from billing.errors import ApiError


def body() -> dict[str, Any]:
    if not request.get_data():
        return {}
    data = request.get_json(silent=True, force=True)
    if data is None:
        raise ApiError(400, "invalid_json", "the request body is not valid JSON")
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "the request body must be a JSON object")
    return data


def field(data: dict[str, Any], name: str, kind: type, *, required: bool = True, default: Any = None) -> Any:
    if name not in data or data[name] is None:
        if required:
            raise ApiError(400, "invalid_request", f"field '{name}' is required")
        return default
    value = data[name]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ApiError(400, "invalid_request", f"field '{name}' must be an integer")
    if kind is str and not isinstance(value, str):
        raise ApiError(400, "invalid_request", f"field '{name}' must be a string")
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
