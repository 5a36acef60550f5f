"""From billing's lock journal: no two holders of a key overlap, and a stale holder never writes.

Input: lock events (``LockEvent``: kind acquire/renew/release/write, key,
token, instance, t in wall seconds, expire_s, and for writes fence and
accepted), recorded by the service rather than parsed from its logs.

A holding runs from its acquire to its release or its expiry (last acquire
or renew + expire_s), whichever comes first. A second holder may begin only
after that: beginning earlier is ``overlap`` (two processes in the critical
section at once). Beginning after the first's expiry is the lock doing its
job on a holder that stalled (a ``docker pause``, a GC pause); whether harm
followed is for the write check: every write by a holder after its expiry or
release, or after another holder acquired the key, must have been refused by
the resource (unique constraint, fencing token), else ``stale_write_accepted``
(Kleppmann's point: a lock with an expiry is not enough on its own). So is an
accepted write whose fencing token is not newer than an earlier accepted one.
"""
from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from chaos.checkers.reads import LockEvent
from chaos.checkers.result import Anomaly, Result, verdict


@dataclass
class Holding:
    key: str
    token: str
    instance: str
    start: float
    expires: float
    released: float | None = None
    events: list[dict[str, Any]] = field(default_factory=list)  # witnesses: the journal entries

    @property
    def end(self) -> float:
        return self.expires if self.released is None else min(self.expires, self.released)


def _witness(i: int, event: LockEvent) -> dict[str, Any]:
    return {"lock_event": i, **event}


def holdings(events: Sequence[LockEvent]) -> list[Holding]:
    """Every holding, by start. A renew is taken at its word (the journal records only renewals
    that succeeded), so it extends the holding even if it came late."""
    current: dict[str, Holding] = {}
    found: list[Holding] = []
    for i, event in enumerate(events):
        kind, token, t = event["kind"], str(event["token"]), float(event["t"])
        holding = current.get(token)
        if kind == "acquire":
            holding = current[token] = Holding(str(event["key"]), token, str(event.get("instance", "?")), t,
                                               t + float(event["expire_s"]))
            found.append(holding)
        elif holding is None:
            continue
        elif kind == "renew":
            holding.expires = max(holding.expires, t + float(event.get("expire_s", holding.expires - holding.start)))
        elif kind == "release":
            holding.released = t if holding.released is None else min(holding.released, t)
        if kind in ("acquire", "renew", "release"):
            holding.events.append(_witness(i, event))
    return sorted(found, key=lambda h: (h.start, h.token))


def check(events: Sequence[LockEvent]) -> Result:
    held = holdings(events)
    per_key: dict[str, list[Holding]] = defaultdict(list)
    for holding in held:
        per_key[holding.key].append(holding)
    anomalies = [a for key_held in per_key.values() for a in _overlaps(key_held)]
    current = {h.token: h for h in held}  # the latest holding of each token
    writes = stale_rejected = unlocked = 0
    last_fence: dict[str, tuple[int, dict[str, Any]]] = {}
    for i, event in enumerate(events):
        if event["kind"] != "write":
            continue
        writes += 1
        holding = current.get(str(event["token"]))
        if holding is None:
            unlocked += 1  # no acquire in the journal (it may have been dropped); the invoice checker judges
            continue
        t, accepted = float(event["t"]), _true(event.get("accepted"))
        stale = _stale_because(holding, t, per_key[holding.key])
        if stale and accepted:
            anomalies.append(Anomaly("stale_write_accepted", f"{holding.key}: {holding.instance} wrote at {clock(t)} "
                                     f"{stale}, and the write was accepted",
                                     (holding.events[0], _witness(i, event))))
        elif stale:
            stale_rejected += 1
        fence = _fence(event.get("fence"))
        if accepted and fence is not None:
            previous = last_fence.get(holding.key)
            if previous is not None and fence <= previous[0] and not stale:
                anomalies.append(Anomaly("stale_write_accepted", f"{holding.key}: a write with fencing token "
                                         f"{fence} was accepted after one with token {previous[0]}",
                                         (previous[1], _witness(i, event))))
            if previous is None or fence > previous[0]:
                last_fence[holding.key] = (fence, _witness(i, event))
    stats = {"holdings": len(held), "keys": len(per_key), "writes": writes, "stale_writes_rejected": stale_rejected,
             "writes_without_acquire": unlocked,
             "expired_holdings": sum(1 for h in held if h.released is None or h.released > h.expires),
             "longest_hold_s": round(max((h.end - h.start for h in held), default=0.0), 3)}
    return Result("locks", verdict(anomalies), anomalies, stats)


def _overlaps(held: list[Holding]) -> list[Anomaly]:
    """Each holding against every earlier one still in force when it began (not only its neighbour:
    a long first holding can overlap the third)."""
    found: list[Anomaly] = []
    active: list[Holding] = []
    for holding in held:
        active = [h for h in active if h.end > holding.start]
        for earlier in active:
            found.append(Anomaly("overlap", f"{holding.key}: {holding.instance} acquired at {clock(holding.start)} "
                                 f"while {earlier.instance} held it until {clock(earlier.end)}",
                                 (earlier.events[0], holding.events[0])))
        active.append(holding)
    return found


def _stale_because(holding: Holding, t: float, same_key: list[Holding]) -> str | None:
    if t > holding.expires:
        return f"after its lock expired at {clock(holding.expires)}"
    if holding.released is not None and t > holding.released:
        return f"after it released the lock at {clock(holding.released)}"
    successor = next((h for h in same_key if h is not holding and holding.start < h.start <= t), None)
    if successor is not None:
        return f"after {successor.instance} acquired the lock at {clock(successor.start)}"
    return None


def clock(t: float) -> str:
    """Journal times as the UTC wall clock to the millisecond, as in the services' logs."""
    ms = round(t * 1000)
    return time.strftime("%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}"


def _fence(value: Any) -> int | None:
    if value is None or value in ("", "None"):
        return None
    return int(value)


def _true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"
