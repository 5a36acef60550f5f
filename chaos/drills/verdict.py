"""A drill's verdict, from its checkers' results: SAFE only when every checker passed on evidence.

Pure functions of the results and the history: the engine prints them and
the report stores them, so the same run always reads the same way.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.table import Table

from chaos.checkers.result import Result, merge_valid
from chaos.history import Op, nemesis_windows


def verdict_of(results: Mapping[str, Result], *, error: str | None = None,
               stopped: str | None = None) -> tuple[bool, str]:
    """Safe only when every checker passed and the drill ran without an error; UNSAFE names the
    anomalies, UNKNOWN says what could not be judged."""
    suffix = f" ({stopped})" if stopped else ""
    merged = merge_valid([r.valid for r in results.values()]) if results else "unknown"
    if merged is False:
        found = "; ".join(f"{name}: " + ", ".join(f"{kind} x{n}" for kind, n in r.kinds().items())
                          for name, r in results.items() if r.valid is False)
        return False, f"verdict: UNSAFE — {found}{suffix}"
    if error:
        return False, f"verdict: UNKNOWN — the drill stopped on an error: {error}{suffix}"
    if not results:
        return False, f"verdict: UNKNOWN — nothing was checked: no workload ran{suffix}"
    if merged == "unknown":
        why = "; ".join(f"{name} ({r.stats.get('error') or 'not enough to judge'})"
                        for name, r in results.items() if r.valid == "unknown")
        return False, f"verdict: UNKNOWN — could not judge {why}{suffix}"
    return True, f"verdict: SAFE — {len(results)} checkers found nothing wrong: {', '.join(results)}{suffix}"


def schedule_of(history: list[Op]) -> list[dict[str, Any]]:
    """The faults the drill ran, as a schedule: offset and duration from their recorded windows."""
    end = max((op.time for op in history), default=0)
    return [{"at_s": round(w.start / 1e9, 3), "duration_s": round((w.end(end) - w.start) / 1e9, 3), **w.fault}
            for w in nemesis_windows(history)]


def results_table(results: Mapping[str, Result]) -> Table:
    table = Table("checker", "verdict", "anomalies", "stats", title_justify="left")
    for name, result in results.items():
        anomalies = ", ".join(f"{kind} x{n}" for kind, n in result.kinds().items()) or "-"
        verdict = "valid" if result.valid is True else "INVALID" if result.valid is False else "unknown"
        table.add_row(name, verdict, anomalies, short_stats(result.stats))
    return table


def short_stats(stats: Mapping[str, Any], limit: int = 4) -> str:
    """The first few plain figures of a checker's stats (the report has them all)."""
    plain = [f"{k}={v}" for k, v in stats.items() if isinstance(v, (int, float, str)) and not isinstance(v, bool)]
    return ", ".join(plain[:limit])
