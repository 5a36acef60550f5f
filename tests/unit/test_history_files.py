"""JSONL round trip, pairing and fault windows; hand-made histories record like real ones."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chaos.history import (Call, Fault, Op, Recorder, build, nemesis_windows, pairs, read_jsonl, sequential,
                           write_jsonl)

pytestmark = pytest.mark.unit

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8)

ops = st.builds(
    Op, process=st.text(min_size=1, max_size=8), type=st.sampled_from(["invoke", "ok", "fail", "info"]),
    f=st.sampled_from(["generate_invoice", "activate", "read", "start"]),
    value=st.dictionaries(st.text(max_size=8), json_values, max_size=4), time=st.integers(0, 2**62),
    instance=st.none() | st.text(max_size=8), status=st.none() | st.integers(100, 599),
    latency=st.none() | st.floats(0, 1e4, allow_nan=False), error=st.none() | st.text(max_size=12),
    index=st.integers(0, 10**6))


@settings(max_examples=40, deadline=None)
@given(st.lists(ops, max_size=12))
def test_any_history_reads_back_exactly_from_jsonl(tmp_path_factory, history: list[Op]) -> None:
    path = tmp_path_factory.mktemp("h") / "history.jsonl"
    write_jsonl(history, path)
    assert read_jsonl(path) == history


def test_a_recorded_history_with_faults_and_an_open_call_reads_back_exactly(tmp_path: Path) -> None:
    recorder = Recorder()
    recorder.nemesis_start({"fault": "latency", "target": "api_2->redis", "latency": 300})
    recorder.record("c", "generate_invoice", {"user_id": 1, "period": "2026-01"}, "info", error="ReadTimeout")
    recorder.invoke("d", "activate", {"key": "k", "params": {"payment_method": "card"}})
    recorder.write_jsonl(tmp_path / "run" / "history.jsonl")
    assert read_jsonl(tmp_path / "run" / "history.jsonl") == recorder.ops


def test_an_unknown_type_is_refused_when_read(tmp_path: Path) -> None:
    (tmp_path / "h.jsonl").write_text('{"process": "c", "type": "maybe", "f": "read"}\n')
    with pytest.raises(ValueError, match="operation type"):
        read_jsonl(tmp_path / "h.jsonl")


def test_pairs_follow_each_process_even_when_completions_interleave() -> None:
    history = build([Call("a", "generate_invoice", {"n": 1}, "ok", 0.0, 0.5, status=200),
                     Call("b", "generate_invoice", {"n": 2}, "fail", 0.1, 0.2, status=409),
                     Call("a", "read", {"n": 3}, "ok", 0.6, 0.7)])
    assert [(inv.value["n"], done.type, done.status) for inv, done in pairs(history)] == [
        (1, "ok", 200), (2, "fail", 409), (3, "ok", None)]


def test_a_completion_without_its_invoke_pairs_with_itself() -> None:
    lone = Op("c", "ok", "read", {"x": 1}, time=5, index=0)
    (invoke, done), = pairs([lone])
    assert invoke.type == "invoke" and done is lone


def test_fault_windows_match_stops_by_description_then_by_fault_and_target() -> None:
    recorder = Recorder()
    recorder.nemesis_start({"fault": "latency", "target": "api_1->redis", "latency": 100})
    recorder.nemesis_start({"fault": "latency", "target": "api_2->redis", "latency": 300})
    recorder.nemesis_stop({"fault": "latency", "target": "api_2->redis"})  # fewer fields than its start
    recorder.nemesis_stop({"fault": "latency", "target": "api_1->redis", "latency": 100})
    recorder.nemesis_start({"fault": "pause", "target": "api_3"})
    windows = nemesis_windows(recorder.ops)
    assert [(w.label, w.stop is not None) for w in windows] == [
        ("latency api_1->redis", True), ("latency api_2->redis", True), ("pause api_3", False)]
    assert windows[1].fault["latency"] == 300 and windows[2].end(10**12) == 10**12


def test_hand_made_histories_interleave_calls_and_faults_by_time() -> None:
    history = build([Call("a", "read", {}, "ok", 0.0, 2.0), Call("b", "read", {}, "info", 0.5, 1.5)],
                    [Fault(1.0, 3.0, {"fault": "pause", "target": "api_1"})])
    assert [(op.process, op.type, op.f) for op in history] == [
        ("a", "invoke", "read"), ("b", "invoke", "read"), ("nemesis", "info", "start"), ("b", "info", "read"),
        ("a", "ok", "read"), ("nemesis", "info", "stop")]
    assert history[3].latency == pytest.approx(1.0) and history[2].time == 1_000_000_000
    assert [op.index for op in history] == list(range(6))
    with pytest.raises(ValueError, match="ends before it starts"):
        build([Call("a", "read", {}, "ok", 2.0, 1.0)])


def test_sequential_histories_are_one_call_after_the_other() -> None:
    history = sequential([("generate_invoice", {"user_id": 1}, "ok", {"status": 200, "result": {"invoice_id": 3}}),
                          ("generate_invoice", {"user_id": 1}, "fail", {"status": 409, "error": "invoice_exists"})])
    assert [(op.type, op.value.get("invoice_id"), op.error) for op in history] == [
        ("invoke", None, None), ("ok", 3, None), ("invoke", None, None), ("fail", None, "invoice_exists")]
