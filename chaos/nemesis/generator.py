"""The nemesis generator: random fault schedules over every fault a target supports, single or overlapping.

Jepsen's nemeses pick a fault and a target at random; this one draws from
the faults the target allows (its ``needs`` fault kinds), over its real
instance names, with durations that matter for this stack: a pause long
enough to outlive a lock's expiry (``pause_s``), a kill healed by a restart,
a reset on an instance's client link after some bytes (the reply cut after
commit). Every step is healed when its window ends, and every window is
recorded in the history by the ``Nemesis`` that plays it.
"""
from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from chaos.nemesis.fault import Fault
from chaos.nemesis.link_faults import Partition, Toxic, latency, reset_peer
from chaos.nemesis.data_faults import Exhaust, Forget
from chaos.nemesis.process_faults import Disconnect, Kill, Pause, Restart
from chaos.nemesis.schedule import Schedule, Step


@dataclass(frozen=True)
class Topology:
    """What a schedule may fault: instance names, and the fault kinds (``chaos.target.needs.FAULTS``)
    the target allows."""

    apis: tuple[str, ...]
    workers: tuple[str, ...] = ()
    allowed: frozenset[str] = frozenset()
    families: tuple[str, ...] = ()     # Redis key families ``forget`` may delete (the profile's redis_keys)


def candidates(topology: Topology, rng: random.Random) -> list[list[Fault]]:
    """The faults the topology allows, in classes: the client's links, the links to each dependency,
    pauses, kills, disconnects, the data layer (restarts, a key family forgotten, the database's
    connections exhausted); one instance of each fault on a random target. A schedule draws a class
    first, so a kind with few variants (a worker killed) is drawn as often as one with many (the
    client's link toxics), and the rare crash is not drowned by the many slow links."""
    apis, workers, allowed = list(topology.apis), list(topology.workers), topology.allowed
    classes: list[list[Fault]] = []
    if "client_link" in allowed and apis:
        classes.append([reset_peer(f"client->{rng.choice(apis)}", after_ms=0),
                        Toxic(f"client->{rng.choice(apis)}", "limit_data", {"bytes": rng.choice([64, 128])}),
                        latency(f"client->{rng.choice(apis)}", ms=rng.choice([200, 500]), jitter_ms=100)])
    for dependency in ("redis", "postgres"):
        if f"{dependency}_link" in allowed:
            parties = apis + (workers if "workers" in allowed else [])
            if parties:
                classes.append([latency(f"{rng.choice(parties)}->{dependency}", ms=rng.choice([50, 300]),
                                        jitter_ms=50),
                                Partition(f"{rng.choice(parties)}->{dependency}")])
    if "pause" in allowed:
        paused = apis + (workers if "workers" in allowed else [])
        if paused:
            classes.append([Pause(rng.choice(paused))])
    if "kill" in allowed and "workers" in allowed and workers:
        classes.append([Kill(rng.choice(workers))])
    if "disconnect" in allowed and apis:
        classes.append([Disconnect(rng.choice(apis))])
    # the data layer, one class: what production loses most invoices to
    data: list[Fault] = []
    if "restart" in allowed:
        data += [Restart("redis"), Restart("postgres")]
    if "forget" in allowed and topology.families:
        data.append(Forget(rng.choice(topology.families)))
    if "exhaust" in allowed:
        data.append(Exhaust())
    if data:
        classes.append(data)
    return classes


def generate(seed: int, topology: Topology, *, total_s: float, faults: int, overlap: bool = True,
             min_s: float = 1.0, max_s: float = 6.0, pause_s: tuple[float, float] = (6.0, 14.0)) -> Schedule:
    """``faults`` steps over ``total_s`` seconds; with ``overlap`` a step may begin while another runs.
    No two overlapping steps share a target (one link cannot hold two toxics of one name)."""
    rng = random.Random(f"nemesis:{seed}")
    steps: list[Step] = []
    for _ in range(faults):
        classes = candidates(topology, rng)
        if not classes:
            break
        fault = rng.choice(rng.choice(classes))
        low, high = pause_s if fault.kind == "pause" else (min_s, max_s)
        duration = rng.uniform(low, max(low, min(high, total_s * 0.6)))
        if overlap or not steps:
            at = rng.uniform(0.0, max(total_s - duration, 0.0))
        else:
            at = steps[-1].at_s + steps[-1].duration_s + rng.uniform(0.5, 2.0)
            if at + duration > total_s:
                continue   # no room after the last step; moving it earlier would overlap that step
        step = Step(round(at, 3), round(duration, 3), fault)
        if any(s.fault.target == fault.target and _overlaps(s, step) for s in steps):
            continue
        steps.append(step)
    return sorted(steps, key=lambda s: s.at_s)


def _overlaps(a: Step, b: Step) -> bool:
    return a.at_s < b.at_s + b.duration_s and b.at_s < a.at_s + a.duration_s


def allowed_faults(profile_faults: Iterable[str], missing: Sequence[str]) -> frozenset[str]:
    """The fault kinds named, less those the target cannot have."""
    return frozenset(profile_faults) - frozenset(missing)
