"""No instance ran out of database connections (docs/architecture.md: pool 20 + overflow 10 per instance).

Input: samples of ``GET /api/admin/db-pool`` (instance, pool_size, checkedout)
taken while the load ran. Reaching size + overflow is ``pool_exhausted``: the
next request would wait for a connection until the pool timeout.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from chaos.checkers.result import Anomaly, Result, verdict

POOL_OVERFLOW = 10  # billing's SQLAlchemy max_overflow


def check(samples: Sequence[Mapping[str, Any]]) -> Result:
    """No instance ran out of database connections: checked out stays below size + overflow.
    The stats (the most each instance had checked out) are what the slow-database drill shows."""
    most: dict[str, int] = defaultdict(int)
    size: dict[str, int] = {}
    anomalies: list[Anomaly] = []
    for sample in samples:
        name = str(sample.get("instance"))
        most[name] = max(most[name], int(sample.get("checkedout", 0)))
        size[name] = int(sample.get("pool_size", 0))
    for name, peak in sorted(most.items()):
        if size[name] and peak >= size[name] + POOL_OVERFLOW:
            anomalies.append(Anomaly("pool_exhausted", f"{name} had {peak} connections checked out, its pool "
                                     f"holds {size[name]} + {POOL_OVERFLOW} overflow"))
    return Result("pool", verdict(anomalies, unknown=not samples), anomalies,
                  {"samples": len(samples), "pool_size": dict(sorted(size.items())),
                   "most_checked_out": dict(sorted(most.items()))})
