"""Judging a scenario so that it can be judged again: a checker run from a named ``Check``.

``judge`` runs one checker of ``chaos.checkers`` on a history and final
reads, and keeps in the scenario's record the result, the ``Check`` (the
checker's name and its other arguments) and the final reads: the same
inputs ``rerun`` gives the same checker on a stored run. A checker is named
by its module; ``CHECKERS`` says which inputs each takes, because they do
not all judge a history (the lock checker judges lock events, the pool
checker pool samples: their reads stand in the final reads' place).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from chaos.checkers import (accounts, async_invoices, capacity, contract, distribution, errors, fails_closed,
                            idempotency, invoices, latency, locks, pool)
from chaos.checkers.merge import check_safe
from chaos.checkers.result import Result
from chaos.history import Op
from chaos.report.model import Check, ScenarioRecord

Inputs = Literal["history+reads", "history", "reads"]


@dataclass(frozen=True)
class Checker:
    function: Callable[..., Result]
    inputs: Inputs   # what it judges besides its arguments


CHECKERS: dict[str, Checker] = {
    "invoices": Checker(invoices.check, "history+reads"),
    "async_invoices": Checker(async_invoices.check, "history+reads"),
    "idempotency": Checker(idempotency.check, "history+reads"),
    "accounts": Checker(accounts.check, "history+reads"),
    "capacity": Checker(capacity.check, "history+reads"),
    "contract": Checker(contract.check, "history"),
    "distribution": Checker(distribution.check, "history"),
    "errors": Checker(errors.check, "history"),
    "fails_closed": Checker(fails_closed.check, "history"),
    "latency": Checker(latency.check, "history"),
    "locks": Checker(locks.check, "reads"),
    "pool": Checker(pool.check, "reads"),
}


@dataclass(frozen=True)
class Deferred:
    """A checker named with its inputs and not yet run: what a scenario's helper returns for the ``judge``
    fixture to run with ``judge`` below, so that the record keeps what the checker judged."""

    checker: str
    reads: Any = None
    args: Mapping[str, Any] = field(default_factory=dict)


def deferred(checker: str, reads: Any = None, **args: Any) -> Deferred:
    """``checker`` (a key of ``CHECKERS``) on the scenario's history and ``reads``, with ``args``, when judged."""
    if checker not in CHECKERS:
        raise KeyError(f"no checker {checker!r} (known: {', '.join(CHECKERS)})")
    return Deferred(checker, reads, args)


def judge(record: ScenarioRecord, checker: str, history: Sequence[Op], reads: Any = None, *,
          name: str | None = None, **args: Any) -> Result:
    """Run ``checker`` (a key of ``CHECKERS``) on ``history`` and ``reads`` with ``args`` and keep it
    all in ``record``. ``args`` must be JSON (lists for tuples), as they are stored; they are passed
    to the checker as the stored run will pass them, so a re-check sees what this check saw."""
    check = Check(checker, _as_stored(args))
    result = run(check, history, reads)
    key = record.add(result, name)
    record.checks[key] = check
    if CHECKERS[checker].inputs != "history":
        record.final_reads[key] = reads
    return result


def run(check: Check, history: Sequence[Op], reads: Any = None) -> Result:
    """``check``'s checker on these inputs; a checker that raises is ``unknown`` with its error."""
    checker = CHECKERS[check.checker]
    inputs = {"history+reads": (history, reads), "history": (history,), "reads": (reads,)}[checker.inputs]
    return check_safe(check.checker, checker.function, *inputs, **check.args)


def why_not_rerun(check: Check | None, name: str, final_reads: Mapping[str, Any]) -> str | None:
    """Why the stored result ``name`` cannot be judged again offline (None: it can)."""
    if check is None:
        return "the scenario kept its result, not the check that made it (record it with record_check)"
    if check.checker not in CHECKERS:
        return f"no checker {check.checker!r} (known: {', '.join(CHECKERS)})"
    if CHECKERS[check.checker].inputs != "history" and name not in final_reads:
        return f"the reads {check.checker} judged were not stored"
    return None


def _as_stored(args: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments as JSON gives them back (tuples as lists), or a TypeError naming what JSON
    cannot hold: a check that cannot be stored could not be judged again."""
    def refuse(value: Any) -> Any:
        if isinstance(value, (set, frozenset)):
            return sorted(value, key=str)
        raise TypeError(f"a recorded check's arguments must be JSON, not {value!r}")

    return json.loads(json.dumps(dict(args), default=refuse))
