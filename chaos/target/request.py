"""An abstract operation with its parameters, turned into one target's HTTP request (no I/O here).

Kept apart from the client so that "does billing's profile send exactly what
billing's client sends" can be checked without a network, and so a
``chaos target check`` can show the request it is about to make.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chaos.target.model import TargetProfile
from chaos.target.operations import OperationSpec, spec
from chaos.target.templates import OMIT, render, render_path


@dataclass(frozen=True)
class Request:
    operation: str
    method: str
    path: str
    headers: dict[str, str]
    query: dict[str, Any] | None
    json: Any          # None: no body
    hold_s: float      # how long the target holds this very request open (added to the client's timeout)


def with_defaults(operation: OperationSpec, params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters with defaults filled in; TypeError for unknown or missing ones (a caller's bug)."""
    unknown = sorted(set(params) - set(operation.param_names))
    if unknown:
        raise TypeError(f"{operation.name} takes {', '.join(operation.param_names) or 'no parameters'}; "
                        f"not {', '.join(unknown)}")
    filled = {p.name: params.get(p.name, p.default) for p in operation.params}
    missing = [name for name in operation.required_params if filled.get(name) is None]
    if missing:
        raise TypeError(f"{operation.name} needs {', '.join(missing)}")
    return filled


def build(profile: TargetProfile, operation: str, params: Mapping[str, Any], token: str | None = None) -> Request:
    """Raises ``OperationMissing`` when the target lacks ``operation``."""
    mapped = profile.mapping(operation)
    values = with_defaults(spec(operation), params)
    headers: dict[str, str] = {}
    if token:
        headers[profile.auth.header] = profile.auth.header_value(token)
    if mapped.spec.idempotent and profile.idempotency_header and values.get("key") is not None:
        headers[profile.idempotency_header] = str(values["key"])
    headers.update({name: str(value) for name, value in render(dict(mapped.headers), values).items()})
    query = render(dict(mapped.query), values)
    body = render(mapped.body, values) if mapped.body is not None else None
    return Request(operation, mapped.method, render_path(mapped.path, values), headers, query or None,
                   None if body is OMIT else body, float(values.get("hold_s") or 0.0) if mapped.spec.holds else 0.0)
