"""Shrinking: the smallest plan and schedule that still show an anomaly, found by re-running smaller ones.

Each pass proposes something smaller and keeps it only if a re-run (on the
same cluster, data reset, same seed) still shows the anomaly; the passes
repeat until none finds anything smaller, or the tries or the time run out.
In the order that cuts most per try:

1. only the kinds of round the anomaly's operations came from;
2. no faults at all, else delta debugging over the schedule (Zeller's ddmin):
   a reproduction with fewer faults says more;
3. one kind of round fewer at a time;
4. delta debugging over the main rounds;
5. narrower rounds (fewer clients in flight together);
6. replays only of keys still used;

and once no fault is left, the rounds back to back (each try is then quicker).

Pure: ``still_fails`` does the running, so the logic is tested without Docker.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from chaos.nemesis.schedule import Schedule
from chaos.workload.generator import Plan

T = TypeVar("T")
BACK_TO_BACK_S = 0.25
StillFails = Callable[[Plan, Schedule], bool]


@dataclass
class ShrinkStep:
    """One proposal: what it removed, its size, and whether the anomaly was still there."""

    what: str
    operations: int
    faults: int
    kept: bool
    seconds: float = 0.0


@dataclass
class Shrunk:
    plan: Plan
    schedule: Schedule
    steps: list[ShrinkStep] = field(default_factory=list)
    stopped: str = "nothing smaller shows the anomaly"
    earlier: list[tuple[Plan, Schedule]] = field(default_factory=list)   # each input it replaced, first first

    def candidates(self, most: int = 4) -> list[tuple[Plan, Schedule]]:
        """Smallest first: this result, the inputs it replaced most recently, and the input it began from
        (the try the anomaly was found in), at most ``most`` in all; what ``chaos.hunt.confirm`` walks."""
        back = list(reversed(self.earlier))
        return [(self.plan, self.schedule), *back[:max(0, most - 2)], *back[max(0, most - 2):][-1:]]

    @property
    def tries(self) -> int:
        return len(self.steps)


class _Budget(Exception):
    """The tries or the time ran out: keep what was found so far."""


class Shrinker:
    def __init__(self, still_fails: StillFails, *, max_tries: int = 40, deadline: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.still_fails = still_fails
        self.max_tries = max_tries
        self.deadline = deadline
        self.clock = clock

    def shrink(self, plan: Plan, schedule: Schedule, involved: Sequence[str] = ()) -> Shrunk:
        self.best = Shrunk(plan, list(schedule))
        try:
            changed = True
            first = True
            while changed:
                size = _size(self.best)
                if first and involved:
                    self._try_plan(_only_kinds(self.best.plan, set(involved)), f"only {', '.join(sorted(involved))}")
                first = False
                self._faults()   # before the rounds: a reproduction with fewer faults says more, and a
                self._kinds()    # fault-free one replays its rounds back to back, each later try quicker
                if not self.best.schedule:   # no fault left to meet: the rounds need not wait for one
                    self._try_plan(_back_to_back(self.best.plan), "rounds back to back")
                self._rounds()
                self._width()
                self._try_plan(_used_replays(self.best.plan), "replays of used keys only")
                changed = _size(self.best) < size
        except _Budget as stop:
            self.best.stopped = str(stop)
        return self.best

    # the passes

    def _kinds(self) -> None:
        for kind in [k for k in self.best.plan.kinds if k != "replay"]:
            if len([k for k in self.best.plan.kinds if k != "replay"]) <= 1:
                return
            self._try_plan(self.best.plan.with_rounds(r for r in self.best.plan.rounds if r.kind != kind),
                           f"without {kind} rounds")

    def _faults(self) -> None:
        if not self.best.schedule:
            return
        if self._try(self.best.plan, [], "no faults"):
            return
        ddmin(self.best.schedule, lambda steps: self._try(self.best.plan, list(steps), f"{len(steps)} of the faults"))

    def _rounds(self) -> None:
        main = [r for r in self.best.plan.rounds if not r.final]
        final = [r for r in self.best.plan.rounds if r.final]
        if len(main) <= 1:
            return
        ddmin(main, lambda rounds: self._try_plan(self.best.plan.with_rounds([*rounds, *final]),
                                                  f"{len(rounds)} of the rounds"))

    def _width(self) -> None:
        widest = max((len(r.calls) for r in self.best.plan.rounds if not r.final), default=0)
        for width in sorted({w for w in (widest // 2, 2) if 2 <= w < widest}, reverse=True):
            if not self._try_plan(_narrow(self.best.plan, width), f"rounds of at most {width} calls"):
                return

    # trying

    def _try_plan(self, plan: Plan, what: str) -> bool:
        return self._try(plan, self.best.schedule, what)

    def _try(self, plan: Plan, schedule: Schedule, what: str) -> bool:
        candidate = Shrunk(plan, list(schedule))
        if _size(candidate) >= _size(self.best) or plan.operations == 0:
            return False
        if self.best.tries >= self.max_tries:
            raise _Budget(f"stopped after {self.max_tries} tries")
        if self.deadline is not None and self.clock() > self.deadline:
            raise _Budget("stopped: the shrink's time ran out")
        started = self.clock()
        kept = self.still_fails(plan, list(schedule))
        self.best.steps.append(ShrinkStep(what, plan.operations, len(schedule), kept, self.clock() - started))
        if kept:
            self.best.earlier.append((self.best.plan, self.best.schedule))
            self.best.plan, self.best.schedule = plan, list(schedule)
        return kept


def _size(s: Shrunk) -> tuple[int, int, int, float]:
    """Fewer faults first, then fewer operations, fewer rounds, a shorter main phase."""
    last = max((r.at_s for r in s.plan.rounds if not r.final), default=0.0)
    return (len(s.schedule), s.plan.operations, len(s.plan.rounds), last)


def _only_kinds(plan: Plan, kinds: set[str]) -> Plan:
    return plan.with_rounds(r for r in plan.rounds if r.kind in kinds or (r.final and "replay" in kinds))


def _back_to_back(plan: Plan, gap_s: float = BACK_TO_BACK_S) -> Plan:
    main = [r for r in plan.rounds if not r.final]
    if all(abs(r.at_s - i * gap_s) < 1e-6 for i, r in enumerate(main)):
        return plan
    timed = iter(range(len(main)))
    return plan.with_rounds(r if r.final else replace(r, at_s=round(next(timed) * gap_s, 3)) for r in plan.rounds)


def _narrow(plan: Plan, width: int) -> Plan:
    return plan.with_rounds(r if r.final else replace(r, calls=r.calls[:width]) for r in plan.rounds)


def _used_replays(plan: Plan) -> Plan:
    keys = {c.params.get("key") for r in plan.rounds if not r.final for c in r.calls}
    rounds = [r if not r.final else replace(r, calls=tuple(c for c in r.calls if c.params.get("key") in keys))
              for r in plan.rounds]
    return plan.with_rounds(r for r in rounds if r.calls)


def ddmin(items: Sequence[T], fails: Callable[[Sequence[T]], bool]) -> Sequence[T]:
    """Zeller's delta debugging: a 1-minimal subsequence of ``items`` for which ``fails`` holds
    (``fails(items)`` is taken as known); no subsequence is asked twice. ``fails`` may raise to stop early."""
    whole = list(items)
    known: dict[tuple[int, ...], bool] = {}

    def tried(indexes: list[int]) -> bool:   # each subset is run once: a run is a whole trial
        key = tuple(indexes)
        if key not in known:
            known[key] = fails([whole[i] for i in indexes])
        return known[key]

    items = list(range(len(whole)))
    n = 2
    while len(items) >= 2:
        chunk = max(1, len(items) // n)
        parts = [items[i:i + chunk] for i in range(0, len(items), chunk)]
        reduced = False
        for part in parts:
            if tried(part):
                items, n, reduced = part, 2, True
                break
        if not reduced:
            for i in range(len(parts)):
                rest = [x for j, p in enumerate(parts) if j != i for x in p]
                if tried(rest):
                    items, n, reduced = rest, max(n - 1, 2), True
                    break
        if not reduced:
            if n >= len(items):
                break
            n = min(len(items), n * 2)
    return [whole[i] for i in items]


def describe_steps(steps: Sequence[ShrinkStep]) -> list[dict[str, object]]:
    return [{"what": s.what, "operations": s.operations, "faults": s.faults, "kept": s.kept,
             "seconds": round(s.seconds, 1)} for s in steps]

