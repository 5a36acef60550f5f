"""The contract checker: a definite answer to every call outside fault windows; inside one, only the
outage answers the profile names."""
from __future__ import annotations

import uuid

import pytest

from chaos.checkers import contract
from chaos.history import Call, Fault, build

pytestmark = pytest.mark.unit
PAUSE = Fault(1.0, 2.0, {"fault": "pause", "target": "api_1"})


def call(start: float, kind: str = "ok", status: int | None = 201, error: str | None = None, f: str = "purchase",
         process: str | None = None) -> Call:
    return Call(process or f"c{start}", f, {"event_id": str(uuid.uuid4())}, kind, start, start + 0.1, status=status,
                error=error)


def kinds(result) -> list[str]:
    return sorted(a.kind for a in result.anomalies)


def test_definite_answers_outside_and_outage_answers_inside_a_fault_are_valid() -> None:
    history = build([call(0.0), call(0.2, "fail", 409, "sold_out"), call(1.2, "info", None, "ReadTimeout"),
                     call(1.5, "info", 503, "unavailable"), call(8.0)], [PAUSE])
    result = contract.check(history, outage=("5xx",))
    assert result.valid is True and result.anomalies == []
    assert result.evidence["definite_outside_faults"].count == 3 and result.evidence["outage_answers"].count == 2


@pytest.mark.parametrize("kind, status, error", [("info", None, "ReadTimeout"), ("fail", 500, "internal"),
                                                 ("info", 502, None)])
def test_a_timeout_or_a_5xx_with_no_fault_in_force_is_an_indefinite_answer(kind: str, status: int | None,
                                                                           error: str | None) -> None:
    history = build([call(0.0), call(8.0, kind, status, error, f="generate_invoice")], [PAUSE])
    result = contract.check(history)
    assert kinds(result) == ["indefinite_answer"] and result.valid is False
    message = result.anomalies[0].message
    assert "generate_invoice" in message and str(status if status else "no status") in message and "8.000 s" in message
    assert result.anomalies[0].ops == (4, 5)  # after the fault's start and stop


def test_an_indefinite_answer_says_how_long_after_the_last_heal_it_began() -> None:
    """A hang soon after a heal points at what the fault left behind (a dead connection, a held lock)."""
    history = build([call(9.5, "info", None, "ReadTimeout"), call(0.5, "info", None, "ReadTimeout")], [PAUSE])
    messages = sorted(a.message for a in contract.check(history).anomalies)
    assert messages[0].endswith("with no fault in force")  # before any fault: nothing to point at
    assert messages[1].endswith("with no fault in force (7.5 s after pause api_1 healed)")


def test_the_grace_after_a_fault_excuses_the_pools_catching_up() -> None:
    history = build([call(2.5, "info", 503, "unavailable"), call(0.0)], [PAUSE])
    assert kinds(contract.check(history, grace_s=2.0)) == []
    assert kinds(contract.check(history, grace_s=0.1)) == ["indefinite_answer"]


@pytest.mark.parametrize("outage", [(503,), ("503",), ("503-504",)])
def test_inside_a_fault_only_the_named_outage_answers_are_expected(outage: tuple) -> None:
    fine = build([call(0.0), call(1.2, "info", 503, "unavailable")], [PAUSE])
    assert kinds(contract.check(fine, outage=outage)) == []
    odd = build([call(0.0), call(1.2, "fail", 500, "internal")], [PAUSE])
    result = contract.check(odd, outage=outage)
    assert kinds(result) == ["unexpected_outage_answer"] and "pause api_1" in result.anomalies[0].message


def test_refusals_inside_a_fault_are_definite_answers_and_fine() -> None:
    history = build([call(0.0), call(1.2, "fail", 409, "sold_out")], [PAUSE])
    assert kinds(contract.check(history, outage=(503,))) == []


def test_a_fault_never_stopped_lasts_to_the_end_of_the_history() -> None:
    history = build([call(0.0), call(3.0, "info", None, "ReadTimeout")], [Fault(1.0, None, {"fault": "kill"})])
    assert kinds(contract.check(history)) == []


def test_only_the_named_operations_are_judged() -> None:
    history = build([call(0.0, "info", None, "ReadTimeout", f="read"), call(0.5, f="purchase")])
    result = contract.check(history, fs=["purchase"], claims=["definite_outside_faults"])
    assert result.valid is True and result.stats["calls"] == 1


def test_a_run_with_no_fault_has_no_evidence_of_outage_answers() -> None:
    result = contract.check(build([call(0.0)]))
    assert result.valid == "unknown" and result.reason == "not exercised (a call inside a fault window)"
    assert contract.check(build([call(0.0)]), claims=["definite_outside_faults"]).valid is True


def test_no_calls_at_all_is_not_exercised() -> None:
    result = contract.check([], claims=["definite_outside_faults"])
    assert result.valid == "unknown" and "a call outside fault windows" in result.reason


def test_an_outage_entry_that_is_not_a_status_is_refused() -> None:
    with pytest.raises(ValueError, match="not a status"):
        contract.check([], outage=("unavailable",))
