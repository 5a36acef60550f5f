"""The seed's baselines: what is loaded, the seed's targets, and the Markdown table beside them.

The seed (Sprint 10, "Performance Benchmarks & Baselines") asks for simple
reads at p50 < 50 ms, p95 < 100 ms, p99 < 200 ms and > 500 req/s, and writes
at p50 < 100 ms, p95 < 200 ms, p99 < 500 ms and > 100 req/s. Its write
baseline is registrations ("100 registrations"); the checkout the benchmark
measured before is kept as a second write, so older figures still compare.
Pure data and text: tests/unit/test_bench_wrk.py renders a table from made-up
figures.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from benchmarks.wrk_load import Figures


@dataclass(frozen=True)
class Target:
    """A seed baseline: at least ``rps`` requests/s, latency percentiles under these milliseconds."""

    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float

    def missed(self, figures: Figures) -> list[str]:
        """The figures that miss the target (errors first: a fast error is not a met baseline)."""
        missed = ["errors"] if figures.non_2xx or figures.socket_errors else []
        missed += ["req/s"] if figures.rps < self.rps else []
        for name in ("p50", "p95", "p99"):
            if getattr(figures, f"{name}_ms") >= getattr(self, f"{name}_ms"):
                missed.append(name)
        return missed


READ_TARGET = Target(rps=500, p50_ms=50, p95_ms=100, p99_ms=200)
WRITE_TARGET = Target(rps=100, p50_ms=100, p95_ms=200, p99_ms=500)


@dataclass(frozen=True)
class Load:
    """One kind of load: its wrk script (``benchmarks/wrk/<kind>.lua``), the route, the seed's target."""

    kind: str
    route: str
    target: Target


LOADS = (Load("read", "GET /api/tariff_plans", READ_TARGET),
         Load("register", "POST /api/auth/register", WRITE_TARGET),
         Load("subscribe", "POST /api/subscriptions", WRITE_TARGET))

HEADER = ("| load | api | req/s | seed req/s | p50 ms | p95 ms | p99 ms | seed p50 / p95 / p99 ms | seed met "
          "| non-2xx | socket errors | client CPU |\n|---|---|---:|---:|---:|---:|---:|---|---|---:|---:|---:|")


def row(load: Load, api: str, figures: Figures, cores: int) -> str:
    """One Markdown row: the service's figures, the seed's beside them, and the client's CPU share."""
    target = load.target
    missed = target.missed(figures)
    return (f"| {load.kind} | {api} | {figures.rps:.0f} | > {target.rps:.0f} | {figures.p50_ms:.0f} | "
            f"{figures.p95_ms:.0f} | {figures.p99_ms:.0f} | < {target.p50_ms:.0f} / {target.p95_ms:.0f} / "
            f"{target.p99_ms:.0f} | {'yes' if not missed else 'no: ' + ', '.join(missed)} | {figures.non_2xx} | "
            f"{figures.socket_errors} | {figures.client_share(cores):.0%} |")


def ratio_row(load: Load, one: Figures, five: Figures) -> str:
    """5 instances against 1, in the same run: the ratios compare, the absolute figures less so."""
    def x(a: float, b: float) -> str:
        return f"x{a / b:.2f}" if b else "-"
    return (f"| {load.kind} | 5 vs 1 | {x(five.rps, one.rps)} | | {x(five.p50_ms, one.p50_ms)} | "
            f"{x(five.p95_ms, one.p95_ms)} | {x(five.p99_ms, one.p99_ms)} | | | | | |")


def table(figures: Mapping[str, Mapping[str, Figures]], cores: int) -> str:
    """The baselines table: ``figures[api][kind]``, each load's rows together, 5 vs 1 when both ran."""
    lines = [HEADER]
    for load in LOADS:
        for api, by_kind in figures.items():
            if load.kind in by_kind:
                lines.append(row(load, api, by_kind[load.kind], cores))
        if load.kind in figures.get("1", {}) and load.kind in figures.get("5", {}):
            lines.append(ratio_row(load, figures["1"][load.kind], figures["5"][load.kind]))
    return "\n".join(lines)
