"""``chaos load``: a Locust profile headless against a running target, optionally under held faults.

The target is the stack of `chaos up` (its lb) unless ``--host`` names
another URL; ``--target`` says how to drive it (billing's profile unless
another is named), so a profile's users work against any service whose
profile offers their operations. Faults need the stack: with ``--host`` and
no ``--fault`` no stack is looked for.
"""
from __future__ import annotations

import time
from pathlib import Path

import click
from rich.console import Console

from chaos.cli_errors import one_line_errors
from chaos.cli_faults import planned_faults
from chaos.cluster.controller import running_cluster
from chaos.load import PROFILES, run_load
from chaos.nemesis.grammar import parse_spec
from chaos.target import DEFAULT_PROFILE

console = Console(highlight=False, soft_wrap=True)  # paths and URLs stay whole for copying


@click.command()
@click.argument("profile", type=click.Choice(sorted(PROFILES)))
@click.option("--target", "target_profile", default=DEFAULT_PROFILE, show_default=True, metavar="PROFILE",
              help="the target profile: a shipped one's name or a YAML path")
@click.option("--host", default=None, metavar="URL", help="the running target (default: the lb of `chaos up`'s stack)")
@click.option("--users", type=click.IntRange(1, 1000), default=None, help="simulated users (default: the profile's)")
@click.option("--spawn-rate", type=click.FloatRange(0.1, 500), default=None, help="users started per second")
@click.option("--duration", type=click.IntRange(1, 3600), default=None, help="seconds (default: the profile's)")
@click.option("--fault", "faults", multiple=True, metavar="'KIND TARGET [K=V]'",
              help="a fault held during the middle third of the load (repeatable; needs the stack)")
@click.option("--report-dir", default="reports", show_default=True, type=click.Path(path_type=Path))
@one_line_errors
def load(profile: str, target_profile: str, host: str | None, users: int | None, spawn_rate: float | None,
         duration: int | None, faults: tuple[str, ...], report_dir: Path) -> None:
    """Run a Locust load profile headless against a target; CSV and HTML go to the report folder.

    Profiles (scenarios/load/): browse (the seed's locustfile: browse and
    subscribe), realistic (NormalUser 8 : PowerUser 2), distributed (500
    users, 50/s). The users call the target's operations through its
    profile; a task whose operations the target lacks is left out (the log
    says which). Bounded by --duration; a fault given with --fault is held
    for the middle third of it and healed.

    \b
    Example:
      chaos load realistic --users 50 --duration 60
      chaos load browse --duration 90 --fault 'latency api_1:postgres ms=200'
      chaos load browse --target ./my-service.yaml --host http://127.0.0.1:5001
    """
    from chaos.nemesis.runner import Nemesis
    from chaos.nemesis.schedule import Step

    for text in faults:
        parse_spec(text.split())
    seconds = duration or PROFILES[profile].duration_s
    out_dir = report_dir / f"load-{time.strftime('%Y%m%d-%H%M%S')}-{profile}"

    def measure(url: str) -> None:
        result = run_load(profile, url, target=target_profile, users=users, spawn_rate=spawn_rate,
                          duration_s=seconds, out_dir=out_dir, progress=console.print)
        p95 = f"{result.p95_ms:.0f} ms" if result.p95_ms is not None else "n/a"
        console.print(f"{result.requests} requests, {result.failures} failures ({result.failure_ratio:.1%}), "
                      f"average {result.avg_ms:.0f} ms, p95 {p95}, {result.requests_per_s:.1f} req/s")
        console.print(f"report: {result.html}")

    if host is not None and not faults:
        measure(host)
        return
    cluster = running_cluster()
    parsed = planned_faults(cluster, [text.split() for text in faults])
    nemesis = Nemesis(cluster, lambda event, fault: console.print(f"  fault {event}: {' '.join(map(str, fault.values()))}"))
    nemesis.run([Step(seconds / 3, seconds / 3, f) for f in parsed])
    try:
        measure(host or cluster.lb_url)
    finally:
        nemesis.heal()
