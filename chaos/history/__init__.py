"""The operation history: records, the recorder, JSONL, pairing and outcome classification."""
from chaos.history.classify import classify
from chaos.history.jsonl import read_jsonl, write_jsonl
from chaos.history.op import NEMESIS, Op
from chaos.history.pairs import nemesis_windows, pairs
from chaos.history.recorder import Recorder

__all__ = ["NEMESIS", "Op", "Recorder", "classify", "nemesis_windows", "pairs", "read_jsonl", "write_jsonl"]
