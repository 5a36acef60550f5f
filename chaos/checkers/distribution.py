"""Work spreads: per api instance and per Celery worker, from the history and from Flower.

The history gives each ok operation's instance (its X-Instance header) and
each finished async task's worker (the task result's hostname, which the
scenario copies into the completion's value as ``worker``). Flower's
``/api/workers`` gives per worker ``stats.total`` as a dict of task name ->
count, NOT a number (the seed document's mistake); pass the response taken
before the run as ``flower_baseline`` so that earlier work is subtracted.

Anomalies: ``too_few_active`` (fewer instances or workers did work than
expected: the load balancer or the broker is not spreading it), ``lopsided``
(one of them did more than ``max_share`` of it), ``disagreement`` (Flower
and the history count different work per worker).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from chaos.checkers.result import Anomaly, Result, verdict
from chaos.history import Op, pairs

TASK = "billing.generate_invoice"


def flower_totals(workers: Mapping[str, Mapping[str, Any]], task: str | None = TASK) -> Counter[str]:
    """Tasks per worker from Flower's /api/workers: ``task`` only, or every task when None."""
    totals: Counter[str] = Counter()
    for name, info in workers.items():
        total = ((info or {}).get("stats") or {}).get("total")
        if isinstance(total, Mapping):
            totals[name] = int(total.get(task, 0)) if task else int(sum(total.values()))
        elif isinstance(total, (int, float)):  # a number: not what Flower sends, but unambiguous
            totals[name] = int(total)
        else:
            totals[name] = 0
    return totals


def work_per_instance(history: Sequence[Op]) -> Counter[str]:
    return Counter(p.completion.instance for p in pairs(history)
                   if p.completion.type == "ok" and p.completion.instance)


def work_per_worker(history: Sequence[Op]) -> Counter[str]:
    """Finished tasks per worker; a task seen twice (polled twice) counts once."""
    seen: dict[Any, str] = {}
    for pair in pairs(history):
        done = pair.completion
        if done.type == "ok" and done.value.get("worker"):
            seen[done.value.get("task_id") or ("op", done.index)] = str(done.value["worker"])
    return Counter(seen.values())


def check(history: Sequence[Op], *, min_instances: int = 1, min_workers: int = 0,
          flower_workers: Mapping[str, Mapping[str, Any]] | None = None,
          flower_baseline: Mapping[str, Mapping[str, Any]] | None = None,
          max_share: float | None = None, max_worker_share: float | None = None,
          task: str | None = TASK) -> Result:
    anomalies: list[Anomaly] = []
    instances = work_per_instance(history)
    workers = work_per_worker(history)
    anomalies += _spread("api instance", instances, min_instances, max_share)
    anomalies += _spread("worker", workers, min_workers, max_worker_share)
    stats: dict[str, Any] = {"per_instance": dict(sorted(instances.items())),
                             "per_worker": dict(sorted(workers.items()))}
    if flower_workers is not None:
        flower = +(flower_totals(flower_workers, task) - flower_totals(flower_baseline or {}, task))
        stats["per_worker_flower"] = dict(sorted(flower.items()))
        if flower != +workers:
            differing = sorted(set(flower) | set(workers))
            detail = ", ".join(f"{w}: Flower {flower.get(w, 0)}, history {workers.get(w, 0)}" for w in differing
                               if flower.get(w, 0) != workers.get(w, 0))
            anomalies.append(Anomaly("disagreement", f"Flower and the history count different tasks per worker "
                                     f"({detail})"))
    return Result("distribution", verdict(anomalies), anomalies, stats)


def _spread(what: str, counts: Counter[str], minimum: int, max_share: float | None) -> list[Anomaly]:
    found = []
    if len(counts) < minimum:
        found.append(Anomaly("too_few_active", f"{len(counts)} {what}(s) did work ({dict(counts)}), expected at "
                             f"least {minimum}"))
    total = sum(counts.values())
    if max_share is not None and total:
        name, most = counts.most_common(1)[0]
        if most / total > max_share:
            found.append(Anomaly("lopsided", f"{what} {name} did {most} of {total} ({most / total:.0%}), more "
                                 f"than {max_share:.0%}"))
    return found
