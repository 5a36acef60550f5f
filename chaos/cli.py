"""The ``chaos`` command line: provision, bring the stack up, look at it, take it down.

Every error is one line on stderr and a non-zero exit: the people running
this are on call, and a traceback is the wrong answer to "Docker is not
running".
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click
from docker.errors import DockerException
from requests import RequestException

from chaos.compose import ComposeStack
from chaos.provision.errors import ProvisionError
from chaos.provision.pipeline import ROOT, provision


def one_line_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ProvisionError as exc:
            raise click.ClickException(str(exc)) from None
        except DockerException as exc:
            raise click.ClickException(f"the Docker engine did not answer ({str(exc).splitlines()[0][:160]}); "
                                       "run `chaos provision` (as root it starts one)") from None
        except RequestException as exc:
            raise click.ClickException(f"the stack did not answer ({type(exc).__name__}); "
                                       "is it up? try `chaos status`") from None
    return run


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Chaos runs against the scaled billing stack (Flask + Celery + Redis + PostgreSQL).

    \b
    Example:
      chaos up --api 5 --workers 3   # provision if needed, start, wait until healthy
      chaos status                   # what runs and where to look
      chaos down                     # remove every container and network of the stack
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
@click.option("--api", default=5, show_default=True, type=click.IntRange(1, 10), help="api instances")
@click.option("--workers", default=3, show_default=True, type=click.IntRange(1, 10), help="Celery workers")
@one_line_errors
def up(api: int, workers: int) -> None:
    """Start (or converge) the stack and wait until every service is healthy.

    \b
    Example:
      chaos up --api 5 --workers 3
    """
    provision()
    stack = ComposeStack()
    click.echo(f"starting {api} api + {workers} workers and their dependencies ...", err=True)
    stack.up(api=api, workers=workers)
    print_status(stack)


@main.command()
@one_line_errors
def status() -> None:
    """Show the stack's containers, their health, and the URLs to look at.

    \b
    Example:
      chaos status
    """
    print_status(ComposeStack())


@main.command()
@one_line_errors
def down() -> None:
    """Remove every container and network of the stack (by its project label).

    \b
    Example:
      chaos down
    """
    stack = ComposeStack()
    stack.down()
    click.echo("stack removed")


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("scenarios", nargs=-1)
@click.option("--api", default=5, show_default=True, type=click.IntRange(1, 16), help="api instances")
@click.option("--workers", default=3, show_default=True, type=click.IntRange(1, 10), help="Celery workers")
@click.option("--seed", type=int, default=None, help="replay a run's fault schedules and workloads")
@click.option("--unsafe", default="", help="start billing with BILLING_UNSAFE=<variant> (the run must fail)")
@click.option("--report-dir", default="reports", show_default=True, help="where the run's report goes")
@click.option("--keep", is_flag=True, help="leave the cluster up afterwards")
def run(scenarios: tuple[str, ...], api: int, workers: int, seed: int | None, unsafe: str, report_dir: str,
        keep: bool) -> None:
    """Run the chaos scenarios (all of scenarios/ by default) and print the report's path.

    Each scenario gets a fresh cluster state, a seeded fault schedule and a
    recorded history that the checkers judge. Arguments after the options
    are scenario files, node ids or pytest arguments.

    \b
    Example:
      chaos run                                   # the whole catalogue on 5 api + 3 workers
      chaos run scenarios/test_invoices.py --seed 1234
      chaos run --unsafe check_then_insert        # must fail with duplicate invoices
    """
    import pytest

    args = [*(scenarios or [str(ROOT / "scenarios")]), "-m", "chaos", f"--chaos-api={api}", f"--chaos-workers={workers}",
            f"--chaos-report-dir={report_dir}", "-p", "no:cacheprovider"]
    args += [f"--chaos-seed={seed}"] if seed is not None else []
    args += [f"--chaos-unsafe={unsafe}"] if unsafe else []
    args += ["--chaos-keep"] if keep else []
    sys.exit(int(pytest.main(args)))


def print_status(stack: ComposeStack) -> None:
    containers = sorted(stack.containers(), key=lambda c: c.name)
    if not containers:
        click.echo("no stack is running; start one with `chaos up`")
        return
    for container in containers:
        health = container.attrs["State"].get("Health", {}).get("Status", container.status)
        click.echo(f"  {container.name:<32} {health}")
    click.echo(f"lb (api)         {stack.lb_url}")
    click.echo(f"lb stats         http://127.0.0.1:{stack.ports['stats']}/stats")
    click.echo(f"flower           {stack.flower_url}")
    click.echo(f"toxiproxy API    {stack.toxiproxy_url}")


if __name__ == "__main__":
    sys.exit(main())
