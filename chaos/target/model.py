"""A target profile as data: frozen dataclasses, built only by ``chaos.target.validate``.

The profile answers, for one service: how each abstract operation becomes a
request, where the reply's values are, which statuses mean what, how an
admin gets a token, and how the service runs (so the controller knows where
to put Toxiproxy links and which faults it can inject).
"""
from __future__ import annotations

import dataclasses
import re
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
    # the key families ``forget`` deletes while Redis runs: family -> ((db, SCAN pattern), ...)
    redis_keys: Mapping[str, tuple[tuple[int, str], ...]] = field(default_factory=dict)
    kind: Literal["containerised"] = "containerised"


@dataclass(frozen=True)
class RunningDependency:
    """Where an already-running target's Redis or PostgreSQL really is, and how an instance is told the
    address of its link to it instead (``chaos target env``)."""

    address: str                     # host:port of the real dependency (the links' upstream)
    url: str | None = None           # the URL an instance would be given; the link's host:port replaces its own
    env: tuple[str, ...] = ()        # the environment variables that carry it
    listen: tuple[int, ...] = ()     # the link's port per instance (api_1, api_2, ...); empty: proxy_port_base

    def value_for(self, link_address: str) -> str:
        """What an instance's variables hold: the URL pointed at the link (or the link's host:port)."""
        if self.url is None:
            return link_address
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(self.url)
        userinfo = parts.netloc.rpartition("@")[0]
        return urlunsplit(parts._replace(netloc=f"{userinfo}@{link_address}" if userinfo else link_address))


@dataclass(frozen=True)
class RunningProcess:
    """How the suite finds one process of an already-running target (an instance, redis or postgres), and
    starts it again after a kill. Only the pids given here (and, with ``tree``, their descendants) get
    signals: never a process found by name."""

    pid_file: Path | None = None           # a file holding the pid
    pid_command: tuple[str, ...] = ()      # or a command printing the pid(s), run on this machine
    restart: tuple[str, ...] = ()          # starts it again (healing a kill); empty: a kill is not healed
    tree: bool = True                      # signal the process's descendants too (gunicorn's workers)


@dataclass(frozen=True)
class Running:
    """The target is already running on this machine; the suite reaches it through client links, its
    dependencies through dependency links (when the profile names them) and its processes by pid (when the
    profile says how to find them). Instances are api_1, api_2, ... in ``instances`` order."""

    instances: tuple[str, ...]
    dependencies: Mapping[str, RunningDependency] = field(default_factory=dict)  # redis / postgres
    processes: Mapping[str, RunningProcess] = field(default_factory=dict)        # api_N / redis / postgres
    proxy_port_base: int = 21000
    kind: Literal["running"] = "running"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f"api_{i}" for i in range(1, len(self.instances) + 1))

    def link_port(self, instance: str, dependency: str) -> int:
        """The port ``api_i->dependency`` listens on: the profile's ``listen``, else derived from
        ``proxy_port_base`` (api_1->postgres, api_1->redis, api_2->postgres, ... in that order), so that
        ``chaos target env`` and every run agree without talking to each other."""
        index = self.names.index(instance)
        given = self.dependencies[dependency].listen
        if given:
            return given[index]
        return self.proxy_port_base + index * len(DEPENDENCIES) + DEPENDENCIES.index(dependency)

    def environment(self, instance: str, host: str = "127.0.0.1") -> dict[str, str]:
        """The variables ``instance`` must be started with so that it reaches its dependencies through links."""
        found = {}
        for dependency in DEPENDENCIES:
            if dependency in self.dependencies:
                spec_ = self.dependencies[dependency]
                value = spec_.value_for(f"{host}:{self.link_port(instance, dependency)}")
                found.update({name: value for name in spec_.env})
        return found


Admin = AdminLogin | AdminCommand
Run = Containerised | Running
# What makes two effects one for an at-most-once invariant: invoice fields (billing: user_id + period), or
# "per_call" (each accepted call makes at most one).
Identity = tuple[str, ...] | Literal["per_call"]
IDENTITY_KINDS = ("invoice", "activation")  # activation: the invoice fields that tie an invoice to an activation


@dataclass(frozen=True)
class SetupValue:
    """A per-run value found once at set-up by calling ``operation`` as the admin (e.g. a plan's id from
    ``list_plans``): ``value`` is a reply path into the operation's values (``plans[0].plan_id``)."""

    name: str
    operation: str
    value: ReplyPath


@dataclass(frozen=True)
class Credentials:
    """The password every account the suite registers gets: ``{n}`` becomes a unique number, so that a
    target with a password policy accepts it."""

    password: str = "chaos-password-{n}-A1!"

    def password_for(self, n: int) -> str:
        return self.password.replace("{n}", str(n))


@dataclass(frozen=True)
class ErrorPattern:
    """A target without machine error codes: a message matching ``pattern`` (case-insensitive) means ``code``."""

    pattern: re.Pattern[str]
    code: str


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
    identities: Mapping[str, Identity] = field(default_factory=dict)   # "invoice" / "activation" -> identity
    error_message: ReplyPath | None = None       # where a refusal's human message is
    error_patterns: tuple[ErrorPattern, ...] = ()
    instance_from_url: bool = False              # no header names the instance: the URL called does
    setup: Mapping[str, SetupValue] = field(default_factory=dict)
    credentials: Credentials = Credentials()
    reset_command: tuple[str, ...] | None = None  # clears what scenarios wrote (run on this machine)
    outages: tuple[str, ...] = ("5xx",)           # the answers the target gives while a dependency is down

    def identity(self, kind: str) -> Identity | None:
        """The declared identity of ``kind`` (invoice, activation); None: not declared (checks are unknown)."""
        return self.identities.get(kind)

    def error_of(self, code: str | None, message: str | None) -> str | None:
        """The suite's error code for a refusal: the target's code mapped, else its message by pattern."""
        if code is not None:
            return self.error_codes.get(code, code)
        if message:
            for rule in self.error_patterns:
                if rule.pattern.search(message):
                    return rule.code
        return None

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
        return dataclasses.replace(self, run=dataclasses.replace(self.run, instances=tuple(urls)))
