"""Between two runs on one target: links healed, nothing paused, the scale restored, the data cleared.

Scenarios reset through these between tests, and a hunt between its tries
(a shrink re-runs on the same cluster), so both start from the same state.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chaos.cluster.controller import Cluster
    from chaos.cluster.running import RunningTarget
    from chaos.target.client import TargetClient

    Target = Cluster | RunningTarget


def restore(target: "Target", api: int, workers: int) -> list[str]:
    """Links healed, nothing paused, every container running and answering, the scale restored
    (containers only). Returns what the reset had to do beyond healing, for the report: an instance
    that runs but no longer answers was left broken by what ran before, and is restarted so that one
    stuck instance does not fail every later scenario with it."""
    from chaos.nemesis.heal import heal

    if target.kind == "running":
        assert target.toxiproxy is not None
        target.toxiproxy.reset()
        heal(target)  # a paused or killed instance the profile lets us fault is resumed or restarted
        return []

    heal(target)  # whatever a scenario left: links, paused, stopped or disconnected instances
    stuck = stuck_instances(target)
    for name in stuck:
        target.restart(name)
    target.scale("api", api)
    if target.has_workers:
        target.scale("worker", workers)
    target.wait_healthy(target.containers())
    return [f"{name} ran but did not answer {HEALTH_PATH} within {ANSWER_S:.0f} s after the heal; restarted"
            for name in stuck]


HEALTH_PATH = "/healthz"
ANSWER_S = 5.0


def stuck_instances(cluster: "Cluster") -> list[str]:
    """The api instances that run but do not answer their health check (any status counts as an
    answer: an instance that lost a dependency may say 503, which is not stuck)."""
    import requests

    stuck = []
    for name, url in cluster.api_urls().items():
        try:
            requests.get(url + HEALTH_PATH, timeout=ANSWER_S)
        except requests.RequestException:
            stuck.append(name)
    return stuck


def clear_data(admin: "TargetClient") -> str | None:
    """Clear what earlier scenarios wrote: the ``reset`` operation where the target offers one, else the
    profile's reset command (a rate limiter's keys, say); else say why not (for the report). Scenarios
    use fresh users and periods, so uncleared data does not change a verdict."""
    if admin.offers("reset"):
        reply = admin.call("reset")
        assert reply.ok, f"reset failed: {reply.status} {reply.body!r}"
        return None
    if admin.profile.reset_command is not None:
        from chaos.target.setup import run_reset_command

        run_reset_command(admin.profile.reset_command)
        return None
    return f"data not cleared: target {admin.profile.name!r} lacks operation reset and has no reset command"
