"""Data faults on a cluster's own Redis: key families deleted while Redis keeps running (``forget``).

A restart loses everything at once; production loses less, and more often:
an eviction under ``maxmemory``, a TTL shorter than the work, a replica
promoted before it had the last writes, an operator's FLUSHDB. ``forget``
deletes one family of keys (the profile's ``run.containerised.redis_keys``:
locks, idempotency records, the queue...), so a scenario asks of one
protection at a time whether it survives Redis forgetting its part.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chaos.errors import ChaosError

# SCAN in a script, so that a family is deleted in one call per pattern and no key of it is added between
# the scan and the delete by another client (a script runs alone)
FORGET_SCRIPT = """
local deleted, cursor = 0, "0"
repeat
  local found = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
  cursor = found[1]
  for _, key in ipairs(found[2]) do deleted = deleted + redis.call('DEL', key) end
until cursor == "0"
return deleted
"""


class ForgetError(ChaosError):
    """A family the profile does not name, or a Redis that would not run the script."""


class DataFaults:
    """The part of ``Cluster`` that deletes keys in its Redis (a mixin over ``Cluster.container``)."""

    target: Any   # the profile's run.containerised; ``container(name)`` is the Cluster's

    def redis_families(self) -> Mapping[str, tuple[tuple[int, str], ...]]:
        return self.target.redis_keys

    def forget(self, family: str) -> int:
        """Delete every key of ``family`` in the stack's Redis; how many were deleted."""
        families = self.redis_families()
        if family not in families:
            raise ForgetError(f"no key family {family!r}; this target's are "
                              f"{', '.join(sorted(families)) or 'none'}",
                              hint="name key families in the profile's run.containerised.redis_keys")
        deleted = 0
        for db, pattern in families[family]:
            answer = self.container("redis").exec_run(["redis-cli", "-n", str(db), "EVAL", FORGET_SCRIPT, "0",
                                                       pattern])
            text = answer.output.decode(errors="replace").strip()
            if answer.exit_code != 0 or not text.lstrip("-").isdigit():
                raise ForgetError(f"forget {family}: redis-cli -n {db} on {pattern!r} answered {text[:200]!r}")
            deleted += int(text)
        return deleted
