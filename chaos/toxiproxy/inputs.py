"""Request bodies parsed into typed inputs, with Toxiproxy's defaults.

Each parser either returns a complete, checked input or raises an ``ApiError``
whose message names the field, so handlers never see a half-valid body and no
input reaches a proxy or a toxic unchecked. ``null`` counts as absent, as it
does for Go's JSON decoder.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chaos.toxiproxy.addresses import AddressError, parse_address
from chaos.toxiproxy.errors import INVALID_STREAM, INVALID_TOXIC_TYPE, MISSING_FIELD, bad_body
from chaos.toxiproxy.stream import Stream
from chaos.toxiproxy.toxics import TOXIC_TYPES

@dataclass(frozen=True)
class ProxyInput:
    name: str
    listen: str
    upstream: str
    enabled: bool


@dataclass(frozen=True)
class ProxyChanges:
    listen: str | None
    upstream: str | None
    enabled: bool | None


@dataclass(frozen=True)
class ToxicInput:
    name: str
    type: str
    stream: Stream
    toxicity: float
    attributes: Mapping[str, Any]


@dataclass(frozen=True)
class ToxicChanges:
    toxicity: float | None
    attributes: Mapping[str, Any]


def parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        detail = "empty body" if not raw.strip() else f"invalid JSON: {exc}"
        raise bad_body(detail) from None


def parse_proxy(body: Any, *, where: str = "") -> ProxyInput:
    obj = _object(body, where or "body")
    name = _string(obj, "name", where)
    upstream = _string(obj, "upstream", where)
    if not name:
        raise MISSING_FIELD.joined(f"name{_at(where)}")
    if not upstream:
        raise MISSING_FIELD.joined(f"upstream{_at(where)}")
    listen = _string(obj, "listen", where) or ""
    _check_listen(listen, where)
    _check_upstream(upstream, where)
    enabled = _boolean(obj, "enabled", where)
    return ProxyInput(name=name, listen=listen, upstream=upstream, enabled=True if enabled is None else enabled)


def parse_proxy_changes(body: Any) -> ProxyChanges:
    obj = _object(body, "body")
    listen = _string(obj, "listen")
    upstream = _string(obj, "upstream")
    if listen is not None:
        _check_listen(listen, "")
    if upstream is not None:
        _check_upstream(upstream, "")
    return ProxyChanges(listen=listen, upstream=upstream, enabled=_boolean(obj, "enabled"))


def parse_populate(body: Any) -> list[ProxyInput]:
    """Every proxy of a populate call, all checked before any is applied."""
    if not isinstance(body, list):
        raise bad_body(f"expected a JSON array of proxies, got {_kind(body)}")
    proxies = [parse_proxy(item, where=f"proxy {index}") for index, item in enumerate(body, start=1)]
    names = [proxy.name for proxy in proxies]
    for name in names:
        if names.count(name) > 1:
            raise bad_body(f"duplicate proxy name {name!r}")
    return proxies


def parse_toxic(body: Any) -> ToxicInput:
    obj = _object(body, "body")
    toxic_type = _string(obj, "type")
    if toxic_type not in TOXIC_TYPES:
        known = ", ".join(sorted(TOXIC_TYPES))
        raise INVALID_TOXIC_TYPE.joined(f"type {toxic_type!r} is not one of {known}")
    stream_text = _string(obj, "stream")
    stream = _stream("downstream" if stream_text is None else stream_text)
    name = _string(obj, "name") or f"{toxic_type}_{stream.value}"
    toxicity = _toxicity(obj)
    return ToxicInput(name=name, type=toxic_type, stream=stream,
                      toxicity=1.0 if toxicity is None else toxicity, attributes=_attributes(obj))


def parse_toxic_changes(body: Any) -> ToxicChanges:
    """Only ``attributes`` (merged over the current ones) and ``toxicity`` can change, as in Toxiproxy."""
    obj = _object(body, "body")
    return ToxicChanges(toxicity=_toxicity(obj), attributes=_attributes(obj))


def _stream(text: str) -> Stream:
    try:
        return Stream(text.lower())
    except ValueError:
        raise INVALID_STREAM.joined(f"stream {text!r}") from None


def _toxicity(obj: Mapping[str, Any]) -> float | None:
    value = obj.get("toxicity")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad_body(f"toxicity: expected a number, got {_kind(value)}")
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise bad_body(f"toxicity: must be between 0 and 1, got {value!r}")
    return float(value)


def _attributes(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    value = obj.get("attributes")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_body(f"attributes: expected an object, got {_kind(value)}")
    return value


def _check_listen(listen: str, where: str) -> None:
    """An empty listen is allowed: the proxy then takes a free port on the API's interface."""
    if not listen:
        return
    try:
        parse_address(listen, field=f"listen{_at(where)}", allow_empty_host=True, allow_port_zero=True)
    except AddressError as exc:
        raise bad_body(str(exc)) from None


def _check_upstream(upstream: str, where: str) -> None:
    try:
        parse_address(upstream, field=f"upstream{_at(where)}", allow_empty_host=False, allow_port_zero=False)
    except AddressError as exc:
        raise bad_body(str(exc)) from None


def _object(body: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise bad_body(f"{where}: expected a JSON object, got {_kind(body)}")
    return body


def _string(obj: Mapping[str, Any], key: str, where: str = "") -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise bad_body(f"{key}{_at(where)}: expected a string, got {_kind(value)}")


def _boolean(obj: Mapping[str, Any], key: str, where: str = "") -> bool | None:
    value = obj.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise bad_body(f"{key}{_at(where)}: expected true or false, got {_kind(value)}")


def _at(where: str) -> str:
    return f" at {where}" if where else ""


def _kind(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "number",
            float: "number", type(None): "null"}.get(type(value), type(value).__name__)
