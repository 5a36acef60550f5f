"""The history: concurrent recording, JSONL round trip, pairing, fault windows and outcome classification."""
from __future__ import annotations

import concurrent.futures
from pathlib import Path

import pytest
import requests

from chaos.history import Recorder, classify, nemesis_windows, pairs, read_jsonl, write_jsonl

pytestmark = pytest.mark.unit


def test_many_threads_record_every_operation_once_and_in_time_order() -> None:
    recorder = Recorder()

    def client(i: int) -> None:
        for _ in range(200):
            recorder.complete(recorder.invoke(f"client_{i}", "read", {}), "ok", status=200)

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(client, range(16)))
    assert len(recorder.ops) == 16 * 200 * 2
    assert [op.index for op in recorder.ops] == list(range(len(recorder.ops)))
    assert all(a.time <= b.time for a, b in zip(recorder.ops, recorder.ops[1:]))
    assert len(pairs(recorder.ops)) == 16 * 200


def test_jsonl_reads_back_exactly(tmp_path: Path) -> None:
    recorder = Recorder()
    recorder.nemesis("start", {"fault": "partition", "target": "api_2->redis"})
    recorder.complete(recorder.invoke("c", "generate_invoice", {"user_id": 1, "period": "2026-01"}), "info",
                      error="ReadTimeout", latency=10.0)
    write_jsonl(recorder.ops, tmp_path / "history.jsonl")
    assert read_jsonl(tmp_path / "history.jsonl") == recorder.ops


def test_an_invoke_never_completed_counts_as_info() -> None:
    recorder = Recorder()
    recorder.invoke("c", "generate_invoice", {"user_id": 1})
    (_, completion), = pairs(recorder.ops)
    assert completion.type == "info" and completion.error == "never_completed"


def test_a_completion_must_say_ok_fail_or_info() -> None:
    recorder = Recorder()
    with pytest.raises(ValueError):
        recorder.complete(recorder.invoke("c", "read", {}), "maybe")  # type: ignore[arg-type]


def test_fault_windows_pair_start_and_stop_even_when_still_open() -> None:
    recorder = Recorder()
    recorder.nemesis("start", {"fault": "pause", "target": "api_1"})
    recorder.nemesis("start", {"fault": "partition", "target": "api_2->redis"})
    recorder.nemesis("stop", {"fault": "pause", "target": "api_1"})
    windows = nemesis_windows(recorder.ops)
    assert [(w[2]["fault"], w[1] is None) for w in windows] == [("pause", False), ("partition", True)]


@pytest.mark.parametrize("status, exc, method, outcome", [
    (200, None, "POST", "ok"), (201, None, "POST", "ok"), (409, None, "POST", "fail"), (422, None, "POST", "fail"),
    (503, None, "POST", "info"), (500, None, "POST", "info"), (503, None, "GET", "fail"),
    (None, requests.ReadTimeout("read timed out"), "POST", "info"),
    (None, requests.ConnectionError("Connection aborted: RemoteDisconnected"), "POST", "info"),
    (None, requests.ConnectTimeout("connect timed out"), "POST", "fail"),
    (None, requests.ConnectionError("[Errno 111] Connection refused"), "POST", "fail"),
    (None, requests.ReadTimeout("read timed out"), "GET", "fail"),
])
def test_outcomes_are_fail_only_when_nothing_can_have_happened(status, exc, method, outcome) -> None:
    assert classify(status, exc, method) == outcome
