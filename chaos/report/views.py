"""What the templates show, computed from the stored files: rows and groups, no HTML.

Anomalies are grouped per checker and kind with a count and the first few
in full (Jepsen's bank checker does the same: a broken build can produce
thousands of the same anomaly, and the reader needs the first, not all).
Each anomaly's witnesses become call rows: the request, the outcome and the
response, with the same index the timeline circles.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chaos.checkers import distribution, latency, locks
from chaos.checkers.result import Anomaly, Result
from chaos.history import Op, end_time, nemesis_windows, pairs
from chaos.report.svg import fault_look, window_kind
from chaos.report.verdicts import checker_verdict

SHOWN_PER_KIND = 10
ROWS_PER_ANOMALY = 12
TEXT_LIMIT = 220


def short(value: Any, limit: int = TEXT_LIMIT) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class CallRow:
    """One client call as a table row: what was asked, and what came back."""

    index: int
    completion_index: int
    start_s: float
    end_s: float
    process: str
    f: str
    request: str
    type: str
    status: int | None
    error: str | None
    instance: str | None
    latency_ms: float | None
    response: str


def call_rows(ops: Sequence[Op]) -> dict[int, CallRow]:
    """Rows by the index of both the invoke and the completion, so either kind of witness finds its call."""
    rows: dict[int, CallRow] = {}
    for pair in pairs(ops):
        invoke, done = pair
        added = {k: v for k, v in done.value.items() if invoke.value.get(k) != v}
        row = CallRow(invoke.index, done.index, invoke.time / 1e9, done.time / 1e9, invoke.process, invoke.f,
                      short(invoke.value), done.type, done.status, done.error, done.instance,
                      None if done.latency is None else done.latency * 1000, short(added) if added else "")
        rows[invoke.index] = rows[done.index] = row
    return rows


def anomaly_groups(results: Mapping[str, Result], rows: Mapping[int, CallRow]) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = []
    for name, result in results.items():
        by_kind: dict[str, list[Anomaly]] = {}
        for anomaly in result.anomalies:
            by_kind.setdefault(anomaly.kind, []).append(anomaly)
        for kind, found in by_kind.items():
            groups.append({"checker": name, "kind": kind, "count": len(found),
                           "shown": [_anomaly_view(a, rows) for a in found[:SHOWN_PER_KIND]],
                           "hidden": max(0, len(found) - SHOWN_PER_KIND)})
    return groups


def _anomaly_view(anomaly: Anomaly, rows: Mapping[int, CallRow]) -> dict[str, Any]:
    calls = list({rows[i].index: rows[i] for i in anomaly.op_indexes if i in rows}.values())
    missing = [i for i in anomaly.op_indexes if i not in rows]
    return {"message": anomaly.message, "calls": calls[:ROWS_PER_ANOMALY],
            "more_calls": max(0, len(calls) - ROWS_PER_ANOMALY), "missing": missing,
            "records": record_table(anomaly.records[:ROWS_PER_ANOMALY])}


RECORD_ORDER = ("lock_event", "kind", "key", "token", "instance", "t", "expire_s", "fence", "accepted")


def record_table(records: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Witness records (lock events, rows of a final read) as one table: they mostly share their keys."""
    keys = list(dict.fromkeys(k for r in records for k in r))
    columns = [k for k in RECORD_ORDER if k in keys] + [k for k in keys if k not in RECORD_ORDER]
    return {"columns": columns, "rows": [[_cell(k, r.get(k)) for k in columns] for r in records]}


def _cell(key: str, value: Any) -> str:
    if value is None:
        return ""
    if key == "t" and isinstance(value, (int, float)) and value > 1e8:
        return locks.clock(float(value))  # wall seconds: shown as the services' logs show them
    return short(value, 80)


def checker_rows(results: Mapping[str, Result]) -> list[dict[str, Any]]:
    """Per checker: its verdict as shown (``chaos.report.verdicts.checker_verdict``), anomaly kinds,
    its evidence (claim -> situation, count, claimed) and stats."""
    return [{"name": name, "valid": r.valid, "verdict": checker_verdict(r), "kinds": r.kinds(),
             "evidence": r.evidence, "stats": r.stats} for name, r in results.items()]


def latency_rows(ops: Sequence[Op]) -> list[dict[str, Any]]:
    """Per f and phase: counts, percentiles (ms) and throughput, phases in time order."""
    stats = latency.check(ops).stats
    order = {"all": 0, "before": 1, "during": 2, "between": 3, "after": 4}
    rows = []
    for f, phases in sorted(stats.items()):
        if f == "phases_s":
            continue
        for phase, s in sorted(phases.items(), key=lambda item: order.get(item[0], 9)):
            rows.append({"f": f, "phase": phase, "count": s["count"], "fail": s["fail"], "info": s["info"],
                         **{k: None if s.get(k) is None else s[k] * 1000 for k in ("p50", "p95", "p99", "max")},
                         "throughput": s.get("throughput")})
    return rows


def fault_rows(ops: Sequence[Op]) -> list[dict[str, Any]]:
    """Per fault window: its label, times and parameters, and its kind's name and colour on the plots."""
    end = end_time(ops)
    return [{"label": w.label, "kind": look.label, "colour": look.colour,
             "start_s": w.start / 1e9, "stop_s": None if w.stop is None else w.stop / 1e9,
             "duration_s": (w.end(end) - w.start) / 1e9,
             "params": " ".join(f"{k}={short(v, 60)}" for k, v in w.fault.items() if k not in ("fault", "target"))}
            for w in nemesis_windows(ops) for look in (fault_look(window_kind(w)),)]


def worker_counts(ops: Sequence[Op], results: Mapping[str, Result]) -> tuple[dict[str, int], dict[str, int] | None]:
    """Tasks per worker from the history, and from Flower when a distribution checker kept its count."""
    flower = next((r.stats["per_worker_flower"] for r in results.values()
                   if isinstance(r.stats.get("per_worker_flower"), dict)), None)
    return dict(distribution.work_per_worker(ops)), flower


def outcome_counts(ops: Sequence[Op]) -> dict[str, int]:
    counts = {"ok": 0, "fail": 0, "info": 0}
    for pair in pairs(ops):
        counts[pair.completion.type] += 1
    return counts
