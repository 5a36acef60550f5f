"""One target's HTTP answer, read into the abstract operation's values and an outcome (no I/O here).

The outcome follows the profile's statuses and ``chaos.history.classify``
for everything else (exceptions above all), so "ok, fail or info" means the
same for every target. Values are read only where the profile says they
are; a list of objects is normalised to the suite's names (``bill_no`` ->
``invoice_id``) with the item's other fields kept, so the checkers read
every target's final reads alike.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chaos.history.classify import Outcome, classify
from chaos.target.model import Extract, TargetProfile
from chaos.target.operations import spec
from chaos.target.paths import MISSING, ReplyPath

TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
TOKEN_OPERATIONS = frozenset({"login", "admin_login"})  # their token is at auth.token unless extracted


@dataclass(frozen=True)
class Reply:
    """What one call did: ``outcome`` is ok / fail / info; ``values`` uses the operation's names."""

    operation: str
    outcome: Outcome
    status: int | None
    values: Mapping[str, Any]
    body: Any = None                   # the JSON body as sent (text when it was not JSON)
    instance: str | None = None        # from the profile's instance header
    error: str | None = None           # the body's error code (in the suite's words), or the exception's class
    latency: float = 0.0
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    exception: BaseException | None = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def __getitem__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise KeyError(f"{self.operation} ({self.outcome}, status {self.status}) has no value {name!r}; it has "
                           f"{', '.join(self.values) or 'none'}") from None

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)


def read(profile: TargetProfile, operation: str, status: int, headers: Mapping[str, str], body: Any,
         latency: float = 0.0, instance: str | None = None) -> Reply:
    """``instance``: the name of the instance the client called, for a profile whose instance is
    ``from_url`` (no header names it)."""
    outcome = profile.outcome(operation, status)
    answered = instance if profile.instance_from_url else _header(headers, profile.instance_header)
    error = _error_code(profile, body) if outcome != "ok" else None
    return Reply(operation, outcome, status, extract(profile, operation, body, headers), body, answered, error,
                 latency, dict(headers))


def failed(profile: TargetProfile, operation: str, exc: BaseException, latency: float = 0.0) -> Reply:
    """No answer (timeout, reset, refused): classify decides whether it may have happened."""
    return Reply(operation, classify(None, exc, write=spec(operation).write), None, {}, error=type(exc).__name__,
                 latency=latency, exception=exc)


def extract(profile: TargetProfile, operation: str, body: Any, headers: Mapping[str, str]) -> dict[str, Any]:
    mapped = profile.mapping(operation)
    rules = dict(mapped.extract)
    if operation in TOKEN_OPERATIONS and "token" not in rules and profile.auth.token is not None:
        rules["token"] = Extract("token", profile.auth.token)
    values = {}
    for name, rule in rules.items():
        kind = mapped.spec.value(name).kind  # type: ignore[union-attr]  # validated at load
        found = rule.path.find(body, headers)
        if kind == "flag":
            values[name] = _flag(found)
        elif found is not MISSING:
            values[name] = _items(found, rule.fields) if kind == "list" and rule.fields else found
    return values


def _items(items: list[Any], fields: Mapping[str, ReplyPath]) -> list[Any]:
    """Each object with the suite's names for the renamed fields and its other fields kept as they are."""
    renamed_sources = {str(p.steps[0]) for p in fields.values() if p.steps and isinstance(p.steps[0], str)}
    normalised = []
    for item in items:
        if not isinstance(item, Mapping):
            normalised.append(item)
            continue
        kept = {k: v for k, v in item.items() if k not in renamed_sources}
        kept.update({name: found for name, path in fields.items() if (found := path.find(item)) is not MISSING})
        normalised.append(kept)
    return normalised


def _flag(found: Any) -> bool:
    if found is MISSING or found is None:
        return False
    if isinstance(found, str):
        return found.strip().lower() in TRUE_WORDS
    return bool(found)


def _header(headers: Mapping[str, str], name: str | None) -> str | None:
    if name is None:
        return None
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def _error_code(profile: TargetProfile, body: Any) -> str | None:
    """The suite's code for a refusal: the body's machine code (mapped), else its message by pattern."""
    return profile.error_of(_scalar(profile.error_code, body), _scalar(profile.error_message, body))


def _scalar(path: ReplyPath | None, body: Any) -> str | None:
    if path is None:
        return None
    found = path.find(body)
    if isinstance(found, bool) or not isinstance(found, (str, int)) or found == "":
        return None
    return str(found)
