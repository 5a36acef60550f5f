"""The operation history: records, the recorder, JSONL, pairing and outcome classification.

The history is the only truth of a run: checkers and reports are made from it
(and from final reads), never from logs.
"""
from chaos.history.classify import Outcome, classify
from chaos.history.handmade import Call, Fault, build, sequential
from chaos.history.jsonl import read_jsonl, write_jsonl
from chaos.history.op import NEMESIS, Completion, Op, OpType
from chaos.history.pairs import (NEVER_COMPLETED, FaultWindow, Pair, client_ops, end_time, nemesis_windows,
                                 pairs)
from chaos.history.recorder import Handle, Recorder

__all__ = ["NEMESIS", "NEVER_COMPLETED", "Call", "Completion", "Fault", "FaultWindow", "Handle", "Op", "OpType",
           "Outcome", "Pair", "Recorder", "build", "classify", "client_ops", "end_time", "nemesis_windows", "pairs",
           "read_jsonl", "sequential", "write_jsonl"]
