"""Locust profiles run headless, for an operator: `chaos load <profile>`.

The profiles (scenarios/load/) are the seed document's locustfiles done
right. Locust runs as a child process, never in ours: it monkey-patches the
whole interpreter with gevent at import, which the Docker SDK, the fault
proxy client and pytest must not inherit. The child is bounded: its own run
time plus a margin, then it is killed, so a wedged run cannot hold a CI job.

The users drive the target through its target profile (billing's unless
``target`` names another): its path reaches the child in ``TARGET_ENV``,
after it was loaded here once, so a bad profile is a one-line error before
Locust starts.

Its figures are read from the ``_stats.csv`` Locust writes, whose
``Aggregated`` row is the whole run; the CSV and HTML files stay in the
output folder for the report.
"""
from __future__ import annotations

import csv
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from chaos.errors import ChaosError
from chaos.target import DEFAULT_PROFILE, load_profile

ROOT = Path(__file__).resolve().parent.parent
PROFILE_DIR = ROOT / "scenarios" / "load"
# Users that are still in a request when the run time ends get this long to finish it.
STOP_TIMEOUT_S = 10
# Interpreter start, Locust import, setup and writing the reports, on top of run and stop time.
MARGIN_S = 60
PROGRESS_EVERY_S = 5.0
TARGET_ENV = "CHAOS_TARGET_PROFILE"  # the target profile's file, for the Locust child (scenarios/load)


class LoadError(ChaosError):
    """A load run that could not be made or did not end; the message is one line."""


@dataclass(frozen=True)
class Profile:
    """A locustfile and the seed's numbers for it (the CLI's defaults)."""

    path: Path
    users: int
    spawn_rate: float
    duration_s: int
    about: str


PROFILES: dict[str, Profile] = {
    # The seed: web UI "100-1000 users, spawn 10/s"; headless "-u 1000 -r 50 -t 5m".
    "browse": Profile(PROFILE_DIR / "browse_and_subscribe.py", users=100, spawn_rate=10, duration_s=300,
                      about="browse plans, profile, subscribe and check out, book, buy tickets (in order)"),
    # The seed gives no numbers for it; the same as browse.
    "realistic": Profile(PROFILE_DIR / "realistic_load.py", users=100, spawn_rate=10, duration_s=300,
                         about="8 normal users to 2 power users: reads, subscriptions, bookings"),
    # The seed: "--users=500 --spawn-rate=50 --run-time=5m".
    "distributed": Profile(PROFILE_DIR / "distributed.py", users=500, spawn_rate=50, duration_s=300,
                           about="reads, idempotent checkouts replayed across instances, async invoices"),
}


@dataclass(frozen=True)
class LoadResult:
    """One finished run: the Aggregated row's figures and where the files are."""

    profile: str
    requests: int
    failures: int
    avg_ms: float
    p95_ms: float | None  # None when no request was made
    requests_per_s: float
    stats_csv: Path
    failures_csv: Path
    html: Path
    log: Path  # Locust's own output: its log and printed summary
    exit_code: int  # Locust's: 1 whenever a request failed, so the ratio is what to judge

    @property
    def failure_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class Aggregated:
    """The ``Aggregated`` row of a Locust ``_stats.csv``."""

    requests: int
    failures: int
    avg_ms: float
    p95_ms: float | None
    requests_per_s: float


def run_load(profile: str, host: str, *, target: str | Path = DEFAULT_PROFILE, users: int | None = None,
             spawn_rate: float | None = None, duration_s: int, out_dir: Path,
             progress: Callable[[str], None] | None = None) -> LoadResult:
    """Run one profile headless against ``host``, a target served as the target profile ``target`` says
    (a shipped profile's name or a YAML path), and read what it measured.

    Failed requests are figures in the result, not errors: Locust's exit code
    is 1 for one failed request among thousands. LoadError is for a run that
    did not happen (unknown profile, bad host or numbers, Locust did not
    start, the target offers none of a user's operations) or did not end in
    time; a target profile that does not load is its ``ProfileError``.
    """
    spec = _profile(profile)
    users = spec.users if users is None else users
    spawn_rate = spec.spawn_rate if spawn_rate is None else spawn_rate
    if isinstance(duration_s, bool) or not isinstance(duration_s, int) or duration_s <= 0:
        raise LoadError(f"duration must be a positive number of seconds, not {duration_s!r}")
    url = urlsplit(host)
    if url.scheme not in ("http", "https") or not url.netloc:
        raise LoadError(f"host must be an http(s) URL such as http://127.0.0.1:8080, not {host!r}")
    if users <= 0:
        raise LoadError(f"users must be positive, not {users!r}")
    if not spawn_rate > 0 or not math.isfinite(spawn_rate):
        raise LoadError(f"spawn rate must be a positive number of users per second, not {spawn_rate!r}")
    profile_file = load_profile(target).source or Path(target)
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = out_dir / profile
    stats_csv = out_dir / f"{profile}_stats.csv"
    html = out_dir / f"{profile}.html"
    log = out_dir / f"{profile}.log"
    for stale in [*out_dir.glob(f"{profile}_*.csv"), html, log]:
        stale.unlink(missing_ok=True)  # a previous run's figures must not pass for this one's
    command = [sys.executable, "-m", "locust", "-f", str(spec.path), "--headless",
               "-u", str(users), "-r", f"{spawn_rate:g}", "-t", f"{duration_s}s", "--host", host,
               "--csv", str(prefix), "--html", str(html), "--only-summary",
               "--stop-timeout", str(STOP_TIMEOUT_S)]
    env = {TARGET_ENV: str(Path(profile_file).resolve())}
    exit_code, tail = _run_bounded(command, duration_s + STOP_TIMEOUT_S + MARGIN_S, profile, stats_csv, log,
                                   progress, env)
    try:
        aggregated = read_aggregated(stats_csv)
    except LoadError:
        last = tail[-1] if tail else "no output"
        raise LoadError(f"locust did not run profile {profile!r} (exit code {exit_code}): {last}") from None
    if progress is not None:
        progress(_progress_line(profile, aggregated, "done"))
    return LoadResult(profile=profile, requests=aggregated.requests, failures=aggregated.failures,
                      avg_ms=aggregated.avg_ms, p95_ms=aggregated.p95_ms,
                      requests_per_s=aggregated.requests_per_s, stats_csv=stats_csv,
                      failures_csv=out_dir / f"{profile}_failures.csv", html=html, log=log, exit_code=exit_code)


def read_aggregated(stats_csv: Path) -> Aggregated:
    """The whole run's row of a Locust ``_stats.csv``; LoadError when the file has none."""
    try:
        with open(stats_csv, newline="", encoding="utf-8") as file:
            rows = list(csv.DictReader(file))
    except FileNotFoundError:
        raise LoadError(f"no Locust stats file {stats_csv}") from None
    row = next((r for r in rows if r.get("Name") == "Aggregated"), None)
    if row is None:
        raise LoadError(f"no Aggregated row in {stats_csv}")
    try:
        requests = int(row["Request Count"])
        return Aggregated(requests=requests, failures=int(row["Failure Count"]),
                          avg_ms=float(row["Average Response Time"]),
                          p95_ms=_number(row.get("95%")),
                          requests_per_s=float(row["Requests/s"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise LoadError(f"unreadable Aggregated row in {stats_csv}: {exc}") from None


def _profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise LoadError(f"unknown load profile {name!r}; known: {', '.join(sorted(PROFILES))}") from None


def _number(text: str | None) -> float | None:
    """Locust writes ``N/A`` for percentiles of an entry without requests."""
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _run_bounded(command: list[str], limit_s: float, profile: str, stats_csv: Path, log: Path,
                 progress: Callable[[str], None] | None, extra_env: dict[str, str]) -> tuple[int, list[str]]:
    """Run Locust in its own process group, killed whole past ``limit_s``; its exit code and last output lines.

    Its output goes to ``log`` as it comes, so a killed run still leaves it.
    """
    env = {**os.environ, **extra_env, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, errors="replace", env=env, start_new_session=True)
    tail: deque[str] = deque(maxlen=20)
    reader = threading.Thread(target=_keep_output, args=(child, log, tail), daemon=True)
    reader.start()
    started = time.monotonic()
    try:
        while True:
            try:
                exit_code = child.wait(timeout=PROGRESS_EVERY_S)
                break
            except subprocess.TimeoutExpired:
                elapsed = time.monotonic() - started
                if elapsed > limit_s:
                    raise LoadError(f"locust ran profile {profile!r} past {limit_s:.0f} s and was killed") from None
                if progress is not None:
                    _report_progress(progress, profile, stats_csv, elapsed)
    finally:
        if child.poll() is None:
            _kill_group(child)
        reader.join(timeout=5)
    return exit_code, [line for line in tail if line.strip()]


def _keep_output(child: subprocess.Popen[str], log: Path, tail: deque[str]) -> None:
    assert child.stdout is not None
    with open(log, "w", encoding="utf-8") as file:
        for line in child.stdout:
            file.write(line)
            file.flush()
            tail.append(line.rstrip())


def _kill_group(child: subprocess.Popen[str]) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    child.wait()


def _report_progress(progress: Callable[[str], None], profile: str, stats_csv: Path, elapsed: float) -> None:
    """Locust rewrites its CSV every second; a half-written one just skips a line."""
    try:
        aggregated = read_aggregated(stats_csv)
    except LoadError:
        progress(f"{profile}: {elapsed:.0f} s, starting")
        return
    progress(_progress_line(profile, aggregated, f"{elapsed:.0f} s"))


def _progress_line(profile: str, aggregated: Aggregated, when: str) -> str:
    p95 = "-" if aggregated.p95_ms is None else f"{aggregated.p95_ms:.0f} ms"
    return (f"{profile}: {when}, {aggregated.requests} requests, {aggregated.failures} failed, "
            f"{aggregated.requests_per_s:.1f}/s, avg {aggregated.avg_ms:.0f} ms, p95 {p95}")
