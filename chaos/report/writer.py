"""Store, then report: the run's files are written first, and the HTML is rendered from them alone."""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from chaos.checkers.result import Anomaly, Result, merge_valid
from chaos.history import Op, pairs, read_jsonl, write_jsonl
from chaos.report import plots
from chaos.report.model import RunRecord

_templates = Environment(loader=PackageLoader("chaos.report", "templates"), autoescape=select_autoescape())


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")[:120]


def store(run_dir: Path, run: RunRecord) -> None:
    for scenario in run.scenarios:
        folder = run_dir / slug(scenario.name)
        write_jsonl(scenario.ops, folder / "history.jsonl")
        (folder / "results.json").write_text(json.dumps(
            {name: result.to_json() for name, result in scenario.results.items()}, indent=2, default=str))
        (folder / "schedule.json").write_text(json.dumps(scenario.schedule, indent=2))
    summary = {"run_id": run.run_id, "seed": run.seed, "started": run.started, "settings": run.settings,
               "scenarios": [{"name": s.name, "folder": slug(s.name), "outcome": s.outcome,
                              "duration_s": round(s.duration_s, 2),
                              "valid": merge_valid([r.valid for r in s.results.values()]) if s.results else None}
                             for s in run.scenarios]}
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2))


def _load_results(folder: Path) -> dict[str, Result]:
    raw = json.loads((folder / "results.json").read_text())
    return {name: Result(r["checker"], r["valid"], [Anomaly(a["kind"], a["message"], tuple(a["ops"]))
                                                    for a in r["anomalies"]], r["stats"])
            for name, r in raw.items()}


def render(run_dir: Path) -> Path:
    """(Re-)render every page of a stored run; returns index.html."""
    summary = json.loads((run_dir / "summary.json").read_text())
    for entry in summary["scenarios"]:
        folder = run_dir / entry["folder"]
        ops = read_jsonl(folder / "history.jsonl")
        results = _load_results(folder)
        schedule = json.loads((folder / "schedule.json").read_text())
        (run_dir / f"{entry['folder']}.html").write_text(_scenario_page(summary, entry, ops, results, schedule))
    index = run_dir / "index.html"
    index.write_text(_templates.get_template("index.html.j2").render(summary=summary))
    return index


def _scenario_page(summary: dict[str, Any], entry: dict[str, Any], ops: list[Op], results: dict[str, Result],
                   schedule: list[dict[str, Any]]) -> str:
    anomalies = [a for r in results.values() for a in r.anomalies]
    by_index = {op.index: op for op in ops}
    done = pairs(ops)
    per_instance = Counter(c.instance for _, c in done if c.type == "ok" and c.instance)
    per_worker = Counter(c.value["worker"] for _, c in done if c.type == "ok" and c.value.get("worker"))
    counts = Counter(c.type for _, c in done)
    return _templates.get_template("scenario.html.j2").render(
        summary=summary, entry=entry, results=results, schedule=schedule, counts=counts,
        anomalies=[(a, [by_index[i] for i in a.ops if i in by_index]) for a in anomalies],
        timeline=plots.timeline(ops, anomalies), latency=plots.latency_over_time(ops),
        throughput=plots.throughput(ops), per_instance=plots.work_per(dict(per_instance), "ok operations per api instance"),
        per_worker=plots.work_per(dict(per_worker), "tasks per worker"))


def write_report(run_dir: Path, run: RunRecord) -> Path:
    store(run_dir, run)
    return render(run_dir)
