"""How many calls were in flight together: the evidence that a race could have happened.

A checker that finds no duplicate has proved something only if calls really
competed: two calls for one invoice identity, one idempotency key or the last
seat, in flight at the same moment. These helpers measure that from the
pairs alone, so that every checker counts contention the same way.

A call is in flight from its invoke to its completion. A call that never
completed (its completion is the synthetic ``never_completed`` info) may
still be running on the server: it stays open to the end of the history.
Two calls that merely touch (one completes at the very nanosecond the other
is invoked) are not counted as together: a process's next call starts when
its previous one ended, and that is no race.
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence

from chaos.history.pairs import NEVER_COMPLETED, Pair


def is_pending(pair: Pair) -> bool:
    """Whether the call never completed within the history (its completion is synthetic)."""
    done = pair.completion
    return done.type == "info" and done.error == NEVER_COMPLETED and done.index == pair.invoke.index


def max_in_flight(pairs: Iterable[Pair]) -> int:
    """The most calls of ``pairs`` in flight at one moment (0 for none)."""
    events: list[tuple[int, int]] = []
    for pair in pairs:
        events.append((pair.invoke.time, 1))
        if not is_pending(pair):
            events.append((max(pair.completion.time, pair.invoke.time), -1))
    # at equal times completions first: touching intervals are not together
    events.sort(key=lambda e: (e[0], e[1]))
    most = current = 0
    for _, step in events:
        current += step
        most = max(most, current)
    return most


def contended(groups: Mapping[Hashable, Sequence[Pair]]) -> int:
    """How many groups (one key, one identity, one seat) had two or more calls in flight together."""
    return sum(1 for calls in groups.values() if len(calls) >= 2 and max_in_flight(calls) >= 2)
