"""Between two runs on one target: links healed, nothing paused, the scale restored, the data cleared.

Scenarios reset through these between tests, and a hunt between its tries
(a shrink re-runs on the same cluster), so both start from the same state.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chaos.cluster.controller import Cluster
    from chaos.cluster.running import RunningTarget
    from chaos.target.client import TargetClient
    from chaos.target.model import TargetProfile

    Target = Cluster | RunningTarget


def restore(target: "Target", api: int, workers: int, profile: "TargetProfile | None" = None) -> list[str]:
    """Links healed, nothing paused, every container running, the scale restored (containers only), and
    (given the profile) every api instance well again. Returns what the reset had to do beyond healing,
    for the report: an instance whose health operation is still not ok ``WELL_S`` after the heal (stuck,
    or degraded by what a fault left behind in it) is restarted, so that one broken instance does not
    fail every later scenario, or the next try of a hunt, with it."""
    from chaos.nemesis.heal import heal

    if target.kind == "running":
        assert target.toxiproxy is not None
        target.toxiproxy.reset()
        heal(target)  # a paused or killed instance the profile lets us fault is resumed or restarted
        return []

    heal(target)  # whatever a scenario left: links, paused, stopped or disconnected instances
    unwell = unwell_instances(target, profile) if profile is not None else {}
    for name in unwell:
        target.restart(name)
    target.scale("api", api)
    if target.has_workers:
        target.scale("worker", workers)
    target.wait_healthy(target.containers())
    return [f"{name} was not well {WELL_S:.0f} s after the heal ({why}); restarted" for name, why in unwell.items()]


WELL_S = 10.0
CALL_S = 5.0
RESET_S = 60.0        # how long a reset without a definite answer is tried again
RESET_RETRY_S = 2.0


def unwell_instances(cluster: "Cluster", profile: "TargetProfile") -> dict[str, str]:
    """The api instances whose health operation is not ok within ``WELL_S`` (each call ``CALL_S`` at most),
    with their last answer."""
    from chaos.target import client as target_client

    unwell: dict[str, str] = {}
    for name, url in cluster.api_urls().items():
        deadline = time.monotonic() + WELL_S
        with target_client.TargetClient(profile, url, timeout_s=CALL_S) as client:
            while True:
                reply = client.call("health")
                if reply.outcome == "ok":
                    break
                if time.monotonic() > deadline:
                    unwell[name] = f"health {reply.status or 'no answer'}{', ' + reply.error if reply.error else ''}"
                    break
                time.sleep(0.5)
    return unwell


def clear_data(admin: "TargetClient") -> str | None:
    """Clear what earlier scenarios wrote: the ``reset`` operation where the target offers one, else the
    profile's reset command (a rate limiter's keys, say); else say why not (for the report). Scenarios
    use fresh users and periods, so uncleared data does not change a verdict."""
    if admin.offers("reset"):
        deadline = time.monotonic() + RESET_S
        while True:
            reply = admin.call("reset")
            if reply.ok or reply.outcome == "fail" or time.monotonic() > deadline:
                break
            # No definite answer (a 5xx, a timeout): what the last fault left may still hold the data,
            # e.g. a transaction of an instance that was cut off, until its connection resumes or ends.
            time.sleep(RESET_RETRY_S)
        assert reply.ok, f"reset failed: {reply.status} {reply.body!r}"
        return None
    if admin.profile.reset_command is not None:
        from chaos.target.setup import run_reset_command

        run_reset_command(admin.profile.reset_command)
        return None
    return f"data not cleared: target {admin.profile.name!r} lacks operation reset and has no reset command"
