"""A target profile as data: frozen dataclasses, built only by ``chaos.target.validate``.

The profile answers, for one service: how each abstract operation becomes a
request, where the reply's values are, which statuses mean what, how an
admin gets a token, and how the service runs (so the controller knows where
to put Toxiproxy links and which faults it can inject).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from chaos.history.classify import Outcome, classify
from chaos.target.errors import OperationMissing, Problem, ProfileError
from chaos.target.loopback import url_problem
from chaos.target.operations import NAMES, OperationSpec, spec
from chaos.target.paths import ReplyPath
from chaos.target.statuses import Statuses
from chaos.target.templates import all_placeholders

DEPENDENCIES = ("postgres", "redis")  # the parties a containerised target's links lead to


@dataclass(frozen=True)
class Auth:
    """How a token travels: ``<header>: <scheme> <token>`` (no scheme: the bare token)."""

    header: str = "Authorization"
    scheme: str | None = "Bearer"
    token: ReplyPath | None = None  # where login's reply carries the token

    def header_value(self, token: str) -> str:
        return f"{self.scheme} {token}" if self.scheme else token


@dataclass(frozen=True)
class Extract:
    """One reply value: where it is, and for a list of objects how its items' fields are renamed."""

    name: str
    path: ReplyPath
    fields: Mapping[str, ReplyPath] = field(default_factory=dict)


@dataclass(frozen=True)
class OperationMap:
    """How one abstract operation is called on this target."""

    name: str
    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, Any] = field(default_factory=dict)
    body: Any = None                      # None: no body
    extract: Mapping[str, Extract] = field(default_factory=dict)
    statuses: Statuses | None = None

    @property
    def spec(self) -> OperationSpec:
        return spec(self.name)

    def placeholders(self) -> set[str]:
        return set(all_placeholders([self.path, dict(self.headers), dict(self.query), self.body]))


@dataclass(frozen=True)
class AdminLogin:
    """The admin logs in through the ``admin_login`` operation."""

    email: str
    password: str


@dataclass(frozen=True)
class AdminCommand:
    """A command whose stdout is an admin token: run in ``service``'s container (containerised),
    or on this machine (an already-running target)."""

    command: tuple[str, ...]
    service: str | None = None


@dataclass(frozen=True)
class Containerised:
    """The suite starts the target: the compose override's images, scaled and wired by the controller."""

    compose: Path | None                           # None: docker-compose.chaos.yaml alone (billing)
    api_service: str = "api"
    worker_service: str | None = None
    port: int = 8000                               # the api's port inside its container
    dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # redis/postgres -> env vars
    instance_env: str | None = "INSTANCE_NAME"     # how an instance learns its name (X-Instance)
    kind: Literal["containerised"] = "containerised"


@dataclass(frozen=True)
class Running:
    """The target is already running on this machine; the suite only reaches it through client links."""

    instances: tuple[str, ...]
    kind: Literal["running"] = "running"


Admin = AdminLogin | AdminCommand
Run = Containerised | Running


@dataclass(frozen=True)
class TargetProfile:
    name: str
    source: Path | None
    operations: Mapping[str, OperationMap]
    run: Run
    description: str = ""
    auth: Auth = Auth()
    idempotency_header: str | None = None
    instance_header: str | None = None
    error_code: ReplyPath | None = None
    error_codes: Mapping[str, str] = field(default_factory=dict)  # the target's code -> the suite's
    statuses: Statuses | None = None
    declared_lacks: frozenset[str] = frozenset()
    admin: Admin | None = None

    @property
    def lacks(self) -> frozenset[str]:
        """Every operation the target does not offer: declared, or simply not mapped."""
        return NAMES - set(self.operations)

    def offers(self, operation: str) -> bool:
        return operation in self.operations

    def mapping(self, operation: str) -> OperationMap:
        spec(operation)  # an unknown name is a KeyError, not a missing operation
        if operation not in self.operations:
            raise OperationMissing(operation, self.name, operation in self.declared_lacks)
        return self.operations[operation]

    def supports_idempotency(self) -> bool:
        """Can a caller send an idempotency key with ``activate``?"""
        return self.sends("activate", "key")

    def sends(self, operation: str, param: str) -> bool:
        """Does a call of ``operation`` carry ``param`` to the target? A parameter no template names is
        dropped silently (a target without billing's ``hold_s`` test hook simply does not hold)."""
        mapped = self.operations.get(operation)
        if mapped is None:
            return False
        if param == "key" and mapped.spec.idempotent and self.idempotency_header is not None:
            return True
        return param in mapped.placeholders()

    def outcome(self, operation: str, status: int) -> Outcome:
        """The operation's statuses, then the profile's, then ``classify``; info on a read is fail."""
        write = spec(operation).write
        mapped = self.operations.get(operation)
        for statuses in (mapped.statuses if mapped else None, self.statuses):
            found = statuses.outcome(status) if statuses is not None else None
            if found is not None:
                return "fail" if found == "info" and not write else found
        return classify(status, None, write=write)

    def with_instances(self, urls: list[str] | tuple[str, ...]) -> "TargetProfile":
        """The same running target at other URLs (tests start instances on ephemeral ports)."""
        if not isinstance(self.run, Running):
            raise ValueError(f"target {self.name!r} is containerised; only a running target has instance URLs")
        where = str(self.source or self.name)
        problems = [Problem(where, f"run.running.instances[{i}]", why)
                    for i, url in enumerate(urls) if (why := url_problem(url)) is not None]
        if not urls:
            problems.append(Problem(where, "run.running.instances", "needs at least one instance URL"))
        if problems:
            raise ProfileError(problems)
        return dataclasses.replace(self, run=Running(tuple(urls)))
