"""Running several checkers as one: each safely, verdicts merged (False > unknown > True).

A checker that raises (a final read in an unexpected shape, say) must not
hide the verdicts of the others, and must not pass either: like Jepsen's
``check-safe`` it becomes ``unknown`` with the error in its stats.
"""
from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from chaos.checkers.result import Result, merge_valid


def check_safe(name: str, checker: Callable[..., Result], *args: Any, **kwargs: Any) -> Result:
    try:
        result = checker(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - any failure of a checker is an unknown verdict
        return Result(name, "unknown", [], {"error": f"{type(exc).__name__}: {exc}",
                                            "traceback": traceback.format_exc(limit=8)})
    return result


def merge(results: Mapping[str, Result] | Iterable[Result], name: str = "composed") -> Result:
    """One result holding every anomaly, and per checker its verdict, anomaly counts and stats."""
    named = dict(results) if isinstance(results, Mapping) else _by_name(results)
    return Result(name, merge_valid([r.valid for r in named.values()]),
                  [a for r in named.values() for a in r.anomalies],
                  {key: {"valid": r.valid, "anomalies": r.kinds(), **r.stats} for key, r in named.items()},
                  {f"{key}.{claim}": e for key, r in named.items() for claim, e in r.evidence.items()},
                  "; ".join(f"{key}: {r.reason}" for key, r in named.items() if r.reason))


def compose(checks: Mapping[str, Callable[[], Result]], name: str = "composed") -> Result:
    """``checks``: name -> a call with its inputs bound, e.g.
    ``{"invoices": partial(invoices.check, history, final)}``."""
    return merge({key: check_safe(key, check) for key, check in checks.items()}, name)


def _by_name(results: Iterable[Result]) -> dict[str, Result]:
    """Results by checker name; a second result of one checker (two final reads) is ``name_2``, not lost."""
    named: dict[str, Result] = {}
    for result in results:
        name, n = result.checker, 2
        while name in named:
            name, n = f"{result.checker}_{n}", n + 1
        named[name] = result
    return named
