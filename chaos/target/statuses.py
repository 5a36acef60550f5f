"""Which HTTP statuses mean ok, fail and info for one target.

A target may answer 200 where billing answers 201, or 409 where billing
answers 422; the profile says so, and ``chaos.history.classify`` decides
everything the profile leaves open (exceptions, and statuses no list
names), so there is one rule for ambiguity, not one per profile.

Entries are a status (``409``), a class (``"4xx"``) or a range
(``"500-599"``). Lookup order: the operation's own ``statuses``, then the
profile's, then ``classify``. ``info`` on a read becomes ``fail``: a read
that went wrong changed nothing, which is exactly what ``fail`` says.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from chaos.history.classify import Outcome

OUTCOMES: tuple[Outcome, ...] = ("ok", "fail", "info")
_CLASS = re.compile(r"^([1-5])xx$", re.IGNORECASE)
_RANGE = re.compile(r"^(\d{3})\s*-\s*(\d{3})$")
HELP = "an entry is a status (409), a class ('4xx') or a range ('500-599'), within 100-599"

Range = tuple[int, int]


def parse_entry(entry: Any) -> Range:
    """ValueError (with ``HELP``) for anything else."""
    if isinstance(entry, bool):
        raise ValueError(f"{entry!r} is not a status; {HELP}")
    if isinstance(entry, int):
        low = high = entry
    elif isinstance(entry, str) and (match := _CLASS.match(entry.strip())):
        low, high = int(match.group(1)) * 100, int(match.group(1)) * 100 + 99
    elif isinstance(entry, str) and (match := _RANGE.match(entry.strip())):
        low, high = int(match.group(1)), int(match.group(2))
    elif isinstance(entry, str) and entry.strip().isdigit():
        low = high = int(entry.strip())
    else:
        raise ValueError(f"{entry!r} is not a status; {HELP}")
    if not 100 <= low <= high <= 599:
        raise ValueError(f"{entry!r} is out of order or outside 100-599; {HELP}")
    return low, high


@dataclass(frozen=True)
class Statuses:
    """Ranges per outcome; a status in none of them is left to the next level."""

    ok: tuple[Range, ...] = ()
    fail: tuple[Range, ...] = ()
    info: tuple[Range, ...] = ()

    def outcome(self, status: int) -> Outcome | None:
        for name in OUTCOMES:
            if any(low <= status <= high for low, high in getattr(self, name)):
                return name
        return None

    def overlaps(self) -> list[str]:
        """Statuses claimed by two outcomes, as 'ok and fail both claim 409'."""
        found = []
        for i, first in enumerate(OUTCOMES):
            for second in OUTCOMES[i + 1:]:
                for a_low, a_high in getattr(self, first):
                    for b_low, b_high in getattr(self, second):
                        low, high = max(a_low, b_low), min(a_high, b_high)
                        if low <= high:
                            shown = str(low) if low == high else f"{low}-{high}"
                            found.append(f"{first} and {second} both claim {shown}")
        return found
