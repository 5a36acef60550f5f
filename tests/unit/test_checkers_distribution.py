"""The distribution checker: work spreads over instances and workers, and Flower agrees with the history."""
from __future__ import annotations

import pytest

from chaos.checkers import distribution
from chaos.history import sequential

pytestmark = pytest.mark.unit
TASK = "billing.generate_invoice"


def served(instance: str, kind: str = "ok"):
    return ("read", {}, kind, {"status": 200 if kind == "ok" else 503, "instance": instance})


def ran(task: str, worker: str):
    return ("generate_invoice_async", {"user_id": 1, "period": "2026-01"}, "ok",
            {"status": 202, "instance": "api_1", "result": {"task_id": task, "worker": worker}})


def flower(**totals: dict[str, int]) -> dict:
    """Flower's /api/workers: stats.total is a dict task name -> count, not a number."""
    return {name.replace("_", "@", 1): {"stats": {"total": counts}, "active_queues": []}
            for name, counts in totals.items()}


def kinds(result) -> list[str]:
    return sorted(a.kind for a in result.anomalies)


def test_work_on_every_instance_and_worker_with_flower_agreeing_is_valid() -> None:
    history = sequential([served(f"api_{i % 5 + 1}") for i in range(20)]
                         + [ran(f"t{i}", f"celery@w{i % 3}") for i in range(9)])
    workers = flower(celery_w0={TASK: 3, "celery.backend_cleanup": 1}, celery_w1={TASK: 3}, celery_w2={TASK: 3})
    result = distribution.check(history, min_instances=5, min_workers=3, flower_workers=workers, max_share=0.5)
    assert result.valid is True
    assert result.stats["per_worker"] == {"celery@w0": 3, "celery@w1": 3, "celery@w2": 3}
    assert result.stats["per_worker_flower"] == result.stats["per_worker"]


def test_only_ok_calls_count_as_work() -> None:
    history = sequential([served("api_1"), served("api_2", "info"), served("api_3", "fail")])
    assert distribution.check(history, min_instances=1).stats["per_instance"] == {"api_1": 1}


def test_one_instance_doing_everything_is_lopsided_and_too_few_are_active() -> None:
    history = sequential([served("api_1")] * 9 + [served("api_2")])
    result = distribution.check(history, min_instances=5, max_share=0.5)
    assert kinds(result) == ["lopsided", "too_few_active"]
    assert "api_1 did 9 of 10 (90%)" in next(a.message for a in result.anomalies if a.kind == "lopsided")


def test_workers_are_judged_by_their_own_share() -> None:
    history = sequential([ran(f"t{i}", "celery@w0") for i in range(5)] + [ran("t9", "celery@w1")])
    assert kinds(distribution.check(history, min_workers=2, max_worker_share=0.6)) == ["lopsided"]
    assert kinds(distribution.check(history, min_workers=3)) == ["too_few_active"]


def test_flower_counting_other_work_than_the_history_is_a_disagreement() -> None:
    history = sequential([ran("t1", "celery@w0"), ran("t2", "celery@w1")])
    result = distribution.check(history, flower_workers=flower(celery_w0={TASK: 2}, celery_w1={TASK: 0}))
    assert kinds(result) == ["disagreement"] and "celery@w1: Flower 0, history 1" in result.anomalies[0].message


def test_flower_work_from_before_the_run_is_subtracted() -> None:
    history = sequential([ran("t1", "celery@w0")])
    before = flower(celery_w0={TASK: 40})
    after = flower(celery_w0={TASK: 41}, celery_w1={TASK: 0})
    assert distribution.check(history, flower_workers=after, flower_baseline=before).valid is True


def test_a_task_polled_twice_counts_once() -> None:
    history = sequential([ran("t1", "celery@w0"), ran("t1", "celery@w0")])
    assert distribution.check(history).stats["per_worker"] == {"celery@w0": 1}


def test_flower_totals_read_the_dict_per_task() -> None:
    workers = {"celery@a": {"stats": {"total": {TASK: 4, "other": 2}}}, "celery@b": {"stats": {}},
               "celery@c": {"stats": {"total": 3}}, "celery@d": {}}
    assert distribution.flower_totals(workers) == {"celery@a": 4, "celery@b": 0, "celery@c": 3, "celery@d": 0}
    assert distribution.flower_totals(workers, task=None)["celery@a"] == 6
