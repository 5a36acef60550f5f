"""What a scenario needs of a target, and the reason it is skipped when the target cannot give it.

A scenario declares the operations it calls and the faults it injects; the
plugin compares them with the profile before the scenario starts, so a
target without async invoices skips the worker scenarios with "target
'shop' lacks generate_invoice_async", instead of failing on a 404 halfway
through a fault window. Faults depend on how the target runs: the suite can
pause, kill, disconnect and scale only containers it started, and link an
instance to Redis or PostgreSQL only through the environment variables the
profile names. An already-running target gets dependency links for the
dependencies its profile names (run.running.dependencies) and process faults
for the processes it says how to find (run.running.processes).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from chaos.target.model import Running, TargetProfile
from chaos.target.operations import NAMES, spec

# Kinds of fault a scenario may need (not the nemesis's classes: what the target must allow).
FAULTS: dict[str, str] = {
    "client_link": "toxics or a partition on client->api_i (the host's way to one instance)",
    "redis_link": "toxics or a partition on api_i->redis / worker_j->redis",
    "postgres_link": "toxics or a partition on api_i->postgres / worker_j->postgres",
    "pause": "docker pause of an instance",
    "kill": "SIGKILL of an instance",
    "restart": "SIGKILL and start again at once of an instance, Redis or PostgreSQL (Redis comes back empty)",
    "forget": "Redis deleting one family of keys while it runs (run.containerised.redis_keys)",
    "exhaust": "every free PostgreSQL connection taken and held",
    "disconnect": "an instance leaving the network",
    "scale": "more or fewer api or worker instances",
    "workers": "worker instances the suite controls",
}
_CONTAINER_FAULTS = frozenset({"pause", "kill", "restart", "forget", "exhaust", "disconnect", "scale",
                               "redis_link", "postgres_link", "workers"})


@dataclass(frozen=True)
class Needs:
    """A scenario's declaration; unknown names are a ValueError at import time, not a silent skip."""

    operations: frozenset[str] = frozenset()
    faults: frozenset[str] = frozenset()
    params: frozenset[str] = frozenset()   # "operation.param" the target must carry, e.g. "activate.key"

    def __post_init__(self) -> None:
        for name in ("operations", "faults", "params"):
            object.__setattr__(self, name, frozenset(getattr(self, name)))
        bad = [f"unknown operation(s) {sorted(self.operations - NAMES)}; the operations are {sorted(NAMES)}"] * \
            bool(self.operations - NAMES)
        bad += [f"unknown fault(s) {sorted(self.faults - set(FAULTS))}; the faults are {sorted(FAULTS)}"] * \
            bool(self.faults - set(FAULTS))
        for param in sorted(self.params):
            operation, _, name = param.partition(".")
            if operation not in NAMES or spec(operation).param(name) is None:
                bad.append(f"{param!r} is not operation.parameter (e.g. activate.key)")
        if bad:
            raise ValueError("; ".join(bad))

    @property
    def all_operations(self) -> frozenset[str]:
        """The operations named, including those whose parameters are needed."""
        return self.operations | {p.partition(".")[0] for p in self.params}


def needs_missing(profile: TargetProfile, operations: Iterable[str]) -> list[str]:
    """The operations asked for that the target lacks, in the order asked, each once."""
    missing: list[str] = []
    for name in operations:
        if name not in NAMES:
            raise ValueError(f"unknown operation {name!r}; the operations are {sorted(NAMES)}")
        if not profile.offers(name) and name not in missing:
            missing.append(name)
    return missing


def faults_missing(profile: TargetProfile, faults: Iterable[str]) -> dict[str, str]:
    """Each fault the suite cannot inject on this target, with the reason."""
    reasons: dict[str, str] = {}
    for fault in faults:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; the faults are {sorted(FAULTS)}")
        reason = _fault_reason(profile, fault)
        if reason is not None:
            reasons[fault] = reason
    return reasons


def unmet(profile: TargetProfile, needs: Needs) -> list[str]:
    """One sentence per unmet need; empty when the scenario can run."""
    sentences = []
    missing = needs_missing(profile, sorted(needs.all_operations))
    for name in missing:
        how = "declared in lacks" if name in profile.declared_lacks else "not mapped"
        sentences.append(f"target {profile.name!r} lacks operation {name} ({how})")
    for param in sorted(needs.params):
        operation, _, name = param.partition(".")
        if operation not in missing and not profile.sends(operation, name):
            where = "no idempotency_header and " if name == "key" and spec(operation).idempotent else ""
            sentences.append(f"target {profile.name!r} does not send {name} with {operation} ({where}no "
                             f"{{{name}}} placeholder in operations.{operation})")
    sentences += [f"target {profile.name!r} cannot have fault {fault}: {reason}"
                  for fault, reason in sorted(faults_missing(profile, needs.faults).items())]
    return sentences


def skip_reason(profile: TargetProfile, needs: Needs) -> str | None:
    """What ``pytest.skip`` should say, or None."""
    sentences = unmet(profile, needs)
    return "; ".join(sentences) if sentences else None


def _fault_reason(profile: TargetProfile, fault: str) -> str | None:
    run = profile.run
    if isinstance(run, Running):
        return _running_fault_reason(run, fault)
    if fault in ("redis_link", "postgres_link"):
        dependency = fault.split("_")[0]
        if not run.dependencies.get(dependency):
            return (f"the profile names no environment variable through which the target finds {dependency} "
                    f"(run.containerised.dependencies.{dependency})")
    if fault == "forget" and not run.redis_keys:
        return "the profile names no Redis key families (run.containerised.redis_keys)"
    if fault == "workers" and run.worker_service is None:
        return "the profile names no worker service (run.containerised.worker_service is null)"
    return None


_RUNNING_ONLY_CLIENT = ("the target is already running (run.running): the suite has no container of it, so no "
                        "{what}")


def _running_fault_reason(run: Running, fault: str) -> str | None:
    if fault in ("redis_link", "postgres_link"):
        dependency = fault.split("_")[0]
        if dependency not in run.dependencies:
            return (f"the target is already running (run.running) and its profile names no {dependency} to put "
                    f"links in front of (run.running.dependencies.{dependency})")
        return None
    if fault in ("pause", "kill"):
        missing = [name for name in run.names if name not in run.processes]
        if missing:
            return (f"the target is already running (run.running) and its profile does not say how to find the "
                    f"process of {', '.join(missing)} (run.running.processes.<instance>.pid_file or pid_command)")
        unrestartable = [name for name in run.names if not run.processes[name].restart]
        if fault == "kill" and unrestartable:
            return (f"the target is already running (run.running) and its profile gives no restart command for "
                    f"{', '.join(unrestartable)} (run.running.processes.<instance>.restart), so a killed instance "
                    "could not be started again")
        return None
    if fault in _CONTAINER_FAULTS:
        return _RUNNING_ONLY_CLIENT.format(what=FAULTS[fault])
    return None
