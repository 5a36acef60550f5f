"""The latency checker: percentiles and throughput per f and per phase, against bounds."""
from __future__ import annotations

import pytest

from chaos.checkers import latency
from chaos.history import Call, Fault, build

pytestmark = pytest.mark.unit
PARTITION = {"fault": "partition", "target": "api_2->redis"}


def reads(start: float, stop: float, every: float, seconds: float, kind: str = "ok", f: str = "read",
          process: str = "c") -> list[Call]:
    calls, t = [], start
    while t + seconds <= stop:
        calls.append(Call(process, f, {}, kind, t, t + seconds, status=200))
        t += every
    return calls


def history_with_fault() -> list:
    """Fast reads for 10 s, slow ones during a fault from 10 s to 20 s, fast again until 30 s."""
    return build(reads(0, 10, 0.1, 0.01) + reads(10, 20, 0.5, 0.4) + reads(20, 30, 0.1, 0.02)
                 + reads(10, 20, 1.0, 0.0, kind="fail", process="d"),
                 [Fault(10.0, 20.0, PARTITION)])


def test_percentiles_and_throughput_per_phase() -> None:
    stats = latency.check(history_with_fault()).stats
    read = stats["read"]
    assert set(read) == {"all", "before", "during", "after"}
    assert read["before"]["p50"] == pytest.approx(0.01) and read["during"]["p95"] == pytest.approx(0.4)
    assert read["after"]["p99"] == pytest.approx(0.02)
    assert read["before"]["throughput"] == pytest.approx(10, rel=0.05)
    assert read["during"]["throughput"] == pytest.approx(2, rel=0.1)
    assert read["during"]["fail"] == 11 and read["before"]["fail"] == 0
    assert stats["phases_s"]["during"] == pytest.approx(10.0)


def test_bounds_on_the_whole_run_and_on_one_phase() -> None:
    history = history_with_fault()
    assert latency.check(history, {"read": {"p50": 0.05}}).valid is True
    slow = latency.check(history, {"read": {"p99": 0.1}})
    assert [a.kind for a in slow.anomalies] == ["slow"] and len(slow.anomalies[0].ops) == 5
    assert latency.check(history, {"read@after": {"p99": 0.05}}).valid is True
    assert latency.check(history, {"read@during": {"p50": 0.05}}).valid is False


def test_a_minimum_throughput_is_a_bound_too() -> None:
    history = history_with_fault()
    assert latency.check(history, {"read@before": {"throughput": 5}}).valid is True
    assert latency.check(history, {"read@during": {"throughput": 5}}).anomalies[0].kind == "slow"


def test_no_data_is_unknown_not_valid() -> None:
    assert latency.check([]).valid == "unknown"
    only_failures = build(reads(0, 1, 0.1, 0.01, kind="fail"))
    assert latency.check(only_failures).valid == "unknown"
    assert latency.check(history_with_fault(), {"activate": {"p95": 1.0}}).valid == "unknown"


def test_without_faults_there_is_one_phase() -> None:
    stats = latency.check(build(reads(0, 1, 0.1, 0.01))).stats
    assert set(stats["read"]) == {"all"}


@pytest.mark.parametrize("q, expected", [(50, 50), (95, 95), (99, 99), (100, 100), (1, 1)])
def test_nearest_rank_percentile(q: int, expected: int) -> None:
    assert latency.percentile(list(range(100, 0, -1)), q) == expected
