"""Store, then report: a run's files, written before any HTML and read back to render it.

Layout of ``reports/<run-id>/``: ``summary.json`` (seed, settings, each
scenario's outcome, verdict and anomaly counts), and per scenario a folder
with ``history.jsonl``, ``results.json``, ``schedule.json`` and, when the
scenario kept them, ``final_reads.json``. The pages are made from these
files alone, so ``python -m chaos.report`` renders an old run again.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaos.checkers.result import Result, merge_valid
from chaos.history import Op, pairs, read_jsonl, write_jsonl
from chaos.report.model import RunRecord, ScenarioRecord


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
    summary = {"run_id": run.run_id, "seed": run.seed, "started": run.started, "settings": run.settings,
               "scenarios": entries}
    _write_json(run_dir / "summary.json", summary)
    return summary


def _store_scenario(path: Path, folder: str, scenario: ScenarioRecord, run_seed: int | None) -> dict[str, Any]:
    path.mkdir(parents=True, exist_ok=True)
    write_jsonl(scenario.history, path / "history.jsonl")
    _write_json(path / "results.json", {name: r.to_json() for name, r in scenario.results.items()})
    _write_json(path / "schedule.json", scenario.schedule)
    if scenario.final_reads is not None:
        _write_json(path / "final_reads.json", scenario.final_reads)
    calls = Counter(p.completion.type for p in pairs(scenario.history))
    anomalies = Counter(a.kind for r in scenario.results.values() for a in r.anomalies)
    return {"name": scenario.name, "folder": folder, "outcome": scenario.outcome,
            "duration_s": round(scenario.duration_s, 2),
            "seed": scenario.seed if scenario.seed is not None else run_seed,
            "valid": merge_valid([r.valid for r in scenario.results.values()]) if scenario.results else None,
            "operations": {"ok": calls["ok"], "fail": calls["fail"], "info": calls["info"]},
            "anomalies": dict(anomalies.most_common()), "note": scenario.note}


@dataclass
class StoredScenario:
    entry: dict[str, Any]
    ops: list[Op]
    results: dict[str, Result]
    schedule: list[dict[str, Any]]


def load_summary(run_dir: Path) -> dict[str, Any]:
    """The summary, with the fields an older run may lack filled in, so any stored run renders."""
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    summary.setdefault("started", "?")
    summary.setdefault("settings", {})
    for entry in summary.setdefault("scenarios", []):
        entry.setdefault("folder", slug(entry["name"]))
        entry.setdefault("outcome", "unknown")
        entry.setdefault("duration_s", 0.0)
        entry.setdefault("seed", summary.get("seed"))
        entry.setdefault("valid", None)
    return summary


def load_scenario(run_dir: Path, entry: dict[str, Any]) -> StoredScenario:
    folder = run_dir / entry["folder"]
    raw = _read_json(folder / "results.json", {})
    history = folder / "history.jsonl"
    return StoredScenario(entry, read_jsonl(history) if history.exists() else [],
                          {name: Result.from_json(r) for name, r in raw.items()},
                          _read_json(folder / "schedule.json", []))


def _read_json(path: Path, missing: Any) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else missing
