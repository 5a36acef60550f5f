"""Progress lines for long provisioning work.

Plain timestamped lines on stderr, not a live widget: provisioning runs in CI
logs and under pytest as often as in a terminal, and a line per step reads
well in all three.
"""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Iterator

_START = time.monotonic()


def say(message: str) -> None:
    print(f"[chaos {time.monotonic() - _START:6.1f}s] {message}", file=sys.stderr, flush=True)


@contextmanager
def step(title: str) -> Iterator[None]:
    """Announce a step and how long it took; a failure is announced too."""
    say(f"{title} ...")
    began = time.monotonic()
    try:
        yield
    except BaseException:
        say(f"{title}: failed after {time.monotonic() - began:.1f}s")
        raise
    say(f"{title}: done in {time.monotonic() - began:.1f}s")
