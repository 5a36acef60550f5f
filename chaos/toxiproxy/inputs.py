"""Request bodies parsed into typed inputs, with Toxiproxy's defaults.

Each parser either returns a complete, checked input or raises an ``ApiError``
whose message names the field, so handlers never see a half-valid body and no
input reaches a proxy or a toxic unchecked. ``null`` counts as absent, as it
does for Go's JSON decoder.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chaos.toxiproxy.addresses import AddressError, parse_address
from chaos.toxiproxy.errors import INVALID_STREAM, INVALID_TOXIC_TYPE, MISSING_FIELD, bad_body
from chaos.toxiproxy.stream import Stream
from chaos.toxiproxy.toxics import TOXIC_TYPES
from chaos.toxiproxy.wire import Float32

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
    toxicity: Float32
    attributes: Mapping[str, Any]


@dataclass(frozen=True)
class ToxicChanges:
    toxicity: Float32 | None
    attributes: Mapping[str, Any]


class _Number(float):
    """A JSON number with a fraction or exponent, keeping its text for error messages (Go quotes it)."""

    literal: str

    def __new__(cls, literal: str) -> _Number:
        number = super().__new__(cls, literal)
        number.literal = literal
        return number


def _no_constants(name: str) -> None:
    raise ValueError(f"invalid character {name[0]!r} looking for beginning of value")


def parse_json(raw: bytes) -> Any:
    """JSON as Go's decoder reads it: an empty body is ``EOF``, ``NaN`` and ``Infinity`` are not JSON."""
    if not raw.strip():
        raise bad_body("EOF")
    try:
        return json.loads(raw, parse_float=_Number, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:
        raise bad_body(f"invalid JSON: {exc}") from None


def parse_proxy(body: Any, *, where: str = "") -> ProxyInput:
    obj = _object(body, where or "body")
    name = _string(obj, "name", where)
    upstream = _string(obj, "upstream", where)
    if not name:
        raise MISSING_FIELD(f"name{_at(where)}")
    if not upstream:
        raise MISSING_FIELD(f"upstream{_at(where)}")
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
            raise bad_body(f"duplicate proxy name {json.dumps(name)}")
    return proxies


def parse_toxic(body: Any) -> ToxicInput:
    """Checked in the Go server's order: the fields' types, the stream, the type, then the attributes."""
    obj = _object(body, "body")
    toxic_type = _string(obj, "type")
    stream_text = _string(obj, "stream")
    name = _string(obj, "name")
    toxicity = _toxicity(obj, "ToxicWrapper")
    stream = _stream("downstream" if stream_text is None else stream_text)
    if toxic_type not in TOXIC_TYPES:
        raise INVALID_TOXIC_TYPE()
    return ToxicInput(name=name or f"{toxic_type}_{stream.value}", type=toxic_type, stream=stream,
                      toxicity=Float32(1.0) if toxicity is None else toxicity, attributes=_attributes(obj))


def parse_toxic_changes(body: Any) -> ToxicChanges:
    """Only ``attributes`` (merged over the current ones) and ``toxicity`` can change, as in Toxiproxy."""
    obj = _object(body, "body")
    return ToxicChanges(toxicity=_toxicity(obj, ""), attributes=_attributes(obj))


def _stream(text: str) -> Stream:
    try:
        return Stream(text.lower())
    except ValueError:
        raise INVALID_STREAM() from None


def _toxicity(obj: Mapping[str, Any], struct_name: str) -> Float32 | None:
    """Any number a Go ``float32`` holds, as the Go server takes it (below 0 acts as 0, above 1 as 1)."""
    value = obj.get("toxicity")
    if value is None:
        return None
    where = f"Go struct field {struct_name}.toxicity of type float32"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad_body(f"json: cannot unmarshal {_go_kind(value)} into {where}")
    try:
        return Float32(value)
    except OverflowError:
        raise bad_body(f"json: cannot unmarshal number {getattr(value, 'literal', value)} into {where}") from None


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


def _go_kind(value: Any) -> str:
    """The JSON kind as Go's ``UnmarshalTypeError`` names it."""
    return {dict: "object", list: "array", str: "string", bool: "bool"}.get(type(value), "number")


def _kind(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "number",
            float: "number", _Number: "number", type(None): "null"}.get(type(value), type(value).__name__)
