"""Where a fault schedule can hurt the workload: the rounds a hunt aims at its faults.

A random workload under a random schedule meets the classic dangers only by
luck: a worker killed while it runs a task, a lock holder stalled past its
lock's expiry while someone else takes the lock. So each scheduled fault
turns the rounds around it into the rounds it can hurt (Jepsen composes its
workload and nemesis on one timeline for the same reason):

- a worker killed or paused: the round just before sends async invoices from
  every lane, each for its own (user, period), so tasks are running when the
  worker stops and a task lost with it is the only one of its invoice;
- an api instance paused or cut off: the round just before puts a slow
  invoice holder on that instance, and two rounds while it is held revisit
  the same (user, period) — one halfway, one just before it comes back, so
  a lock of any expiry shorter than the stall has run out by one of them.

The aims are data in the plan's parameters, so a reproduction replays them.
"""
from __future__ import annotations

from chaos.nemesis.generator import Topology
from chaos.nemesis.schedule import Schedule
from chaos.workload.generator import Aim, WorkloadParams

WORKER_LEAD_S = 0.5    # the tasks are picked up and running when the worker stops
HOLDER_LEAD_S = 1.0    # the holder has its lock and is inside its hold when the instance stalls
REVISIT_BEFORE_END_S = 0.7


def aims(schedule: Schedule, topology: Topology, params: WorkloadParams) -> tuple[Aim, ...]:
    found: list[Aim] = []   # later aims take a round an earlier one took: overlapping faults share
    apis = list(topology.apis)
    for step in schedule:
        kind, target = step.fault.kind, step.fault.target
        if target in topology.workers and kind in {"kill", "pause"}:
            found.append(Aim(_round_at(step.at_s - WORKER_LEAD_S, params), "invoice_async"))
        elif target in apis and kind in {"pause", "disconnect"}:
            index = _round_at(step.at_s - HOLDER_LEAD_S, params)
            found.append(Aim(index, "invoice", (apis.index(target) - index) % len(apis)))
            for at in (step.at_s + step.duration_s / 2, step.at_s + step.duration_s - REVISIT_BEFORE_END_S):
                found.append(Aim(_round_at(at, params), "invoice_again", of=index))
    return tuple(found)


def _round_at(at_s: float, params: WorkloadParams) -> int:
    return min(max(int(at_s / params.pace_s), 0), params.rounds - 1)
