"""``chaos drill list`` and ``chaos drill run NAME``: on-call drills from the command line.

A drill acts on real containers, so it asks first (or takes ``--yes``), and
only ever touches containers of the project (the cluster controller acts by
this run's labels). It uses the stack ``chaos up`` started when there is one
(and leaves it up, healed), else starts its own and removes it at the end.

``--target PROFILE`` drills another service through its profile: one that is
already running (``run.running``) gets our fault proxy in front of it
(``RunningTarget``, as ``chaos run --target`` does), and a drill it cannot
have is refused, naming what it lacks, before anything starts.
"""
from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from chaos.cli_errors import one_line_errors
from chaos.cluster.controller import Cluster, cli_owner
from chaos.drills.preflight import refusal
from chaos.drills.runbook import RUNBOOKS, Runbook, load, load_all
from chaos.drills.workloads import WORKLOADS
from chaos.target import DEFAULT_PROFILE, TargetProfile, load_profile
from chaos.target.model import Running

DEFAULT_API, DEFAULT_WORKERS = 3, 2   # small enough for 2 cores, enough for an instance to fail alone
DEFAULT_ENGINE = "unix:///var/run/docker.sock"


def stdin_is_tty() -> bool:
    return sys.stdin.isatty()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def drill() -> None:
    """On-call drills: a runbook narrated step by step against a real cluster, then judged.

    \b
    Example:
      chaos drill list
      chaos drill run api-cut-off-from-redis          # waits for Enter between steps
      chaos drill run worker-killed-mid-invoice --auto --yes   # unattended, for CI
      chaos drill run payment-answer-lost --target ./my-service.yaml --auto --yes
    """


@drill.command("list")
@one_line_errors
def list_drills() -> None:
    """The drills: name, title and situation.

    \b
    Example:
      chaos drill list
    """
    table = Table(title_justify="left")
    table.add_column("drill", no_wrap=True)
    table.add_column("title")
    table.add_column("situation")
    for name, runbook in load_all().items():
        table.add_row(name, runbook.title, runbook.headline)
    Console(highlight=False).print(table)


@drill.command("run")
@click.argument("name")
@click.option("--auto", is_flag=True, help="run unattended: no waiting between steps (CI)")
@click.option("--yes", is_flag=True, help="do not ask before faulting containers")
@click.option("--api", type=click.IntRange(1, 10), default=None,
              help=f"api instances of a cluster the drill starts (default {DEFAULT_API})")
@click.option("--workers", type=click.IntRange(1, 10), default=None,
              help=f"Celery workers of a cluster the drill starts (default {DEFAULT_WORKERS})")
@click.option("--report-dir", default="reports", show_default=True, type=click.Path(path_type=Path),
              help="where the drill's report goes")
@click.option("--keep", is_flag=True, help="leave a cluster the drill started up afterwards")
@click.option("--seed", type=int, default=None, help="replay a drill's workload choices")
@click.option("--target", "target_profile", default=None, metavar="PROFILE",
              help="the target profile: a shipped one's name or a YAML path (default: billing)")
@one_line_errors
def run_drill(name: str, auto: bool, yes: bool, api: int | None, workers: int | None, report_dir: Path,
              keep: bool, seed: int | None, target_profile: str | None) -> None:
    """Run the drill NAME: narrate each step, do it, then heal, check and print the verdict.

    Interactive by default: it waits for Enter before each step (q stops,
    heals and checks what ran). Uses the stack of `chaos up` if there is one
    and leaves it up, healed; otherwise it starts a cluster (about a minute)
    and removes it at the end unless --keep. With --target, a service that
    is already running is drilled through its profile's links; a drill it
    cannot have is refused before anything starts. Exits 0 only when the
    verdict is SAFE.

    \b
    Example:
      chaos drill run lock-holder-paused-past-expiry
      chaos drill run slow-database --auto --yes --report-dir reports
      chaos drill run payment-answer-lost --target ./my-service.yaml --auto --yes
    """
    runbook = find(name)
    profile = load_profile(target_profile or DEFAULT_PROFILE)
    refused = refusal(runbook, profile, WORKLOADS)
    if refused:
        raise click.ClickException(refused)
    if not auto and not stdin_is_tty():
        raise click.ClickException("an interactive drill needs a terminal; pass --auto to run it unattended")
    if not yes:
        if not stdin_is_tty():
            raise click.ClickException("no terminal to confirm on: pass --yes to fault containers without asking")
        if not click.confirm(f"{what_it_faults(profile)} Go on?", default=False):
            raise click.ClickException("nothing was done")
    console = Console(highlight=False)
    seed = seed if seed is not None else random.SystemRandom().randrange(1, 2**31)
    with target_for(console, profile, api, workers, keep, seed) as (cluster, how):
        from chaos.drills.engine import Drill

        result = Drill(runbook, cluster, console=console, auto=auto, seed=seed, report_dir=report_dir,
                       profile=profile, settings={"cluster": how, "target": profile.name,
                                                  "api": len(cluster.of("api")),
                                                  "workers": len(cluster.of("worker"))}).run()
    if not result.safe:
        sys.exit(1)


def find(name: str) -> Runbook:
    """The runbook of one drill (another drill's broken runbook does not stop this one)."""
    known = sorted(path.stem for path in RUNBOOKS.glob("*.md"))
    if name not in known:
        raise click.ClickException(f"no drill {name!r}; drills: {', '.join(known) or f'none in {RUNBOOKS}'}")
    return load(RUNBOOKS / f"{name}.md")


def what_it_faults(profile: TargetProfile) -> str:
    """The question asked before the first fault: what will be faulted, and where."""
    if isinstance(profile.run, Running):
        return (f"This drill will cut, slow and signal target {profile.name!r} (already running at "
                f"{', '.join(profile.run.instances)}) through its links and the processes its profile names.")
    engine = os.environ.get("DOCKER_HOST") or DEFAULT_ENGINE
    return f"This drill will kill, pause and cut containers labelled billing-chaos on {engine}."


@contextmanager
def target_for(console: Console, profile: TargetProfile, api: int | None, workers: int | None, keep: bool,
               seed: int) -> Iterator[tuple[Cluster, str]]:
    """An already-running target behind a fault proxy of the drill's own (ended with the drill), else
    the cluster of ``cluster_for``."""
    if not isinstance(profile.run, Running):
        with cluster_for(console, api, workers, keep, profile, seed) as found:
            yield found
        return
    from chaos.cluster.running import RunningTarget

    if api is not None or workers is not None or keep:
        console.print(f"target {profile.name!r} is already running: --api, --workers and --keep size and keep "
                      "only a cluster the drill starts")
    with RunningTarget(profile.run, seed=seed) as running:
        console.print(f"target {profile.name!r} (already running): {len(running.api_urls())} instances behind the "
                      f"fault proxy {running.toxiproxy_url}", soft_wrap=True)
        yield running, "running"  # type: ignore[misc]


@contextmanager
def cluster_for(console: Console, api: int | None, workers: int | None, keep: bool,
                profile: TargetProfile | None = None, seed: int | None = None) -> Iterator[tuple[Cluster, str]]:
    """The stack of `chaos up` (left up), or a cluster of the drill's own (removed unless ``keep``). A
    profile with a compose file of its own never attaches: `chaos up`'s stack is billing's."""
    run = profile.run if profile is not None else None
    own_compose = getattr(run, "compose", None)
    attached = None if own_compose else Cluster.attach()
    if attached is not None:
        if api is not None or workers is not None:
            console.print(f"using the running stack {attached.run_id} as it is; --api and --workers size only a "
                          "cluster the drill starts")
        yield attached, "attached"
        return
    from chaos.provision.pipeline import provision

    api, workers = api or DEFAULT_API, workers or DEFAULT_WORKERS
    console.print(f"no stack is up (`chaos up`): starting one of {api} api + {workers} workers for this drill "
                  "(about a minute) ...", soft_wrap=True)
    started = time.monotonic()
    provision()
    # kept, it becomes the stack `chaos status`, `fault`, `heal` and `down` act on; else this
    # process owns it, so that a killed drill's cluster is reaped by the next run
    cluster = Cluster(owner=cli_owner() if keep else None, overrides=(own_compose,) if own_compose else (),
                      target=run, seed=seed)  # type: ignore[arg-type]
    try:
        cluster.start(api=api, workers=workers)
        console.print(f"cluster {cluster.run_id} is up in {time.monotonic() - started:.0f} s")
        yield cluster, "own"
    finally:
        if keep:
            console.print(f"the cluster {cluster.run_id} stays up (--keep): `chaos status` shows it, "
                          "`chaos down` removes it", soft_wrap=True)
        else:
            cluster.remove()
