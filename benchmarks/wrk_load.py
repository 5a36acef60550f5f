"""One bounded wrk run against a loopback URL, and the figures it printed.

The suite's own Python client was the bottleneck of the stack benchmark
(~190 reads/s where wrk drove the same instance at ~500): a baseline of the
service needs a load generator that costs little, and a figure saying how
much it did cost. So each run reports the client's CPU share beside its
throughput and latencies, read from the kernel's accounting of that one
child process (``os.wait4``), not estimated.

wrk runs one Lua file: the request script (``benchmarks/wrk/<kind>.lua``)
with ``figures.lua`` appended, whose ``done`` hook prints one line of exact
figures. ``parse_figures`` reads that line; it and ``cpu_share`` are pure, so
tests/unit/test_bench_wrk.py covers them without Docker or wrk.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

SCRIPTS = Path(__file__).resolve().parent / "wrk"
MARKER = "wrk-figures "
MISSING = "wrk is not installed: install it with `apt-get install -y wrk` (Debian's package), then run this again"
GRACE_S = 30.0  # beyond -d, before the watchdog kills a wrk that did not stop by itself
REQUEST_TIMEOUT_S = 30  # wrk's default (2 s) would drop slow answers from the percentiles as timeouts


class WrkError(RuntimeError):
    """wrk could not run, or printed no figures (the message has its last words)."""


@dataclass(frozen=True)
class Figures:
    """What one run measured: the service's figures (requests, latencies) and the client's cost."""

    requests: int
    duration_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int            # answers with a status outside 2xx/3xx
    socket_errors: int      # connect, read, write errors and timeouts
    client_cpu_s: float = 0.0  # wrk's user + system CPU seconds
    client_wall_s: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    def client_share(self, cores: int) -> float:
        """wrk's CPU over the machine's: 0.5 on 2 cores is one core spent generating load."""
        return cpu_share(self.client_cpu_s, self.client_wall_s, cores)


def cpu_share(cpu_s: float, wall_s: float, cores: int) -> float:
    """CPU seconds over wall seconds, divided by the cores: the share of the machine a process used."""
    return cpu_s / wall_s / cores if wall_s > 0 and cores > 0 else 0.0


def parse_figures(output: str) -> Figures:
    """The figures line ``figures.lua``'s ``done`` hook printed among wrk's output (microseconds in)."""
    line = next((raw for raw in reversed(output.splitlines()) if raw.startswith(MARKER)), None)
    if line is None:
        last = next((raw.strip() for raw in reversed(output.splitlines()) if raw.strip()), "no output")
        raise WrkError(f"wrk printed no figures line ({last})")
    try:
        raw = json.loads(line[len(MARKER):])
        return Figures(
            requests=int(raw["requests"]), duration_s=raw["duration_us"] / 1e6,
            p50_ms=raw["p50_us"] / 1000, p95_ms=raw["p95_us"] / 1000, p99_ms=raw["p99_us"] / 1000,
            max_ms=raw["max_us"] / 1000, non_2xx=int(raw["status"]),
            socket_errors=sum(int(raw[k]) for k in ("connect", "read", "write", "timeout")))
    except (ValueError, KeyError, TypeError) as exc:
        raise WrkError(f"wrk's figures line is not what figures.lua prints ({exc!r}): {line[:200]}") from None


def require_wrk() -> str:
    """wrk's path; exits with the one-line instruction when it is absent."""
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit(MISSING)
    return path


def loopback_problem(url: str) -> str | None:
    """Why ``url`` may not be loaded, or None: load goes only to 127.0.0.1, never off the machine."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname != "127.0.0.1" or parts.port is None:
        return f"{url!r}: load goes only to http://127.0.0.1:PORT"
    return None


def script_text(kind: str) -> str:
    """The request script for ``kind`` with the figures hook appended (wrk takes one file)."""
    return (SCRIPTS / f"{kind}.lua").read_text() + "\n" + (SCRIPTS / "figures.lua").read_text()


def run(url: str, kind: str, *, duration_s: int, connections: int, threads: int,
        args: tuple[str, ...] = ()) -> Figures:
    """``connections`` connections over ``threads`` threads for ``duration_s`` seconds, then the figures."""
    if (problem := loopback_problem(url)) is not None:
        raise WrkError(problem)
    wrk = require_wrk()
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script = Path(tmp) / f"{kind}.lua"
        script.write_text(script_text(kind))
        command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration_s}s", f"--timeout={REQUEST_TIMEOUT_S}s",
                   "-s", str(script), url, "--", *args]
        with (Path(tmp) / "out").open("w+") as out:
            started = time.perf_counter()
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
            watchdog = threading.Timer(duration_s + GRACE_S, process.kill)  # only the wrk started here
            watchdog.start()
            try:
                _, status, usage = os.wait4(process.pid, 0)
            finally:
                watchdog.cancel()
            process.returncode = os.waitstatus_to_exitcode(status)
            wall_s = time.perf_counter() - started
            out.seek(0)
            output = out.read()
    if process.returncode != 0:
        raise WrkError(f"wrk exited with {process.returncode}: {' | '.join(output.strip().splitlines()[-3:])}")
    figures = parse_figures(output)
    return replace(figures, client_cpu_s=usage.ru_utime + usage.ru_stime, client_wall_s=wall_s)


def version() -> str:
    """wrk's version line (``wrk -v`` prints it, then its usage, and exits 1)."""
    result = subprocess.run([require_wrk(), "-v"], capture_output=True, text=True, timeout=10)
    return (result.stdout or result.stderr).splitlines()[0].split(" Copyright")[0].strip()
