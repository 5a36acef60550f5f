"""Store, then report: a run's files, written before any HTML and read back to render it.

Layout of ``reports/<run-id>/``: ``summary.json`` (seed, settings, the run's
verdict, each scenario's outcome, verdict with its reason, evidence counts,
anomaly counts and, when it failed, its exception), and per scenario a folder
with ``history.jsonl``, ``results.json``, ``schedule.json``, ``checks.json``
(per result, the checker and arguments that made it) and, when the scenario
kept them, ``final_reads.json`` (per result, the reads its checker judged)
and ``error.txt`` (the traceback). History, checks and final reads are what
``chaos.report.recheck`` judges a stored run again from.
Verdicts come from ``chaos.report.verdicts``: ``verdict`` is one of valid /
invalid / unknown / not checked / failed / error, ``valid`` the same as
True / False / "unknown" / None (nothing checked), ``checkers`` the checkers'
merged verdict alone. The pages are made from these
files alone, so ``python -m chaos.report`` renders an old run again.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaos.checkers.result import Result, merge_valid
from chaos.history import Op, pairs, read_jsonl, write_jsonl
from chaos.report.model import Check, RunRecord, ScenarioRecord
from chaos.report.verdicts import Verdict, run_verdict, scenario_verdict

ERROR_FIELDS = ("message", "location", "line", "source")


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")[:120] or "scenario"


def jsonable(value: Any) -> Any:
    """Stats may hold tuples or non-string keys; JSON holds neither."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(jsonable(data), indent=1, sort_keys=False) + "\n", encoding="utf-8")


def store(run_dir: Path, run: RunRecord) -> dict[str, Any]:
    """Write every scenario's files and the run's summary; returns the summary."""
    run_dir.mkdir(parents=True, exist_ok=True)
    entries, used = [], set()
    for scenario in run.scenarios:
        folder = slug(scenario.name)
        n = 2
        while folder in used:
            folder = f"{slug(scenario.name)}-{n}"
            n += 1
        used.add(folder)
        entries.append(_store_scenario(run_dir / folder, folder, scenario, run.seed))
    verdict = run_verdict([Verdict(e["verdict"], e["reason"]) for e in entries])
    summary = {"run_id": run.run_id, "seed": run.seed, "started": run.started, "settings": run.settings,
               **verdict.to_json(), "valid": verdict.valid, "scenarios": entries}
    _write_json(run_dir / "summary.json", summary)
    return summary


def _store_scenario(path: Path, folder: str, scenario: ScenarioRecord, run_seed: int | None) -> dict[str, Any]:
    path.mkdir(parents=True, exist_ok=True)
    write_jsonl(scenario.history, path / "history.jsonl")
    _write_json(path / "results.json", {name: r.to_json() for name, r in scenario.results.items()})
    _write_json(path / "schedule.json", scenario.schedule)
    _write_json(path / "checks.json", {name: c.to_json() for name, c in scenario.checks.items()})
    if scenario.final_reads:
        _write_json(path / "final_reads.json", scenario.final_reads)
    error = dict(scenario.error) if scenario.error else None
    if error is not None:
        (path / "error.txt").write_text(str(error.get("traceback") or error.get("message") or ""), encoding="utf-8")
        error = {k: str(error[k]) for k in ERROR_FIELDS if error.get(k)}
    calls = Counter(p.completion.type for p in pairs(scenario.history))
    anomalies = Counter(a.kind for r in scenario.results.values() for a in r.anomalies)
    verdict = scenario_verdict(scenario.outcome, scenario.results, note=scenario.note,
                               error=_headline(error))
    return {"name": scenario.name, "folder": folder, "outcome": scenario.outcome,
            "duration_s": round(scenario.duration_s, 2),
            "seed": scenario.seed if scenario.seed is not None else run_seed,
            **verdict.to_json(), "valid": verdict.valid,
            "checkers": merge_valid([r.valid for r in scenario.results.values()]) if scenario.results else None,
            "evidence": [{"claim": f"{name}.{claim}", "situation": e.situation, "count": e.count,
                          "claimed": e.claimed} for name, r in scenario.results.items()
                         for claim, e in r.evidence.items()],
            "operations": {"ok": calls["ok"], "fail": calls["fail"], "info": calls["info"]},
            "anomalies": dict(anomalies.most_common()), "note": scenario.note, "error": error}


def _headline(error: dict[str, Any] | None) -> str:
    """The exception's first line and where it was raised: "KeyError: 'period' (chaos/x.py:12)"."""
    if not error:
        return ""
    message = str(error.get("message") or "").strip().splitlines()
    where = error.get("line") or error.get("location")
    return (message[0] if message else "an exception") + (f" ({where})" if where else "")


@dataclass
class StoredScenario:
    entry: dict[str, Any]
    ops: list[Op]
    results: dict[str, Result]
    schedule: list[dict[str, Any]]
    traceback: str = ""
    checks: dict[str, Check] = field(default_factory=dict)
    final_reads: dict[str, Any] = field(default_factory=dict)


def load_summary(run_dir: Path) -> dict[str, Any]:
    """The summary, with the fields an older run may lack filled in (its verdicts decided by today's
    rules from its outcomes and checker verdicts), so any stored run renders and reads alike."""
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    summary.setdefault("started", "?")
    summary.setdefault("settings", {})
    for entry in summary.setdefault("scenarios", []):
        entry.setdefault("folder", slug(entry["name"]))
        entry.setdefault("outcome", "unknown")
        entry.setdefault("duration_s", 0.0)
        entry.setdefault("seed", summary.get("seed"))
        entry.setdefault("note", "")
        entry.setdefault("error", None)
        entry.setdefault("evidence", [])
        if "verdict" not in entry:  # an older run: "valid" was the checkers' merged verdict
            entry["checkers"] = entry.get("valid")
            verdict = scenario_verdict(entry["outcome"], checkers=entry.get("valid"), note=entry["note"],
                                       error=_headline(entry["error"]))
            entry.update(verdict.to_json(), valid=verdict.valid)
    if "verdict" not in summary:
        verdict = run_verdict([Verdict(e["verdict"], e.get("reason", "")) for e in summary["scenarios"]])
        summary.update(verdict.to_json(), valid=verdict.valid)
    return summary


def load_scenario(run_dir: Path, entry: dict[str, Any]) -> StoredScenario:
    folder = run_dir / entry["folder"]
    raw = _read_json(folder / "results.json", {})
    history = folder / "history.jsonl"
    error = folder / "error.txt"
    return StoredScenario(entry, read_jsonl(history) if history.exists() else [],
                          {name: Result.from_json(r) for name, r in raw.items()},
                          _read_json(folder / "schedule.json", []),
                          error.read_text(encoding="utf-8") if error.exists() else "",
                          {name: Check.from_json(c) for name, c in _read_json(folder / "checks.json", {}).items()},
                          _read_json(folder / "final_reads.json", {}))


def _read_json(path: Path, missing: Any) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else missing
