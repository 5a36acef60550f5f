"""Can this target have this drill? The runbook's workloads and faults against the target's profile.

A scenario that needs what the target cannot give is skipped before it
starts (``chaos.target.needs``); a drill is the same: a runbook whose
workload calls an operation the target lacks, or whose fault the target
cannot have (a pause of an instance the suite has no container or pid of,
a link to a Redis the profile does not name), is refused with one line
before any load or fault, instead of failing halfway with a fault in force.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping

from chaos.drills import runbook as rb
from chaos.drills.workload import Workload
from chaos.nemesis.grammar import is_link
from chaos.target.model import TargetProfile
from chaos.target.needs import Needs, unmet

LINK_FAULTS = {"client": "client_link", "redis": "redis_link", "postgres": "postgres_link"}


def fault_needs(command: rb.Command) -> Iterator[str]:
    """The kinds of fault (``chaos.target.needs.FAULTS``) one runbook command needs the target to allow."""
    if isinstance(command, rb.Scale):
        yield "scale"
        if command.service == "worker":
            yield "workers"
        return
    if not isinstance(command, rb.FaultStart):
        return
    target = command.spec.target
    parties = target.split("->") if is_link(target) else [target]
    if is_link(target):
        party, dependency = parties
        yield LINK_FAULTS["client" if party == "client" else dependency]
    else:
        yield command.spec.kind
    if any(party.startswith("worker_") for party in parties):
        yield "workers"


def unmet_needs(runbook: rb.Runbook, profile: TargetProfile, workloads: Mapping[str, type[Workload]]) -> list[str]:
    """One sentence per thing the runbook needs that the target cannot give; empty when it can run."""
    sentences: list[str] = []
    for command in runbook.commands():
        if isinstance(command, rb.WorkloadStart):
            sentences += [f"workload {command.kind}: {reason}" for reason in workloads[command.kind].unmet(profile)
                          if f"workload {command.kind}: {reason}" not in sentences]
    faults = {kind for command in runbook.commands() for kind in fault_needs(command)}
    sentences += unmet(profile, Needs(faults=frozenset(faults)))
    return sentences


def refusal(runbook: rb.Runbook, profile: TargetProfile, workloads: Mapping[str, type[Workload]]) -> str | None:
    """Why the drill cannot run on this target (one line), or None."""
    sentences = unmet_needs(runbook, profile, workloads)
    if not sentences:
        return None
    return f"drill {runbook.name} cannot run on target {profile.name!r}: {'; '.join(sentences)}"
