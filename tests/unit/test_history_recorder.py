"""The recorder: many client threads, one ordered history, the nemesis in it, nothing lost or doubled."""
from __future__ import annotations

import concurrent.futures
import threading

import pytest

from chaos.history import NEMESIS, Recorder, nemesis_windows, pairs

pytestmark = pytest.mark.unit


def test_concurrent_clients_get_unique_indexes_times_in_index_order_and_one_pair_per_call() -> None:
    recorder = Recorder()
    start = threading.Barrier(24)

    def client(i: int) -> None:
        start.wait()
        for n in range(150):
            handle = recorder.invoke(f"client_{i}", "generate_invoice", {"user_id": i, "n": n})
            recorder.complete(handle, "ok", value={"invoice_id": i * 1000 + n}, status=200, instance="api_1")

    with concurrent.futures.ThreadPoolExecutor(24) as pool:
        list(pool.map(client, range(24)))
    assert [op.index for op in recorder.ops] == list(range(24 * 150 * 2))
    assert all(a.time <= b.time for a, b in zip(recorder.ops, recorder.ops[1:]))
    calls = pairs(recorder.ops)
    assert len(calls) == 24 * 150
    assert all(inv.value["n"] == done.value["n"] and done.value["invoice_id"] % 1000 == inv.value["n"]
               for inv, done in calls)
    assert recorder.pending() == []


def test_the_completion_carries_the_request_updated_with_the_response() -> None:
    recorder = Recorder()
    handle = recorder.invoke("c", "generate_invoice", {"user_id": 1, "period": "2026-01"})
    done = recorder.complete(handle, "ok", value={"invoice_id": 7}, status=200, instance="api_2")
    assert done.value == {"user_id": 1, "period": "2026-01", "invoice_id": 7}
    assert (done.process, done.f, done.status, done.instance) == ("c", "generate_invoice", 200, "api_2")
    assert recorder.ops[0].value == {"user_id": 1, "period": "2026-01"}  # the invoke is unchanged


def test_latency_defaults_to_the_time_the_recorder_saw() -> None:
    now = [0]
    recorder = Recorder(clock=lambda: now[0])
    handle = recorder.invoke("c", "read")
    now[0] = 250_000_000
    assert recorder.complete(handle, "ok").latency == pytest.approx(0.25)
    handle = recorder.invoke("c", "read")
    assert recorder.complete(handle, "ok", latency=0.01).latency == 0.01


def test_a_handle_completes_once_and_only_as_ok_fail_or_info() -> None:
    recorder = Recorder()
    handle = recorder.invoke("c", "read")
    with pytest.raises(ValueError, match="ok, fail or info"):
        recorder.complete(handle, "invoke")  # type: ignore[arg-type]
    recorder.complete(handle, "fail", status=409)  # the bad call above left it open
    with pytest.raises(ValueError, match="not an open invocation"):
        recorder.complete(handle, "ok")


def test_open_invocations_are_pending_and_pair_as_info() -> None:
    recorder = Recorder()
    recorder.invoke("c", "activate", {"key": "k"})
    assert [op.f for op in recorder.pending()] == ["activate"]
    (_, done), = pairs(recorder.ops)
    assert done.type == "info" and done.error == "never_completed"


def test_faults_are_nemesis_info_operations_and_the_context_manager_always_stops_them() -> None:
    recorder = Recorder()
    fault = {"fault": "partition", "target": "api_2->redis"}
    with pytest.raises(RuntimeError), recorder.fault(fault):
        recorder.record("c", "read", {}, "ok", status=200)
        raise RuntimeError("the scenario failed inside the window")
    nemesis = [op for op in recorder.ops if op.process == NEMESIS]
    assert [(op.type, op.f, op.value) for op in nemesis] == [("info", "start", fault), ("info", "stop", fault)]
    (window,) = nemesis_windows(recorder.ops)
    assert window.label == "partition api_2->redis" and window.stop is not None
    assert recorder.completions()[0].f == "read"  # nemesis events are not completions


def test_a_snapshot_does_not_change_when_the_history_is_enriched_later() -> None:
    recorder = Recorder()
    recorder.record("c", "generate_invoice_async", {"user_id": 1}, "ok", value={"task_id": "t1"}, status=202)
    copy = recorder.snapshot()
    recorder.completions()[0].value["worker"] = "celery@w1"  # as a scenario does after polling the task
    assert "worker" not in copy[-1].value and recorder.ops[-1].value["worker"] == "celery@w1"
    assert len(recorder) == 2
