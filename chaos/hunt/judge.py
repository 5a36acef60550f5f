"""Judge one hunt try by every checker the history gives material to, and name what it found.

A hunt claims everything (``claims=None``): a checker whose situation the
try never reached says "not exercised", and the hunt's evidence table shows
which situations were reached and how often. The anomaly that a shrink must
keep is named by its checker and kind (``idempotency/replay_mismatch``).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chaos.checkers import accounts, async_invoices, capacity, contract, idempotency, invoices
from chaos.checkers.result import Result
from chaos.history import Op
from chaos.target.model import TargetProfile


@dataclass
class Final:
    """The final reads of one try, after the faults healed and the tasks settled."""

    invoices: Mapping[Any, Sequence[Mapping[str, Any]]]
    capacity: Mapping[str, Mapping[Any, Mapping[str, Any]]]


def judge(profile: TargetProfile, history: Sequence[Op], final: Final) -> list[Result]:
    """Every checker whose operations the history holds, on the history and the final reads."""
    fs = {op.f for op in history if not op.is_nemesis}
    identity, activation = profile.identity("invoice"), profile.identity("activation")
    results = []
    if fs & {"generate_invoice", "activate"}:
        results.append(invoices.check(history, final.invoices, identity=identity, activation=activation))
    if "generate_invoice_async" in fs:
        results.append(async_invoices.check(history, final.invoices, identity=identity, activation=activation))
    if "activate" in fs:
        results.append(idempotency.check(history, final.invoices, replay_flag=_has_replay_flag(profile)))
    if fs & {"purchase_ticket", "book_slot"}:
        results.append(capacity.check(history, final.capacity))
    if "register" in fs:
        results.append(accounts.check(history))
    results.append(contract.check(history, outage=profile.outages))
    return results


def _has_replay_flag(profile: TargetProfile) -> bool:
    """Does the target mark a replay (billing's ``Idempotent-Replayed``)? Without it the flag is ignored."""
    mapped = profile.operations.get("activate")
    return mapped is not None and "replayed" in mapped.extract


def found(results: Sequence[Result]) -> list[str]:
    """The anomalies found, as ``checker/kind``, each once, in the checkers' order."""
    return list(dict.fromkeys(f"{r.checker}/{a.kind}" for r in results for a in r.anomalies))


def evidence(results: Sequence[Result]) -> dict[str, int]:
    """``checker: situation`` -> how often the try reached it (0: never)."""
    table: dict[str, int] = {}
    for result in results:
        for claim, seen in result.evidence.items():
            table[f"{result.checker}.{claim}: {seen.situation}"] = seen.count
    return table
