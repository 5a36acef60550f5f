"""Validating how a target runs (containerised or already running) and how its admin gets a token.

Both decide what the suite may do to the target: the dependencies named
here are where the controller puts Toxiproxy links, and an admin command
needs a container only when the suite started one.

An already-running target (``run.running``; every key but ``instances`` may
be left out)::

    run:
      running:
        instances: [http://127.0.0.1:5001, http://127.0.0.1:5002]   # api_1, api_2 (loopback only)
        proxy_port_base: 21000       # where the dependency links listen, unless listen gives ports:
                                     # api_i->postgres on base + 2(i-1), api_i->redis on base + 2(i-1) + 1
        dependencies:                # redis / postgres: the real one, and the variables that carry it
          redis:                     # the suite makes api_i->redis links to it, so they can be faulted
            url: redis://127.0.0.1:6379/0          # or address: 127.0.0.1:6379
            env: [REDIS_URL, CELERY_BROKER_URL]    # each gets the url with the link's host:port
            listen: [16379, 16380]   # optional: the link's port for api_1, api_2
          postgres: 127.0.0.1:5432   # short form: an address (or a URL); no variables
        processes:                   # optional, per api_N (or redis, postgres): how to find the pid
          api_1: {pid_file: run/api_1.pid, restart: [sh, -c, "gunicorn ... -p run/api_1.pid &"]}
          api_2: {pid_command: [cat, /tmp/api_2.pid], tree: true}

The instances must be started *before* the run with the link addresses
``chaos target env PROFILE [--instance N]`` prints (the links exist only while
the suite runs: until then the instances' dependencies are unreachable).
Links make redis_link / postgres_link faults possible; ``processes`` makes
pause (SIGSTOP/SIGCONT), kill (SIGKILL) and restart possible for the
processes named, with their descendants unless ``tree: false``; healing a
kill runs ``restart`` detached, with the instance's ``chaos target env``
variables (no restart: kill is refused). Relative pid_file paths start at
the profile's folder; a pid_command prints one or more pids. Nothing is ever
signalled by name.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chaos.target.loopback import url_problem
from chaos.target.model import (DEPENDENCIES, Admin, AdminCommand, AdminLogin, Containerised, Run, Running,
                                RunningDependency, RunningProcess)
from chaos.target.problems import ABSENT, Problems, kind

ADMIN_KEYS = ("login", "command", "service")
RUN_KEYS = ("containerised", "running")
CONTAINERISED_KEYS = ("compose", "api_service", "worker_service", "port", "dependencies", "instance_env", "redis_keys")
RUNNING_KEYS = ("instances", "proxy_port_base", "dependencies", "processes")
DEPENDENCY_KEYS = ("url", "address", "env", "listen")
PROCESS_KEYS = ("pid_file", "pid_command", "restart", "tree")
DEFAULT_PORT_BASE = 21000
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
        return _running(problems, known["running"], source)
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
    keys = redis_keys(problems, spec.get("redis_keys"), f"{field}.redis_keys")
    return Containerised(compose_path, api_service or "api", worker_service, port if isinstance(port, int) else 8000,
                         dependencies, instance_env, keys)


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


def _running(problems: Problems, node: Any, source: Path | None) -> Running | None:
    field = "run.running"
    running = problems.mapping(node, field, RUNNING_KEYS)
    if running is None:
        return None
    urls = running.get("instances")
    if not isinstance(urls, list) or not urls:
        problems.add(f"{field}.instances", "required: a non-empty list of URLs such as http://127.0.0.1:5001")
        return None
    for i, url in enumerate(urls):
        if (why := url_problem(url)) is not None:
            problems.add(f"{field}.instances[{i}]", why)
        elif urls.index(url) != i:
            problems.add(f"{field}.instances[{i}]", f"{url} is listed twice")
    base = running.get("proxy_port_base", DEFAULT_PORT_BASE)
    if not _is_port(base, low=1024):
        problems.add(f"{field}.proxy_port_base", f"must be a port number 1024-65535, not {base!r}")
        base = DEFAULT_PORT_BASE
    dependencies = {}
    given = problems.mapping(running.get("dependencies") or {}, f"{field}.dependencies", DEPENDENCIES)
    for name, spec in (given or {}).items():
        found = _running_dependency(problems, spec, f"{field}.dependencies.{name}", len(urls))
        if found is not None:
            dependencies[name] = found
    names = tuple(f"api_{i}" for i in range(1, len(urls) + 1))
    processes = {}
    given = running.get("processes") or {}
    if not isinstance(given, dict):
        problems.add(f"{field}.processes", f"must be a mapping of {', '.join(names)}, redis or postgres to "
                     "{pid_file: ...} or {pid_command: [...]}")
        given = {}
    for name, spec in given.items():
        if name not in (*names, *DEPENDENCIES):
            problems.add(f"{field}.processes.{name}", f"no such process: the instances are {', '.join(names)} (in "
                         "instances order); redis and postgres may be named too")
            continue
        found = _running_process(problems, spec, f"{field}.processes.{name}", source)
        if found is not None:
            processes[str(name)] = found
    result = Running(tuple(str(u) for u in urls), dependencies, processes, base)
    if len(urls) == len(set(urls)):
        _distinct_ports(problems, result, field)
    return result


def _running_dependency(problems: Problems, node: Any, field: str, instances: int) -> RunningDependency | None:
    if isinstance(node, str):
        node = {"url": node} if "://" in node else {"address": node}
    known = problems.mapping(node, field, DEPENDENCY_KEYS)
    if known is None:
        return None
    if ("url" in known) == ("address" in known):
        problems.add(field, "give exactly one of url: (e.g. redis://127.0.0.1:6379/0) or address: host:port")
        return None
    url = known.get("url")
    if url is not None:
        address = _address_of_url(url)
        if address is None:
            problems.add(f"{field}.url", f"{url!r} is not a URL with a host and a port, e.g. "
                         "postgresql://user:secret@127.0.0.1:5432/app")
            return None
    else:
        address = known["address"]
        if not isinstance(address, str) or _address_of_url(f"tcp://{address}") is None:
            problems.add(f"{field}.address", f"must be host:port (e.g. 127.0.0.1:6379), not {address!r}")
            return None
    env = known.get("env", [])
    if not isinstance(env, list) or not all(isinstance(n, str) and ENV_VAR.match(n) for n in env):
        problems.add(f"{field}.env", f"must be a list of environment variable names, not {env!r}")
        env = []
    listen = known.get("listen", [])
    if not isinstance(listen, list) or not all(_is_port(p) for p in listen) or listen and len(listen) != instances:
        problems.add(f"{field}.listen", f"must be a list of {instances} port number(s), one per instance in "
                     f"instances order, not {listen!r}")
        listen = []
    return RunningDependency(address, url, tuple(env), tuple(listen))


def _running_process(problems: Problems, node: Any, field: str, source: Path | None) -> RunningProcess | None:
    known = problems.mapping(node, field, PROCESS_KEYS)
    if known is None:
        return None
    if ("pid_file" in known) == ("pid_command" in known):
        problems.add(field, "give exactly one of pid_file: <path> or pid_command: [argv] (prints the pid)")
        return None
    pid_file = None
    if "pid_file" in known:
        text = known["pid_file"]
        if not isinstance(text, str) or not text.strip():
            problems.add(f"{field}.pid_file", f"must be a path, not {text!r}")
            return None
        pid_file = Path(text) if Path(text).is_absolute() or source is None else source.parent / text
    command = _argv(problems, known.get("pid_command"), f"{field}.pid_command") if "pid_command" in known else ()
    restart = _argv(problems, known.get("restart"), f"{field}.restart") if "restart" in known else ()
    tree = known.get("tree", True)
    if not isinstance(tree, bool):
        problems.add(f"{field}.tree", f"must be true or false, not {tree!r}")
        tree = True
    if "pid_command" in known and not command:
        return None
    return RunningProcess(pid_file, command, restart, tree)


def _argv(problems: Problems, node: Any, field: str) -> tuple[str, ...]:
    if not isinstance(node, list) or not node or not all(isinstance(c, str) for c in node):
        problems.add(field, f"must be a non-empty list of strings (argv), not {node!r}")
        return ()
    return tuple(node)


def _address_of_url(url: Any) -> str | None:
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname or port is None:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{host}:{port}"


def _is_port(value: Any, low: int = 1) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= 65535


def _distinct_ports(problems: Problems, running: Running, field: str) -> None:
    """Every dependency link needs a port of its own, within range."""
    seen: dict[int, str] = {urlsplit(url).port or 0: f"instance {name}" for name, url in zip(running.names,
                                                                                       running.instances)}
    for instance in running.names:
        for dependency in sorted(running.dependencies):
            port = running.link_port(instance, dependency)
            link = f"{instance}->{dependency}"
            where = f"{field}.dependencies.{dependency}.listen" if running.dependencies[dependency].listen \
                else f"{field}.proxy_port_base"
            if port > 65535:
                problems.add(where, f"{link} would listen on {port}, beyond 65535; lower proxy_port_base")
            elif port in seen:
                problems.add(where, f"{link} and {seen[port]} would both listen on {port}")
            seen.setdefault(port, link)


REDIS_KEY = re.compile(r"^(?P<db>\d{1,2})/(?P<pattern>\S+)$")
FAMILY = re.compile(r"^[a-z][a-z0-9_]*$")


def redis_keys(problems: Problems, node: Any, where: str) -> dict[str, tuple[tuple[int, str], ...]]:
    """``redis_keys``: family -> ["db/pattern", ...], the keys ``forget <family>`` deletes while Redis runs."""
    if node is None:
        return {}
    if not isinstance(node, dict):
        problems.add(where, f"must be a mapping of family -> list of \"db/pattern\", not {kind(node)}")
        return {}
    families: dict[str, tuple[tuple[int, str], ...]] = {}
    for family, entries in node.items():
        field = f"{where}.{family}"
        if not isinstance(family, str) or not FAMILY.match(family):
            problems.add(field, "a family is a lower-case name (letters, digits, _), e.g. locks")
            continue
        if not isinstance(entries, list) or not entries:
            problems.add(field, "must be a non-empty list of \"db/pattern\", e.g. [\"0/lock:*\"]")
            continue
        keys = []
        for i, entry in enumerate(entries):
            match = REDIS_KEY.match(entry) if isinstance(entry, str) else None
            if match is None or int(match["db"]) > 15:
                problems.add(f"{field}[{i}]", f"must be \"db/pattern\" with db 0-15 (e.g. \"1/celery\"), not {entry!r}")
                continue
            keys.append((int(match["db"]), match["pattern"]))
        families[family] = tuple(keys)
    return families
