"""``chaos target``: the shipped profiles, and a profile tried once against a running target.

``chaos target check`` is how a team finds its profile's mistakes before a
chaos run does: every mapped operation is called once, in the order a
customer's life needs them, and a table says what worked, what failed and
which reply values were not where the profile said.
"""
from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from chaos.cli_errors import one_line_errors
from chaos.target.admin import ExecIn
from chaos.target.check import CheckRow, check_target
from chaos.target.model import Running, TargetProfile
from chaos.target.profile import PROFILES_DIR, known_profiles, load_profile

console = Console(highlight=False, soft_wrap=True)
STATE_STYLE = {"works": "green", "fails": "red", "unknown": "yellow", "lacked": "dim", "skipped": "dim"}


@click.group()
def target() -> None:
    """Target profiles: how the suite drives a billing service (chaos/target/profile.py has the schema).

    \b
    Example:
      chaos target list
      chaos target check billing                 # against the stack of `chaos up`
      chaos target check ./my-service.yaml --url http://127.0.0.1:5001
    """


@target.command("list")
@one_line_errors
def list_profiles() -> None:
    """The profiles shipped with the suite (chaos/target/profiles/); any YAML path works as well.

    \b
    Example:
      chaos target list
    """
    table = Table("profile", "runs", "operations", "lacks", "description", title=str(PROFILES_DIR),
                  title_justify="left")
    for name in known_profiles():
        profile = load_profile(name)
        table.add_row(name, profile.run.kind, str(len(profile.operations)),
                      Text(", ".join(sorted(profile.lacks)) or "-"), Text(profile.description.split(". ")[0]))
    console.print(table)


@target.command("check")
@click.argument("profile_name", metavar="PROFILE")
@click.option("--url", default=None, help="the instance to call (default: the profile's first running instance, "
                                          "or the first api instance of the `chaos up` stack)")
@click.option("--destructive", is_flag=True, help="also call reset (it clears the target's data)")
@click.option("--timeout", "timeout_s", default=10.0, show_default=True, type=click.FloatRange(0.1, 300),
              help="seconds per call")
@one_line_errors
def check(profile_name: str, url: str | None, destructive: bool, timeout_s: float) -> None:
    """Call each operation PROFILE maps once against a running target; print what works.

    PROFILE is a shipped profile's name or a YAML path. Exits non-zero when a
    mapped operation fails or a reply value is not where the profile says.

    \b
    Example:
      chaos target check billing
      chaos target check tests/target_service/profile.yaml --url http://127.0.0.1:18081
    """
    profile = load_profile(profile_name)
    base_url, exec_in = where(profile, url)
    rows = check_target(profile, base_url, destructive=destructive, timeout_s=timeout_s, exec_in=exec_in)
    console.print(render(rows, f"target {profile.name!r} at {base_url}"))
    broken = [r.operation for r in rows if r.state in ("fails", "unknown") or "NOT FOUND" in r.detail]
    if broken:
        raise click.ClickException(f"{len(broken)} operation{'s' * (len(broken) > 1)} did not work as the "
                                   f"profile says: {', '.join(broken)}")


def where(profile: TargetProfile, url: str | None) -> tuple[str, ExecIn | None]:
    """The URL to call and how an admin command reaches a container (only for the `chaos up` stack)."""
    if url is not None:
        return url, None
    if isinstance(profile.run, Running):
        return profile.run.instances[0], None
    from chaos.cluster.controller import ClusterError
    from chaos.cli import running_cluster

    cluster = running_cluster()
    urls = list(cluster.api_urls().values())
    if not urls:
        raise ClusterError("the stack of `chaos up` has no api instance; `chaos status` shows it")
    return urls[0], cluster.exec_in


def render(rows: list[CheckRow], title: str) -> Table:
    table = Table("operation", "state", "status", "detail", title=title, title_justify="left")
    for row in rows:
        table.add_row(row.operation, Text(row.state, style=STATE_STYLE[row.state]), str(row.status or ""),
                      Text(row.detail))  # details quote bodies: no rich markup in them
    return table
