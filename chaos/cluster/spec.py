"""The services of docker-compose.chaos.yaml, read as the compose CLI would.

The controller creates containers itself (it must wire Toxiproxy links per
instance, which compose cannot), but from the same file a person runs by
hand, so the two never drift apart. Only what that file uses is supported:
image, command, environment (with ``${VAR:-default}``), labels, tmpfs, mem_limit,
ports, healthcheck, network aliases.
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chaos.provision.pipeline import ROOT

COMPOSE_FILE = ROOT / "docker-compose.chaos.yaml"
TOXIPROXY_SEED = "CHAOS_TOXIPROXY_SEED"  # read by ``python -m chaos.toxiproxy`` in the toxiproxy service

_VARIABLE = re.compile(r"\$\$|\$\{(\w+)(?::-([^}]*))?\}")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m)$")


def compose_environment(environment: Mapping[str, str], seed: int | None,
                        base: Mapping[str, str] | None = None) -> dict[str, str]:
    """What a run reads the compose file with: the process's environment (``base``), the run's own
    variables over it, and its seed for the fault proxy. The seed is how a ``--chaos-seed`` run's
    proxy randomness (jitter, toxicity, slicing) is replayed; without one the proxy draws its own."""
    environ = {**(os.environ if base is None else base), **environment}
    if seed is not None:
        environ[TOXIPROXY_SEED] = str(seed)
    return environ


def interpolate(value: str, environ: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group(1), match.group(2)
        return environ.get(name) or (default if default is not None else "")
    return _VARIABLE.sub(replace, value)


def _interpolate_all(node: Any, environ: dict[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, environ)
    if isinstance(node, list):
        return [_interpolate_all(item, environ) for item in node]
    if isinstance(node, dict):
        return {key: _interpolate_all(item, environ) for key, item in node.items()}
    return node


def nanoseconds(duration: str) -> int:
    match = _DURATION.match(duration)
    if not match:
        raise ValueError(f"cannot read the duration {duration!r}")
    scale = {"ms": 1e6, "s": 1e9, "m": 60e9}[match.group(2)]
    return int(float(match.group(1)) * scale)


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    image: str
    command: list[str]
    environment: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    tmpfs: tuple[str, ...] = ()
    container_ports: tuple[int, ...] = ()
    healthcheck: dict[str, Any] | None = None
    mem_limit: str | None = None          # e.g. "512m": beyond it the kernel kills a process of it

    def sdk_healthcheck(self) -> dict[str, Any] | None:
        """The healthcheck in the Docker API's units (nanoseconds)."""
        if self.healthcheck is None:
            return None
        check = self.healthcheck
        return {"test": check["test"], "interval": nanoseconds(check.get("interval", "30s")),
                "timeout": nanoseconds(check.get("timeout", "30s")), "retries": int(check.get("retries", 3))}


def merged_services(paths: list[Path]) -> dict[str, dict[str, Any]]:
    """The services of several compose files, later files overriding earlier ones key by key
    (as ``docker compose -f base -f override`` does for the keys used here)."""
    services: dict[str, dict[str, Any]] = {}
    for path in paths:
        try:
            document = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"cannot read the compose file {path}: {exc}") from exc
        if not isinstance(document, dict) or not isinstance(document.get("services"), dict):
            raise ValueError(f"{path} has no 'services' mapping")
        for name, body in document["services"].items():
            services.setdefault(name, {}).update(body or {})
    return services


def load_services(path: Path, environ: dict[str, str] | None = None,
                  overrides: tuple[Path, ...] = ()) -> dict[str, ServiceSpec]:
    """The stack's services; ``overrides`` (``--chaos-target``) may put another service in billing's place."""
    document = {"services": merged_services([path, *overrides])}
    document = _interpolate_all(document, dict(os.environ if environ is None else environ))
    services = {}
    for name, body in document["services"].items():
        ports = tuple(int(str(p).rsplit(":", 1)[-1]) for p in body.get("ports", []))
        services[name] = ServiceSpec(
            name=name, image=body["image"], command=list(body["command"]),
            environment={k: str(v) for k, v in (body.get("environment") or {}).items()},
            labels=dict(body.get("labels") or {}), tmpfs=tuple(body.get("tmpfs", ())),
            container_ports=ports, healthcheck=body.get("healthcheck"),
            mem_limit=str(body["mem_limit"]) if body.get("mem_limit") else None)
    return services
