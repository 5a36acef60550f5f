"""Work spreads: per api instance and per Celery worker, from the history and from Flower.

Flower's /api/workers gives, per worker, ``stats.total`` as a dict of task
name -> count (not a number: the seed document's mistake). The history gives
each finished async task's worker (its result carries the hostname).
"""
from __future__ import annotations

from collections import Counter

from chaos.checkers.result import Anomaly, Result, verdict
from chaos.history import Op, pairs

TASK = "billing.generate_invoice"


def flower_totals(workers: dict[str, dict], task: str = TASK) -> Counter[str]:
    return Counter({name: int((info.get("stats", {}).get("total") or {}).get(task, 0))
                    for name, info in workers.items()})


def check(history: list[Op], *, min_instances: int = 1, min_workers: int = 0,
          flower_workers: dict[str, dict] | None = None, flower_baseline: dict[str, dict] | None = None,
          max_share: float | None = None) -> Result:
    anomalies: list[Anomaly] = []
    instances = Counter(done.instance for _, done in pairs(history) if done.type == "ok" and done.instance)
    workers = Counter(done.value["worker"] for _, done in pairs(history)
                      if done.type == "ok" and done.value.get("worker"))
    if len(instances) < min_instances:
        anomalies.append(Anomaly("too_few_active", f"{len(instances)} api instances did work "
                                 f"({dict(instances)}), expected at least {min_instances}"))
    if len(workers) < min_workers:
        anomalies.append(Anomaly("too_few_active", f"{len(workers)} workers ran tasks ({dict(workers)}), "
                                 f"expected at least {min_workers}"))
    if max_share is not None and instances:
        name, most = instances.most_common(1)[0]
        if most / sum(instances.values()) > max_share:
            anomalies.append(Anomaly("lopsided", f"{name} did {most} of {sum(instances.values())} operations, "
                                     f"more than {max_share:.0%}"))
    stats = {"per_instance": dict(instances), "per_worker": dict(workers)}
    if flower_workers is not None:
        flower = flower_totals(flower_workers) - flower_totals(flower_baseline or {})
        stats["per_worker_flower"] = dict(flower)
        if +flower != +workers:
            anomalies.append(Anomaly("disagreement", f"Flower counts {dict(+flower)}, the history {dict(workers)}"))
    return Result("distribution", verdict(anomalies), anomalies, stats)
