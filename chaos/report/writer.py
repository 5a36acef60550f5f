"""Store, then report: the run's files are written first, and the HTML is rendered from them alone."""
from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from chaos.report import plots, verdicts, views
from chaos.report.model import RunRecord, ScenarioRecord
from chaos.report.store import StoredScenario, load_scenario, load_summary, slug, store
from chaos.report.timeline import timeline

__all__ = ["render", "slug", "write_report"]

_templates = Environment(loader=PackageLoader("chaos.report", "templates"), autoescape=True,
                         undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_templates.filters["short"] = views.short
_templates.globals["replay_options"] = verdicts.replay_options


def write_report(run_dir: Path | str, run: RunRecord | str, scenarios: Sequence[ScenarioRecord] | None = None, *,
                 seed: int | None = None, started: str | None = None,
                 settings: Mapping[str, Any] | None = None) -> Path:
    """Store the run under ``reports/<run-id>/`` and render it; returns the path of index.html.

    ``run`` is a RunRecord, or the run id with ``scenarios`` (and optionally the run's seed,
    start time and settings). ``run_dir`` is the run's own folder; given the reports folder
    (any folder not named after the run), the run goes into ``run_dir/<run-id>``.
    """
    if isinstance(run, str):
        if seed is None:
            seed = next((s.seed for s in scenarios or () if s.seed is not None), None)
        run = RunRecord(run_id=run, seed=seed,
                        started=started or time.strftime("%Y-%m-%d %H:%M:%S"), settings=dict(settings or {}),
                        scenarios=list(scenarios or ()))
    folder = Path(run_dir)
    if folder.name != run.run_id:
        folder = folder / run.run_id
    store(folder, run)
    return render(folder)


def render(run_dir: Path) -> Path:
    """(Re-)render every page of a stored run; returns index.html."""
    run_dir = Path(run_dir)
    summary = load_summary(run_dir)
    for entry in summary["scenarios"]:
        page = scenario_page(summary, load_scenario(run_dir, entry))
        (run_dir / f"{entry['folder']}.html").write_text(page, encoding="utf-8")
    index = run_dir / "index.html"
    index.write_text(_templates.get_template("index.html.j2").render(
        summary=summary, verdict=verdicts.Verdict(summary["verdict"], summary.get("reason", "")),
        scenario_verdicts={e["folder"]: verdicts.Verdict(e["verdict"], e.get("reason", ""))
                           for e in summary["scenarios"]},
        outcomes=_outcomes(summary)), encoding="utf-8")
    return index


def _outcomes(summary: Mapping[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in summary["scenarios"]:
        counts[entry["outcome"]] = counts.get(entry["outcome"], 0) + 1
    return counts


def scenario_page(summary: Mapping[str, Any], scenario: StoredScenario) -> str:
    ops, results = scenario.ops, scenario.results
    anomalies = [a for r in results.values() for a in r.anomalies]
    history_workers, flower_workers = views.worker_counts(ops, results)
    return _templates.get_template("scenario.html.j2").render(
        summary=summary, entry=scenario.entry, schedule=scenario.schedule,
        seed=scenario.entry.get("seed", summary.get("seed")),
        verdict=verdicts.Verdict(scenario.entry["verdict"], scenario.entry.get("reason", "")),
        error=scenario.entry.get("error"), traceback=scenario.traceback,
        evidence=verdicts.evidence_rows(results),
        counts=views.outcome_counts(ops), checkers=views.checker_rows(results),
        groups=views.anomaly_groups(results, views.call_rows(ops)),
        faults=views.fault_rows(ops), latency_rows=views.latency_rows(ops),
        timeline=timeline(ops, anomalies), latency=plots.latency_over_time(ops), throughput=plots.throughput(ops),
        per_instance=plots.work_per_instance(ops), per_worker=plots.work_per_worker(history_workers, flower_workers))
