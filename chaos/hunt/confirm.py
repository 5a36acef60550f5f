"""Confirming a shrunk reproduction: how often it shows the anomaly, and how many attempts its test needs.

A shrink keeps a smaller input after one re-run shows the anomaly, so a race
that shows one time in three is kept as readily as one that always shows;
its generated test, replayed three times, then passes on the buggy build
about one time in three and says nothing (CI once saw five concurrent
purchases, shrunk from a 174-operation try, sell within capacity in all three
attempts). So a shrink's result is re-run ``runs`` times before it is
written: the rate it shows the anomaly sets the test's attempts (enough that
a build with the bug passes with at most ``miss`` probability), and a result
that never shows it again is given up for the next larger input the shrink
kept, up to the try it was found in.

Pure: ``shows`` does the running, so the logic is tested without Docker.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
RUNS = 4                 # re-runs of a shrink's result before it is written
MISS = 0.01              # at most this chance that the test passes on a build that has the bug
MIN_ATTEMPTS, MAX_ATTEMPTS = 5, 12


def attempts_for(shown: int, runs: int, miss: float = MISS) -> int:
    """Attempts such that a build with the bug passes all of them with at most ``miss`` probability.

    The rate is estimated on the safe side, ``shown / (runs + 1)``: four of four is taken as 0.8, not
    certainty. Never fewer than ``MIN_ATTEMPTS``: the test runs in another session, on a cluster just started,
    where a race may show less often than in the hunt that measured it (CI's replay of a shrink that showed
    four times in four missed three times in three); a fixed build pays for them, a buggy one stops at its
    first showing. Never more than ``MAX_ATTEMPTS``: a race rarer than that is reported, not hidden in a
    long test.
    """
    if runs <= 0 or shown <= 0:
        return MAX_ATTEMPTS
    rate = min(shown, runs) / (runs + 1)
    return max(MIN_ATTEMPTS, min(MAX_ATTEMPTS, math.ceil(math.log(miss) / math.log(1 - rate))))


@dataclass
class Confirmed(Generic[T]):
    """The input written as the reproduction, and what its re-runs showed."""

    chosen: T
    shown: int                    # re-runs of ``chosen`` that showed the anomaly
    runs: int
    stepped_back: int             # smaller inputs given up because no re-run showed it again

    @property
    def attempts(self) -> int:
        return attempts_for(self.shown, self.runs)

    def describe(self) -> dict[str, int]:
        return {"shown": self.shown, "runs": self.runs, "stepped_back": self.stepped_back,
                "attempts": self.attempts}


def confirm(candidates: Sequence[T], shows: Callable[[T], bool], runs: int = RUNS) -> Confirmed[T]:
    """``candidates``: smallest first, the last the input the anomaly was found in. The first that shows the
    anomaly in at least one of ``runs`` re-runs is chosen, with its rate; when none does, the last one, with
    0 of ``runs`` (its test then has the most attempts, and the report says so)."""
    if not candidates:
        raise ValueError("nothing to confirm")
    for back, candidate in enumerate(candidates):
        shown = sum(1 for _ in range(runs) if shows(candidate))
        if shown or back == len(candidates) - 1:
            return Confirmed(candidate, shown, runs, back)
    raise AssertionError("unreachable")
