"""From billing's lock journal: no two holders overlap, and a stale holder never writes.

Events (billing/locks.py): kind acquire/renew/release/write, key, token, instance,
t (wall seconds), expire_s, and for writes fence and accepted. A holder's
interval runs from its acquire to its release or its expiry (last acquire or
renew + expire_s), whichever is first. Overlap is allowed only when the second
holder began after the first's expiry: that is a lock losing its holder, and
then the write check decides whether any harm was done.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from chaos.checkers.result import Anomaly, Result, verdict


@dataclass
class Holding:
    key: str
    token: str
    instance: str
    start: float
    expires: float
    released: float | None = None
    events: list[int] = field(default_factory=list)

    @property
    def end(self) -> float:
        return min(self.expires, self.released) if self.released is not None else self.expires


def holdings(events: list[dict]) -> list[Holding]:
    by_token: dict[str, Holding] = {}
    for i, event in enumerate(events):
        token = event["token"]
        t = float(event["t"])
        holding = by_token.get(token)
        if event["kind"] == "acquire":
            holding = by_token[token] = Holding(event["key"], token, event.get("instance", "?"), t,
                                                t + float(event["expire_s"]))
        elif holding is None:
            continue
        elif event["kind"] == "renew" and t <= holding.expires:
            holding.expires = t + float(event.get("expire_s", holding.expires - holding.start))
        elif event["kind"] == "release":
            holding.released = t
        holding.events.append(i)
    return sorted(by_token.values(), key=lambda h: h.start)


def check(events: list[dict]) -> Result:
    anomalies: list[Anomaly] = []
    per_key: dict[str, list[Holding]] = defaultdict(list)
    for holding in holdings(events):
        per_key[holding.key].append(holding)
    for key, held in per_key.items():
        for first, second in zip(held, held[1:]):
            if second.start < first.end:
                anomalies.append(Anomaly("overlap", f"{key}: {second.instance} acquired at {second.start:.3f} "
                                         f"while {first.instance} held it until {first.end:.3f}",
                                         (first.events[0], second.events[0])))
    tokens = {h.token: h for h in holdings(events)}
    stale_writes = 0
    for i, event in enumerate(events):
        if event["kind"] != "write" or event["token"] not in tokens:
            continue
        holding = tokens[event["token"]]
        t = float(event["t"])
        taken_over = any(h.key == holding.key and h.token != holding.token and holding.start < h.start <= t
                         for h in per_key[holding.key])
        if t > holding.expires or taken_over:
            stale_writes += 1
            if event.get("accepted"):
                anomalies.append(Anomaly("stale_write_accepted", f"{holding.key}: {holding.instance} wrote at "
                                         f"{t:.3f} after its lock expired ({holding.expires:.3f}) or was taken, "
                                         "and the write was accepted", (holding.events[0], i)))
    return Result("locks", verdict(anomalies), anomalies,
                  {"holdings": sum(map(len, per_key.values())), "keys": len(per_key),
                   "stale_writes_rejected": stale_writes - sum(1 for a in anomalies
                                                               if a.kind == "stale_write_accepted")})
