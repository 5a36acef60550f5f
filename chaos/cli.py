"""The ``chaos`` command line: the stack, its faults, runs, reports, load and drills.

`chaos up` leaves a stack running that later commands find again by its
labels (no state file to lose): `status`, `scale`, `fault`, `heal`,
`load`, `drill run` and `down` all act on it.

Every error is one line on stderr and a non-zero exit: the people running
this are on call, and a traceback is the wrong answer to "Docker is not
running".
"""
from __future__ import annotations

import sys
from pathlib import Path

import click
import docker
from rich.console import Console

from chaos.cli_errors import one_line_errors
from chaos.cli_faults import planned_faults
from chaos.cli_load import load
from chaos.cli_target import target
from chaos.cluster.controller import Cluster, cli_owner, reap_leftovers, running_cluster
from chaos.drills.cli import drill
from chaos.nemesis.grammar import FAULT_HELP, parse_spec
from chaos.nemesis.heal import heal as heal_faults
from chaos.provision.pipeline import ROOT, provision
from chaos.status import show

console = Console(highlight=False, soft_wrap=True)  # paths and URLs stay whole for copying


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Chaos runs against the scaled billing stack (Flask + Celery + Redis + PostgreSQL).

    \b
    Example:
      chaos up --api 5 --workers 3       # provision if needed, start, wait until healthy
      chaos status                       # instances, links, active faults, where to look
      chaos fault partition api_1:redis  # cut one instance off from Redis
      chaos heal --all                   # undo every fault
      chaos drill run worker-killed-mid-invoice
      chaos hunt --budget 10m            # generated workloads under generated faults
      chaos down                         # remove the stack (by its labels)
    """


@main.command("provision")
@one_line_errors
def provision_command() -> None:
    """Make a Docker engine answer, then build the base image, wheelhouse and runtime image.

    Reuses everything an earlier run built (keyed by content hash).

    \b
    Example:
      chaos provision
    """
    click.echo(provision())


@main.command()
@click.option("--api", default=5, show_default=True, type=click.IntRange(1, 16), help="api instances")
@click.option("--workers", default=3, show_default=True, type=click.IntRange(1, 10), help="Celery workers")
@click.option("--unsafe", default="", help="start billing with BILLING_UNSAFE=<variant> (for rehearsing a bad build)")
@one_line_errors
def up(api: int, workers: int, unsafe: str) -> None:
    """Start the stack (or scale the running one) and wait until every part is healthy.

    Every api and worker gets its own Toxiproxy links, so `chaos fault` can
    cut or slow one party's connection. The stack stays up until `chaos down`.

    \b
    Example:
      chaos up --api 5 --workers 3
    """
    provision()
    cluster = Cluster.attach()
    if cluster is not None:
        with console.status(f"stack {cluster.run_id} is up: scaling to {api} api + {workers} workers"):
            cluster.scale("api", api)
            cluster.scale("worker", workers)
    else:
        cluster = Cluster(owner=cli_owner(), environment={"BILLING_UNSAFE": unsafe})
        try:
            with console.status(f"starting {api} api + {workers} workers, their links and dependencies "
                                "(about a minute)"):
                cluster.start(api=api, workers=workers)
        except BaseException:
            cluster.remove()
            raise
    show(cluster, console)


@main.command()
@one_line_errors
def status() -> None:
    """Show instances and health, links and their faults, and the URLs to look at.

    \b
    Example:
      chaos status
    """
    cluster = Cluster.attach()
    if cluster is None:
        console.print("no stack is up; start one with `chaos up`")
        return
    show(cluster, console)


@main.command()
@click.argument("service", type=click.Choice(["api", "worker"]))
@click.argument("count", type=click.IntRange(1, 16))
@one_line_errors
def scale(service: str, count: int) -> None:
    """Scale api or worker instances; new ones get their links, the lb follows, waits until healthy.

    \b
    Example:
      chaos scale api 7
    """
    cluster = running_cluster()
    with console.status(f"scaling {service} to {count}"):
        cluster.scale(service, count)
    console.print(f"{service}: {', '.join(i.name for i in cluster.of(service))}")


@main.command(context_settings={"ignore_unknown_options": True},
              epilog="\n\n".join(f"\b\n{part}" for part in FAULT_HELP.split("\n\n")))
@click.argument("words", nargs=-1, required=True)
@one_line_errors
def fault(words: tuple[str, ...]) -> None:
    """Start a fault: KIND TARGET [PARAM=VALUE ...]. It stays until `chaos heal`.

    \b
    Example:
      chaos fault partition api_1:redis
      chaos fault latency api_2:postgres ms=300 jitter=50
      chaos fault pause worker_1
      chaos fault restart redis
      chaos fault forget idempotency
      chaos fault exhaust postgres
    """
    from chaos.nemesis.runner import Nemesis

    parse_spec(words)  # a bad fault is refused before the engine is asked anything
    cluster = running_cluster()
    # Through the nemesis, as every scenario, drill and load run starts its faults; it is not healed
    # here: the fault stays until `chaos heal`, which reads it back from the proxy and the engine.
    nemesis = Nemesis(cluster, lambda event, described: None)
    for planned in planned_faults(cluster, [words]):
        nemesis.start_fault(planned)
        described = planned.describe()
        done = ' '.join(f'{k}={v}' for k, v in described.items())
        if described["fault"] == "restart":   # over once started: the instance runs again, fresh
            console.print(f"{done}: killed and started again, healthy; nothing stays to heal (`chaos status` "
                          "shows it up for seconds)")
            continue
        if described["fault"] == "forget":
            console.print(f"{done}: {getattr(planned, 'deleted', 0)} key(s) deleted from Redis; nothing stays "
                          "to heal")
            continue
        console.print(f"started {done}; heal it with "
                      f"`chaos heal {described['target'].replace('->', ':')}` (or `chaos heal --all`)")


@main.command()
@click.argument("target", required=False)
@click.option("--all", "everything", is_flag=True, help="heal every fault on the stack")
@one_line_errors
def heal(target: str | None, everything: bool) -> None:
    """Heal the faults on TARGET (an instance, or a link such as api_1:redis), or --all.

    Faults are read from the fault proxy and the engine, so this heals
    whatever `chaos fault`, a drill or an interrupted run left behind.

    \b
    Example:
      chaos heal api_1
      chaos heal --all
    """
    if bool(target) == everything:
        raise click.UsageError("name a TARGET or pass --all (not both)")
    cluster = running_cluster()
    link = target.replace(":", "->") if target else None
    with console.status("healing and waiting until healthy"):
        healed = heal_faults(cluster, link)
    console.print(f"healed: {', '.join(map(str, healed))}" if healed else
                  f"no active fault{' on ' + target if target else ''}")


@main.command()
@one_line_errors
def down() -> None:
    """Remove the stack of `chaos up` and whatever killed runs left behind (by label).

    \b
    Example:
      chaos down
    """
    cluster = Cluster.attach()
    if cluster is not None:
        with console.status(f"removing stack {cluster.run_id}"):
            cluster.remove()
    reaped = reap_leftovers(docker.from_env(timeout=120))
    console.print(("stack removed" if cluster else "no stack was up") +
                  (f"; removed {reaped} containers and networks of killed runs" if reaped else ""))


@main.command()
@click.argument("run_id", required=False)
@click.option("--report-dir", default="reports", show_default=True, type=click.Path(path_type=Path),
              help="where run reports are")
@click.option("--recheck", is_flag=True, help="judge the run again offline from its stored history and reads")
@one_line_errors
def report(run_id: str | None, report_dir: Path, recheck: bool) -> None:
    """List the stored runs, or show one run's verdicts and its report path (RUN_ID: a prefix will do).

    In a pipe or a CI log every row is one line, with no id or name cut; an
    unknown run names each unknown scenario and why.

    \b
    Example:
      chaos report                 # the runs, newest first
      chaos report 20261130-0915   # one run's scenarios and verdicts
      chaos report 20261130-0915 --recheck   # its checkers again, offline; exit 1 if a verdict differs
    """
    from chaos.report.store import load_summary
    from chaos.report.text import print_run, print_runs

    runs = sorted((p.parent for p in report_dir.glob("*/summary.json")), key=lambda p: p.name, reverse=True)
    if not runs:
        raise click.ClickException(f"no run reports in {report_dir}/; `chaos run` writes one")
    if run_id is None:
        print_runs(console, [(run_dir, load_summary(run_dir)) for run_dir in runs])
        return
    matching = [r for r in runs if r.name.startswith(run_id)]
    if len(matching) != 1:
        raise click.ClickException(f"{len(matching)} runs in {report_dir}/ start with {run_id!r}; "
                                   f"the newest: {', '.join(r.name for r in runs[:5])}")
    if recheck:
        from chaos.report.recheck import compare

        rows = compare(matching[0])
        for row in rows:
            console.print(row.line(), markup=False, highlight=False)
        differing = [row for row in rows if not row.same]
        console.print(f"{len(rows)} results judged again, {len(differing)} differ")
        if differing:
            raise SystemExit(1)
        return
    print_run(console, matching[0], load_summary(matching[0]))


@main.command()
def doctor() -> None:
    """Check the engine, images, wheelhouse, running stacks, leftovers and disk; say what to fix.

    \b
    Example:
      chaos doctor
    """
    from chaos.doctor import checks

    problems = 0
    for check in checks():
        mark = "[green]ok[/green]  " if check.ok else "[red]FIX[/red] "
        console.print(f"{mark} {check.name:<20} {check.detail}" + ("" if check.ok else f"\n       → {check.fix}"))
        problems += not check.ok
    if problems:
        raise click.ClickException(f"{problems} problem{'s' * (problems > 1)} found")


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("scenarios", nargs=-1)
@click.option("--api", default=5, show_default=True, type=click.IntRange(1, 16), help="api instances")
@click.option("--workers", default=3, show_default=True, type=click.IntRange(1, 10), help="Celery workers")
@click.option("--seed", type=int, default=None, help="replay a run's fault schedules and workloads")
@click.option("--unsafe", default="", help="start billing with BILLING_UNSAFE=<variant> (the run must fail)")
@click.option("--report-dir", default="reports", show_default=True, help="where the run's report goes")
@click.option("--keep", is_flag=True, help="leave the cluster up afterwards")
@click.option("--target", "target_profile", default=None, metavar="PROFILE",
              help="the target profile: a shipped one's name or a YAML path (default: billing)")
def run(scenarios: tuple[str, ...], api: int, workers: int, seed: int | None, unsafe: str, report_dir: str,
        keep: bool, target_profile: str | None) -> None:
    """Run the chaos scenarios (all of scenarios/ by default) and print the report's path.

    Each scenario gets a fresh cluster state, a seeded fault schedule and a
    recorded history that the checkers judge. Arguments after the options
    are scenario files, node ids or pytest arguments.

    \b
    Example:
      chaos run                                   # the whole catalogue on 5 api + 3 workers
      chaos run scenarios/test_invoices.py --seed 1234
      chaos run --unsafe check_then_insert        # must fail with duplicate invoices
      chaos run --target ./my-service.yaml        # another service; scenarios it cannot serve are skipped
    """
    import pytest

    args = [*(scenarios or [str(ROOT / "scenarios")]), "-m", "chaos", f"--chaos-api={api}", f"--chaos-workers={workers}",
            f"--chaos-report-dir={report_dir}", "-p", "no:cacheprovider"]
    args += [f"--chaos-seed={seed}"] if seed is not None else []
    args += [f"--chaos-unsafe={unsafe}"] if unsafe else []
    args += ["--chaos-keep"] if keep else []
    args += [f"--chaos-target={target_profile}"] if target_profile else []
    sys.exit(int(pytest.main(args)))


def parse_budget(text: str) -> float:
    """``10m``, ``90s``, ``1h`` or plain seconds; click.BadParameter for anything else."""
    units = {"s": 1, "m": 60, "h": 3600}
    number, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "s")
    try:
        seconds = float(number) * units[unit]
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a duration (e.g. 10m, 90s, 600)") from None
    if seconds <= 0:
        raise click.BadParameter(f"{text!r}: a budget must be more than 0")
    return seconds


@main.command()
@click.option("--budget", default="10m", show_default=True, help="how long to hunt, shrinks included (10m, 90s)")
@click.option("--seed", type=int, default=None, help="the first try's seed (default: random, printed)")
@click.option("--target", "target_profile", default=None, metavar="PROFILE", help="target profile (default billing)")
@click.option("--unsafe", default="", help="start billing with BILLING_UNSAFE=<variant> (the hunt must catch it)")
@click.option("--api", default=3, show_default=True, type=click.IntRange(1, 16), help="api instances")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 10), help="Celery workers")
@click.option("--first", is_flag=True, help="stop at the first anomaly (once it is shrunk)")
@click.option("--replay", "replay_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="run a reproduction a hunt wrote (its .json or its test_*.py), with the settings it was found on")
@click.option("--report-dir", default="reports", show_default=True, help="where the run report goes")
@one_line_errors
def hunt(budget: str, seed: int | None, target_profile: str | None, unsafe: str, api: int, workers: int,
         first: bool, replay_file: Path | None, report_dir: str) -> None:
    """Hunt for bugs nobody planted: generated workloads under generated faults, judged by every checker.

    Each try plays a seeded mix of the target's operations under a seeded
    fault schedule. An anomaly is shrunk on the same cluster to a small
    reproduction (JSON + a generated pytest file) in the run's report folder;
    live progress shows tries, operations, situations reached and anomalies.

    \b
    Example:
      chaos hunt --budget 10m                    # the safe build: expect no anomaly
      chaos hunt --unsafe quantity_unchecked --first --seed 7
      chaos hunt --target ./my-service.yaml --budget 30m
      chaos hunt --replay reports/<run>/hunt/capacity_oversell_seed7.json
    """
    import pytest

    if replay_file is not None:
        sys.exit(int(pytest.main(replay_arguments(replay_file, report_dir))))
    args = [str(ROOT / "scenarios" / "test_hunt.py"), "-m", "chaos", f"--chaos-api={api}", f"--chaos-workers={workers}",
            f"--chaos-report-dir={report_dir}", f"--chaos-hunt-budget={parse_budget(budget)}", "-p", "no:cacheprovider"]
    args += [f"--chaos-seed={seed}"] if seed is not None else []
    args += [f"--chaos-unsafe={unsafe}"] if unsafe else []
    args += ["--chaos-hunt-first"] if first else []
    args += [f"--chaos-target={target_profile}"] if target_profile else []
    sys.exit(int(pytest.main(args)))


def replay_arguments(path: Path, report_dir: str) -> list[str]:
    """pytest's arguments for a reproduction: its generated test, on the target and build it was found on."""
    from chaos.hunt.reproduction import Reproduction

    json_file = path if path.suffix == ".json" else path.with_name(path.stem.removeprefix("test_") + ".json")
    test_file = json_file.with_name(f"test_{json_file.stem}.py")
    try:
        reproduction = Reproduction.load(json_file)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if not test_file.is_file():
        raise click.UsageError(f"{test_file} is missing: a reproduction is its .json and its test_*.py side by side")
    args = [str(test_file), f"--chaos-api={reproduction.api}", f"--chaos-workers={reproduction.workers}",
            f"--chaos-report-dir={report_dir}", f"--chaos-seed={reproduction.seed}", "-p", "no:cacheprovider",
            f"--rootdir={ROOT}", "-c", str(ROOT / "pytest.ini")]
    args += [f"--chaos-unsafe={reproduction.unsafe}"] if reproduction.unsafe else []
    args += [f"--chaos-target={reproduction.target}"] if reproduction.target not in ("", "billing") else []
    return args


main.add_command(drill)
main.add_command(load)
main.add_command(target)


if __name__ == "__main__":
    sys.exit(main())
