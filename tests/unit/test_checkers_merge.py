"""Composing checkers: the worst verdict wins, and a checker that raises is unknown, not a pass."""
from __future__ import annotations

from functools import partial

import pytest

from chaos.checkers import compose, invoices, latency, locks, merge
from chaos.checkers.result import Anomaly, Result, merge_valid
from chaos.history import sequential

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("values, merged", [
    ([True, True], True), ([True, "unknown"], "unknown"), (["unknown", False], False), ([True, False], False),
    ([], "unknown")])  # nothing checked is never valid
def test_false_beats_unknown_beats_true(values: list, merged) -> None:
    assert merge_valid(values) == merged


def test_compose_runs_each_checker_and_keeps_its_verdict_and_anomaly_counts() -> None:
    history = sequential([("generate_invoice", {"user_id": 1, "period": "2026-01"}, "ok",
                           {"status": 200, "result": {"invoice_id": 1}})])
    bad_locks = [{"kind": "acquire", "key": "k", "token": t, "t": float(i), "expire_s": 10.0}
                 for i, t in enumerate("ab")]
    result = compose({"invoices": partial(invoices.check, history, {1: [{"invoice_id": 1, "user_id": 1,
                                                                          "period": "2026-01"}]},
                                          claims=("none_lost",)),
                      "locks": partial(locks.check, bad_locks),
                      "latency": partial(latency.check, [])})
    assert result.valid is False
    assert [a.kind for a in result.anomalies] == ["overlap"]
    assert result.stats["invoices"]["valid"] is True and result.stats["locks"]["anomalies"] == {"overlap": 1}
    assert result.stats["latency"]["valid"] == "unknown"


def test_a_checker_that_raises_is_unknown_with_its_error() -> None:
    def broken() -> Result:
        raise KeyError("period")

    result = compose({"invoices": broken})
    assert result.valid == "unknown"
    assert "KeyError" in result.stats["invoices"]["error"]


def test_a_missing_field_is_not_checked_never_an_anomaly() -> None:
    result = compose({"invoices": partial(invoices.check, [], {1: [{"no": "period"}]})})
    assert result.valid == "unknown" and not result.anomalies
    assert "not checked" in result.reason and "period" in result.reason


def test_merge_takes_results_by_name_or_by_checker() -> None:
    a, b = Result("a", True), Result("b", False, [Anomaly("x", "m")])
    assert merge([a, b]).valid is False and set(merge([a, b]).stats) == {"a", "b"}
    assert set(merge({"first": a}).stats) == {"first"}


def test_results_round_trip_through_json() -> None:
    result = Result("locks", False, [Anomaly("overlap", "m", (3, {"lock_event": 1, "token": "a"}))], {"n": 1})
    again = Result.from_json(result.to_json())
    assert again == result and again.anomalies[0].op_indexes == (3,) and again.anomalies[0].records[0]["token"] == "a"
