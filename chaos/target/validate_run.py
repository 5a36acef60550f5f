"""Validating how a target runs (containerised or already running) and how its admin gets a token.

Both decide what the suite may do to the target: the dependencies named
here are where the controller puts Toxiproxy links, and an admin command
needs a container only when the suite started one.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from chaos.target.loopback import url_problem
from chaos.target.model import DEPENDENCIES, Admin, AdminCommand, AdminLogin, Containerised, Run, Running
from chaos.target.problems import ABSENT, Problems

ADMIN_KEYS = ("login", "command", "service")
RUN_KEYS = ("containerised", "running")
CONTAINERISED_KEYS = ("compose", "api_service", "worker_service", "port", "dependencies", "instance_env")
ENV_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def admin(problems: Problems, node: Any, run: Run | None, mapped: frozenset[str]) -> Admin | None:
    known = problems.mapping(node, "admin", ADMIN_KEYS)
    if known is None:
        return None
    if ("login" in known) == ("command" in known):
        problems.add("admin", "give exactly one of login: {email, password} (through admin_login) or "
                     "command: [...] (its stdout is the token)")
        return None
    if "login" in known:
        if "service" in known:
            problems.add("admin.service", "only a command runs in a service; login goes through admin_login")
        login = problems.mapping(known["login"], "admin.login", ("email", "password"))
        if login is None:
            return None
        email = problems.text(login, "email", "admin.login", what="the admin's login name or email")
        password = problems.text(login, "password", "admin.login", what="the admin's password")
        if "admin_login" not in mapped:
            problems.add("admin.login", "needs operations.admin_login (the route the admin logs in through)")
        return AdminLogin(email, password) if email and password else None
    command = known["command"]
    if not isinstance(command, list) or not command or not all(isinstance(c, str) for c in command):
        problems.add("admin.command", "must be a non-empty list of strings (argv), e.g. [flask, admin-token]")
        return None
    service = problems.text(known, "service", "admin", default=None, nullable=True, what="a compose service name")
    if isinstance(run, Running) and service is not None:
        problems.add("admin.service", "an already-running target's admin command runs on this machine; "
                     "remove service")
    if isinstance(run, Containerised) and service is None:
        service = run.api_service
    return AdminCommand(tuple(command), service)


def run(problems: Problems, node: Any, source: Path | None) -> Run | None:
    if node is ABSENT:
        problems.add("run", "required: containerised: {...} (the suite starts it) or running: {instances: [...]}")
        return None
    known = problems.mapping(node, "run", RUN_KEYS)
    if known is None:
        return None
    if len(known) != 1:
        problems.add("run", "give exactly one of containerised or running")
        return None
    if "running" in known:
        running = problems.mapping(known["running"], "run.running", ("instances",))
        if running is None:
            return None
        urls = running.get("instances")
        if not isinstance(urls, list) or not urls:
            problems.add("run.running.instances", "required: a non-empty list of URLs such as http://127.0.0.1:5001")
            return None
        for i, url in enumerate(urls):
            if (why := url_problem(url)) is not None:
                problems.add(f"run.running.instances[{i}]", why)
            elif urls.index(url) != i:
                problems.add(f"run.running.instances[{i}]", f"{url} is listed twice")
        return Running(tuple(str(u) for u in urls))
    field = "run.containerised"
    spec = problems.mapping(known["containerised"] or {}, field, CONTAINERISED_KEYS)
    if spec is None:
        return None
    compose = problems.text(spec, "compose", field, default=None, nullable=True, what="a compose override file")
    compose_path = None
    if compose is not None:
        compose_path = Path(compose) if Path(compose).is_absolute() or source is None else source.parent / compose
        if not compose_path.is_file():
            problems.add(f"{field}.compose", f"no such file {str(compose_path)!r} (relative paths start at the "
                         "profile's folder)")
    api_service = problems.text(spec, "api_service", field, default="api", what="a compose service name")
    worker_service = problems.text(spec, "worker_service", field, default=None, nullable=True,
                                   what="a compose service name")
    if worker_service is not None and worker_service == api_service:
        problems.add(f"{field}.worker_service", "must differ from api_service")
    port = spec.get("port", 8000)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        problems.add(f"{field}.port", f"must be a port number 1-65535 (the api's port in its container), not {port!r}")
    instance_env = problems.text(spec, "instance_env", field, default="INSTANCE_NAME", nullable=True,
                                 pattern=ENV_VAR, what="an environment variable name")
    dependencies = _dependencies(problems, spec.get("dependencies") or {}, f"{field}.dependencies")
    return Containerised(compose_path, api_service or "api", worker_service, port if isinstance(port, int) else 8000,
                         dependencies, instance_env)


def _dependencies(problems: Problems, node: Any, field: str) -> dict[str, tuple[str, ...]]:
    known = problems.mapping(node, field, DEPENDENCIES)
    if known is None:
        return {}
    found = {}
    for dependency, names in known.items():
        if not isinstance(names, list) or not names:
            problems.add(f"{field}.{dependency}", "must be a non-empty list of environment variable names "
                         "(those holding its URL, e.g. [DATABASE_URL])")
            continue
        for i, name in enumerate(names):
            if not isinstance(name, str) or not ENV_VAR.match(name):
                problems.add(f"{field}.{dependency}[{i}]", f"{name!r} is not an environment variable name")
        found[dependency] = tuple(str(n) for n in names)
    return found
