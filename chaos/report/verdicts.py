"""What a scenario and a run may claim, decided in one place for every surface.

The run page, the scenario pages, ``summary.json`` and ``chaos report`` all
show the verdict this module computes, so they cannot disagree. The rules:

- a checker's verdict is its own, except that ``True`` with a claimed
  situation that never occurred is ``unknown: not exercised (...)`` (no
  evidence, no verdict);
- a scenario whose checkers found an anomaly is **invalid**, whatever pytest
  said; one that failed or errored otherwise is **failed** / **error**; a
  skipped one, or one in which no checker ran, is **not checked**; else the
  merged checker verdict (**unknown** with its reasons, or **valid**);
- a run is invalid if any scenario is, failed / error if any scenario failed
  or errored, **not checked** when no scenario was checked, unknown if any
  checked scenario is unknown, and valid only when every checked scenario is
  valid (at least one).

A verdict is a ``status`` (one of ``STATUSES``) and a ``reason``.
"""
from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chaos.checkers.result import Result, Valid, merge_valid

STATUSES = ("valid", "invalid", "unknown", "not checked", "failed", "error")
NOT_CHECKED = "not checked"


@dataclass(frozen=True)
class Verdict:
    status: str          # one of STATUSES
    reason: str = ""

    @property
    def valid(self) -> Valid | None:
        """As a checker verdict: True / False / "unknown", or None when nothing was checked.
        A failed or errored scenario is False: the run did not pass."""
        return {"valid": True, "invalid": False, "failed": False, "error": False,
                "unknown": "unknown"}.get(self.status)

    @property
    def label(self) -> str:
        """One line for a terminal: ``safe``, ``UNSAFE``, ``failed: ...``, ``unknown: ...``, ``not checked: ...``."""
        word = {"valid": "safe", "invalid": "UNSAFE"}.get(self.status, self.status)
        return f"{word}: {self.reason}" if self.reason else word

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.status, "reason": self.reason}


def checker_verdict(result: Result) -> Verdict:
    """A checker's verdict as shown; a True with a claimed situation of count 0 is unknown."""
    if result.valid is False:
        return Verdict("invalid", _kinds(result.kinds()))
    idle = [e.situation for e in result.evidence.values() if e.claimed and e.count == 0]
    if result.valid is True and idle:
        return Verdict("unknown", result.reason or "not exercised (" + "; ".join(idle) + ")")
    if result.valid is True:
        return Verdict("valid")
    return Verdict("unknown", result.reason or "the checker could not judge")


def scenario_verdict(outcome: str, results: Mapping[str, Result] | Iterable[Result] = (), *, note: str = "",
                     error: str = "", checkers: Valid | None = None) -> Verdict:
    """The scenario's verdict from how pytest ended it (passed / failed / error / skipped) and its checkers.

    ``checkers`` stands in for ``results`` when only the merged checker verdict is known (an older
    summary.json); ``note`` holds a skip's reason ("not checked: ..."); ``error`` the exception line."""
    named = list(results.items()) if isinstance(results, Mapping) else [(r.checker, r) for r in results]
    verdicts = [(name, checker_verdict(r)) for name, r in named]
    merged: Valid | None = (merge_valid([v.valid for _, v in verdicts]) if verdicts else checkers)  # type: ignore[misc]
    if merged is False:
        found = [f"{name}: {v.reason}" for name, v in verdicts if v.status == "invalid"]
        return Verdict("invalid", "; ".join(found) or "a checker found an anomaly")
    if outcome in ("failed", "error"):
        return Verdict(outcome, error)
    if outcome == "skipped":
        reason = note.split("not checked: ", 1)[1] if "not checked: " in note else (note or "skipped")
        return Verdict(NOT_CHECKED, reason)
    if merged is None:
        return Verdict(NOT_CHECKED, "no checker ran")
    if merged == "unknown":
        reasons = [f"{name}: {v.reason}" for name, v in verdicts if v.status == "unknown"]
        return Verdict("unknown", "; ".join(reasons) or "a checker could not judge")
    return Verdict("valid")


def run_verdict(scenarios: Sequence[Verdict]) -> Verdict:
    """The run's verdict from its scenarios' (see the module's rules)."""
    count = {status: sum(v.status == status for v in scenarios) for status in STATUSES}
    checked = len(scenarios) - count[NOT_CHECKED]
    unchecked = f"{count[NOT_CHECKED]} of {len(scenarios)} scenarios not checked" if count[NOT_CHECKED] else ""
    if count["invalid"]:
        return Verdict("invalid", _join(f"{count['invalid']} scenario{_s(count['invalid'])} found anomalies",
                                        _failures(count)))
    if count["failed"] or count["error"]:
        return Verdict("failed" if count["failed"] else "error", _join(_failures(count), unchecked))
    if not checked:
        return Verdict(NOT_CHECKED, f"no checker ran in any of the {len(scenarios)} scenarios" if scenarios
                       else "no scenario recorded a history")
    if count["unknown"]:
        return Verdict("unknown", _join(f"{count['unknown']} of {checked} checked scenarios unknown", unchecked))
    return Verdict("valid", unchecked)


def _failures(count: Mapping[str, int]) -> str:
    parts = [f"{count[s]} {s}" for s in ("failed", "error") if count[s]]
    return ", ".join(parts)


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _kinds(kinds: Mapping[str, int]) -> str:
    return ", ".join(f"{kind} ×{n}" for kind, n in kinds.items())


def evidence_rows(results: Mapping[str, Result]) -> list[dict[str, Any]]:
    """Every claim of every checker: which situation, how often it occurred, whether the scenario claimed it."""
    return [{"checker": name, "claim": claim, "situation": e.situation, "count": e.count, "claimed": e.claimed}
            for name, r in results.items() for claim, e in r.evidence.items()]


# -- replay ------------------------------------------------------------------------------------------

DEFAULT_TARGET = "billing"


def replay_target(settings: Mapping[str, Any]) -> str:
    """What ``--chaos-target`` was (a profile name or path); an older run's settings only named the profile."""
    if settings.get("chaos_target"):
        return str(settings["chaos_target"])
    target = str(settings.get("target") or "")
    return target.split(" (", 1)[0] or DEFAULT_TARGET


def replay_options(settings: Mapping[str, Any], seed: Any) -> str:
    """The pytest options that replay the run: seed, scale (containerised targets only), target, unsafe."""
    words = ["--chaos-seed", str(seed)]
    for key in ("api", "workers"):
        if settings.get(key) not in ("", None, False):
            words += [f"--chaos-{key}", str(settings[key])]
    words += ["--chaos-target", shlex.quote(replay_target(settings))]
    if settings.get("unsafe"):
        words += ["--chaos-unsafe", shlex.quote(str(settings["unsafe"]))]
    return " ".join(words)
