"""How fast the checkers and the report are on a 10 000-operation history.

A run's 1000-invoice stress, or a few minutes of a mixed workload, records
ten thousand operations or more; the checkers must judge it in well under a
second and the report must render in a few, or nobody will read either.

    .venv/bin/python benchmarks/checkers.py [--calls 5000] [--processes 40] [--repeat 3]

The history is synthetic (``chaos.report.sample``): concurrent clients over
five instances and three workers, a fault schedule, final reads, and one
planted anomaly of each kind, so every checker does its full work.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from chaos.checkers import (accounts, async_invoices, capacity, contract, distribution, idempotency, invoices,
                            latency, locks)
from chaos.history import pairs, read_jsonl, write_jsonl
from chaos.report import write_report
from chaos.report.sample import sample_run


def best_of(repeat: int, work: Callable[[], object]) -> float:
    """The fastest of ``repeat`` runs: the others measure the machine's other work, not ours."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def lock_journal(events: int, keys: int = 500) -> list[dict]:
    """A journal of ``events`` lock events: holders one after another on each key, each acquiring,
    renewing, writing and releasing (the sample run's journal is too small to time)."""
    journal, t = [], 1_760_000_000.0
    for n in range(events // 4):
        key, token = f"invoice:{n % keys}:2026-01", f"tok-{n}"
        base = {"key": key, "token": token, "instance": f"api_{n % 5 + 1}", "expire_s": 10.0}
        t += 0.01
        journal += [{**base, "kind": "acquire", "t": t}, {**base, "kind": "renew", "t": t + 6},
                    {**base, "kind": "write", "t": t + 7, "fence": n, "accepted": True},
                    {**base, "kind": "release", "t": t + 8}]
        t += 8 / keys * 4
    return journal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000, help="client calls (operations are twice that)")
    parser.add_argument("--processes", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    started = time.perf_counter()
    run = sample_run(calls=args.calls, processes=args.processes, seed=1)
    ops = run.history
    n = len(ops)
    print(f"synthetic history: {n} operations, {len(run.lock_events)} lock events, "
          f"{n / 2 / (ops[-1].time / 1e9):.0f} calls/s over {ops[-1].time / 1e9:.1f} s "
          f"(made in {time.perf_counter() - started:.2f} s)")
    print(f"{'step':<28}{'seconds':>10}{'ops/s':>14}")

    def row(name: str, seconds: float, items: int = n) -> None:
        print(f"{name:<28}{seconds:>10.4f}{items / seconds:>14,.0f}")

    checks: dict[str, Callable[[], object]] = {
        "pairs": lambda: pairs(ops),
        "invoices": lambda: invoices.check(ops, run.invoices),
        "async_invoices": lambda: async_invoices.check(ops, run.invoices),
        "idempotency": lambda: idempotency.check(ops, run.activations),
        "capacity": lambda: capacity.check(ops, run.capacity),
        "accounts": lambda: accounts.check(ops),
        "contract": lambda: contract.check(ops),
        "distribution": lambda: distribution.check(ops, min_instances=5, min_workers=3, flower_workers=run.flower),
        "latency": lambda: latency.check(ops, {"read": {"p95": 0.5}}),
    }
    total = 0.0
    for name, check in checks.items():
        seconds = best_of(args.repeat, check)
        total += seconds if name != "pairs" else 0.0
        row(name, seconds)
    journal = lock_journal(n)
    seconds = best_of(args.repeat, lambda: locks.check(journal))
    total += seconds * len(run.lock_events) / len(journal)
    row(f"locks ({len(journal)} events)", seconds, len(journal))
    row("all checkers", total)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history.jsonl"
        row("history.jsonl write", best_of(args.repeat, lambda: write_jsonl(ops, path)))
        row("history.jsonl read", best_of(args.repeat, lambda: read_jsonl(path)))
        scenario = run.scenario()
        seconds = best_of(args.repeat, lambda: write_report(Path(folder) / "reports", "bench", [scenario]))
        row("report (store + render)", seconds)
        page = max((Path(folder) / "reports" / "bench").glob("*.html"), key=lambda p: p.stat().st_size)
        print(f"scenario page: {page.stat().st_size / 1e6:.2f} MB "
              f"(plots with more than a few thousand points are rasterised inside their SVG)")
    print("verdicts:", {name: r.valid for name, r in run.results().items()}, "(anomalies planted on purpose)")


if __name__ == "__main__":
    main()
