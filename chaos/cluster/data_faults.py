"""Data faults on a cluster's own Redis and PostgreSQL: key families deleted while Redis keeps running
(``forget``), and every free PostgreSQL connection taken (``exhaust``).

A restart loses everything at once; production loses less, and more often:
an eviction under ``maxmemory``, a TTL shorter than the work, a replica
promoted before it had the last writes, an operator's FLUSHDB. ``forget``
deletes one family of keys (the profile's ``run.containerised.redis_keys``:
locks, idempotency records, the queue...), so a scenario asks of one
protection at a time whether it survives Redis forgetting its part.

``exhaust`` is the leak of another client (a batch job, a pool sized for
one instance copied to twenty): a process in the PostgreSQL container opens
connections until the server refuses one ("too many clients") and holds
them. Instances keep the connections their pools already have; whatever
needs a new one is refused. The holder's pid is in a file in that
container, so ``chaos status`` sees it and ``chaos heal`` ends it by that
pid (and it goes with the container).
"""
from __future__ import annotations

import time
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


HOLDER_FILE = "/tmp/billing-chaos-exhaust"   # "<pid> <connections held>", in the postgres container
# Run in the postgres container (the runtime image has psycopg): connect until refused, say so, hold.
HOLDER_SCRIPT = f"""
import os, time, psycopg
held = []
while len(held) < 10000:
    try:
        held.append(psycopg.connect(host="127.0.0.1", user=os.environ["POSTGRES_USER"],
                                    password=os.environ["POSTGRES_PASSWORD"], dbname=os.environ["POSTGRES_DB"],
                                    connect_timeout=5))
    except psycopg.OperationalError:
        break
with open("{HOLDER_FILE}.tmp", "w") as out:
    out.write(f"{{os.getpid()}} {{len(held)}}")
os.rename("{HOLDER_FILE}.tmp", "{HOLDER_FILE}")
while True:
    time.sleep(3600)
"""
HOLDER_WAIT_S = 60.0


class ForgetError(ChaosError):
    """A family the profile does not name, or a Redis that would not run the script."""


class ExhaustError(ChaosError):
    """The connection holder did not start, or would not stop."""


class DataFaults:
    """The part of ``Cluster`` that deletes keys in its Redis (a mixin over ``Cluster.container``)."""

    target: Any   # the profile's run.containerised; ``container(name)`` is the Cluster's

    def redis_families(self) -> Mapping[str, tuple[tuple[int, str], ...]]:
        return self.target.redis_keys

    def family_keys(self, family: str) -> tuple[tuple[int, str], ...]:
        """The (db, pattern) pairs of ``family``; ForgetError naming the families there are, if none."""
        families = self.redis_families()
        if family not in families:
            raise ForgetError(f"no key family {family!r}; this target's are "
                              f"{', '.join(sorted(families)) or 'none'}",
                              hint="name key families in the profile's run.containerised.redis_keys")
        return families[family]

    def forget(self, family: str) -> int:
        """Delete every key of ``family`` in the stack's Redis; how many were deleted."""
        deleted = 0
        for db, pattern in self.family_keys(family):
            answer = self.container("redis").exec_run(["redis-cli", "-n", str(db), "EVAL", FORGET_SCRIPT, "0",
                                                       pattern])
            text = answer.output.decode(errors="replace").strip()
            if answer.exit_code != 0 or not text.lstrip("-").isdigit():
                raise ForgetError(f"forget {family}: redis-cli -n {db} on {pattern!r} answered {text[:200]!r}")
            deleted += int(text)
        return deleted

    def exhaust(self) -> int:
        """Take every free PostgreSQL connection and hold it; how many were taken."""
        postgres = self.container("postgres")
        if self.exhausted() is not None:
            raise ExhaustError("PostgreSQL's connections are already held", hint="heal it first: `chaos heal postgres`")
        postgres.exec_run(["python3", "-c", HOLDER_SCRIPT], detach=True)
        deadline = time.monotonic() + HOLDER_WAIT_S
        while time.monotonic() < deadline:
            held = self.exhausted()
            if held is not None:
                return held[1]
            time.sleep(0.2)
        raise ExhaustError(f"the connection holder did not report within {HOLDER_WAIT_S:.0f} s")

    def exhausted(self) -> tuple[int, int] | None:
        """(pid, connections held) of the holder in the postgres container, or None."""
        answer = self.container("postgres").exec_run(["cat", HOLDER_FILE])
        words = answer.output.decode(errors="replace").split()
        if answer.exit_code != 0 or len(words) != 2 or not all(w.isdigit() for w in words):
            return None
        return int(words[0]), int(words[1])

    def release_connections(self) -> None:
        """End the holder by its pid (its connections close with it) and remove its file."""
        held = self.exhausted()
        postgres = self.container("postgres")
        if held is not None:
            postgres.exec_run(["kill", str(held[0])])
            deadline = time.monotonic() + HOLDER_WAIT_S
            alive = ["sh", "-c", f"test -d /proc/{held[0]} && ! grep -q '^State:.*Z' /proc/{held[0]}/status"]
            while postgres.exec_run(alive).exit_code == 0:   # a zombie (no one reaps it) has let go too
                if time.monotonic() > deadline:
                    raise ExhaustError(f"the connection holder (pid {held[0]}) did not end")
                time.sleep(0.2)
        postgres.exec_run(["rm", "-f", HOLDER_FILE])
