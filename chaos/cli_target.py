"""``chaos target``: the shipped profiles, and a profile tried once against a running target.

``chaos target check`` is how a team finds its profile's mistakes before a
chaos run does: every mapped operation is called once on every instance, in
the order a customer's life needs them, and a table per instance says what
worked, what failed, which reply values were not where the profile said and
which values the checkers need are not extracted at all.

``chaos target init --from-openapi`` drafts a profile from a service's
OpenAPI document (``chaos.target.openapi``), so a team starts from a draft.

``chaos target env`` prints what each instance of an already-running target
must be started with so that it reaches its dependencies through the suite's
links (``run.running.dependencies``; see ``chaos.target.validate_run``).

It lives beside ``chaos.cli`` rather than in ``chaos.target``: it reaches the
stack of `chaos up` and opens a running target's links through
``chaos.cluster``, which itself reads target profiles.
"""
from __future__ import annotations

import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from chaos.cli_errors import one_line_errors
from chaos.cluster.controller import ClusterError, running_cluster
from chaos.target.admin import ExecIn
from chaos.target.check import CheckRow, check_instances
from chaos.target import openapi
from chaos.target.errors import ProfileError
from chaos.target.model import Running, TargetProfile
from chaos.target.profile import PROFILES_DIR, known_profiles, load_profile, parse_profile

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
      chaos target env ./my-service.yaml --instance 1   # what api_1 must be started with
      chaos target init --from-openapi http://127.0.0.1:5001/openapi.json --out my-service.yaml
    """


@target.command("init")
@click.option("--from-openapi", "source", required=True, metavar="URL_OR_FILE",
              help="the service's OpenAPI 3 document (JSON or YAML), a file or an http(s) URL")
@click.option("--name", default=None, help="the profile's name (default: from the document's title)")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write the draft here (default: print it)")
@click.option("--force", is_flag=True, help="overwrite --out if it exists")
@click.option("--instance", "instance_url", default=None, metavar="URL",
              help="an instance of the service (default: the URL the document came from, else its servers)")
@click.option("--admin-email", default=None, help="the administrator's login, for admin.login")
@click.option("--admin-password", default=None, help="the administrator's password, for admin.login")
@one_line_errors
def init(source: str, name: str | None, out: Path | None, force: bool, instance_url: str | None,
         admin_email: str | None, admin_password: str | None) -> None:
    """Draft a target profile from a service's OpenAPI document.

    Each of the suite's operations is looked for among the document's by
    method, path words, path parameters and request fields; what is found is
    mapped with the service's own field names, what is not is listed under
    `lacks` with what was looked for, and what the draft could not decide is a
    "Check by hand" comment at its top. Exits non-zero (after writing the
    draft) when the draft still needs something before the suite accepts it,
    e.g. a health route the document does not have.

    \b
    Example:
      chaos target init --from-openapi http://127.0.0.1:8000/openapi.json --name billing-draft \\
          --admin-email admin@billing.test --admin-password admin-password --out billing-draft.yaml
      chaos target init --from-openapi tests/target_service/openapi.json --out svc.yaml
      chaos target check svc.yaml
    """
    if out is not None and out.exists() and not force:
        raise click.ClickException(f"{out} exists; choose another --out, or --force to overwrite it")
    if (admin_email is None) != (admin_password is None):
        raise click.ClickException("give --admin-email and --admin-password together")
    try:
        document = openapi.load_document(source)
        admin = (admin_email, admin_password) if admin_email and admin_password else None
        drafted = openapi.draft(document, name or openapi.profile_name(document),
                                instance_url=instance_url or source, admin=admin)
    except openapi.DocumentError as exc:
        raise click.ClickException(str(exc)) from None
    text = openapi.render(drafted, source)
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
    try:
        profile = parse_profile(text, out)
    except ProfileError as exc:
        where = f"draft written to {out}" if out else "draft printed"
        raise click.ClickException(f"{where}, and it needs by hand: " + "; ".join(str(exc).splitlines())) from None
    if out is not None:
        console.print(Text(f"{out}: {len(profile.operations)} operations mapped, {len(drafted.lacks)} lacked, "
                           f"{len(drafted.notes)} to check by hand (comments at the top); next: "
                           f"chaos target check {out}", style="green"))


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
@click.option("--url", "urls", multiple=True, help="an instance to call (repeatable; default: every instance of "
                                                   "the profile's running target, or every api instance of the "
                                                   "`chaos up` stack)")
@click.option("--destructive", is_flag=True, help="also call reset (it clears the target's data)")
@click.option("--timeout", "timeout_s", default=10.0, show_default=True, type=click.FloatRange(0.1, 300),
              help="seconds per call")
@one_line_errors
def check(profile_name: str, urls: tuple[str, ...], destructive: bool, timeout_s: float) -> None:
    """Call each operation PROFILE maps once against every instance of a running target; print what works.

    PROFILE is a shipped profile's name or a YAML path. Exits non-zero when a
    mapped operation fails or a reply value is not where the profile says, on
    any instance. A value the checkers need that the profile does not extract
    is listed as "not extracted" (that checker will say unknown) without
    failing the check. A running target with dependencies gets its dependency
    links for the check, as in a run (`chaos target env` says where).

    \b
    Example:
      chaos target check billing
      chaos target check tests/target_service/profile.yaml --url http://127.0.0.1:18081
    """
    profile = load_profile(profile_name)
    instances, exec_in = where(profile, urls)
    with dependency_links(profile) as note:
        if note:
            console.print(Text(note, style="yellow"))
        report = check_instances(profile, instances, destructive=destructive, timeout_s=timeout_s,
                                 exec_in=exec_in)
    for name, rows in report.rows.items():
        console.print(render(rows, f"target {profile.name!r}: {name} at {instances[name]}"))
    gaps = report.gaps()
    for gap in gaps:
        console.print(Text(gap, style="yellow"))
    broken = report.broken()
    if broken:
        raise click.ClickException(f"{len(broken)} operation{'s' * (len(broken) > 1)} did not work as the "
                                   f"profile says: {', '.join(broken)}")
    if gaps:
        console.print(Text(f"{len(gaps)} of what the checkers need missing (above): those checks will be unknown",
                           style="yellow"))


@target.command("env")
@click.argument("profile_name", metavar="PROFILE")
@click.option("--instance", "index", type=click.IntRange(1), default=None,
              help="only api_N's variables, as NAME=value words for `env` (e.g. env $(chaos target env P "
                   "--instance 1) my-server)")
@one_line_errors
def env(profile_name: str, index: int | None) -> None:
    """The environment each instance of an already-running target must be started with.

    The suite puts a link between each instance and each dependency the
    profile names (run.running.dependencies), on fixed ports, so that a run can
    partition or slow them. Start every instance with these variables BEFORE
    the run: until the run opens the links, the instances cannot reach Redis or
    PostgreSQL.

    \b
    Example:
      chaos target env my-service.yaml
      env $(chaos target env my-service.yaml --instance 2) gunicorn -b 127.0.0.1:5002 app:app
    """
    profile = load_profile(profile_name)
    run = profile.run
    if not isinstance(run, Running):
        raise click.ClickException(f"target {profile.name!r} is containerised: the controller gives its instances "
                                   "their environment; `chaos target env` is for an already-running target")
    names = run.names
    if index is not None:
        if index > len(names):
            raise click.ClickException(f"target {profile.name!r} has {len(names)} instance(s); --instance "
                                       f"{index} is not one")
        click.echo(" ".join(f"{k}={shlex.quote(v)}" for k, v in run.environment(names[index - 1]).items()))
        return
    if not run.dependencies:
        click.echo(f"# target {profile.name!r} names no dependencies (run.running.dependencies): its instances need "
                   "no environment from the suite, and no dependency link can be faulted")
    for name, url in zip(names, run.instances):
        links = ", ".join(f"{name}->{d} on 127.0.0.1:{run.link_port(name, d)} to {run.dependencies[d].address}"
                          for d in sorted(run.dependencies))
        click.echo(f"# {name} ({url})" + (f": {links}" if links else ""))
        variables = " ".join(f"{k}={shlex.quote(v)}" for k, v in run.environment(name).items())
        click.echo(f"{name}: {variables}" if variables else f"{name}: (no variables named: give "
                   "run.running.dependencies.<name>.env)")


def where(profile: TargetProfile, urls: tuple[str, ...] | str | None) -> tuple[dict[str, str], ExecIn | None]:
    """The instances to call (name -> URL) and how an admin command reaches a container (only for the
    `chaos up` stack)."""
    if isinstance(urls, str):
        urls = (urls,)
    if urls:
        return {f"api_{i}": url for i, url in enumerate(urls, start=1)}, None
    if isinstance(profile.run, Running):
        return dict(zip(profile.run.names, profile.run.instances)), None
    cluster = running_cluster()
    found = cluster.api_urls()
    if not found:
        raise ClusterError("the stack of `chaos up` has no api instance; `chaos status` shows it")
    return dict(found), cluster.exec_in


@contextmanager
def dependency_links(profile: TargetProfile) -> Iterator[str | None]:
    """The dependency links of a running target while the block runs (its instances reach Redis and
    PostgreSQL only through them); a note instead when they cannot be opened (a run may hold them)."""
    if not isinstance(profile.run, Running) or not profile.run.dependencies:
        yield None
        return
    from chaos.cluster.running import RunningTarget  # the fault proxy's server: only for a running target

    links = RunningTarget(profile.run)
    try:
        links.start()
    except ClusterError as exc:
        yield f"dependency links not opened, calling the instances as they are: {exc}"
        return
    try:
        yield None
    finally:
        links.remove()


def render(rows: list[CheckRow], title: str) -> Table:
    table = Table("operation", "state", "status", "detail", title=title, title_justify="left")
    for row in rows:
        detail = Text(row.detail)  # details quote bodies: no rich markup in them
        for gap in row.gaps:
            detail.append(f"\n{gap}", style="yellow")
        table.add_row(row.operation, Text(row.state, style=STATE_STYLE[row.state]), str(row.status or ""), detail)
    return table
