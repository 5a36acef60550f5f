"""The invoice lock: python-redis-lock plus a fencing token and a journal.

A Redis lock with an expiry is not enough on its own (Kleppmann): a holder
stalled past the expiry resumes believing it still holds the lock. So the
holder takes a fencing token *atomically with checking that it still owns the
lock*, and the database refuses a write whose token is older than the last
one that wrote (see :mod:`billing.invoicing`).

The journal records acquire/renew/release/write events in a Redis stream when
test endpoints are on, so the suite's lock checker reads structured events
instead of parsing logs.
"""
from __future__ import annotations

import logging
import time
from typing import Any

import redis
import redis_lock

from billing.settings import Settings

log = logging.getLogger("billing.locks")

JOURNAL_STREAM = "billing:lock-events"
JOURNAL_MAXLEN = 200_000

# Returns a new fencing token only if the caller still owns the lock.
FENCE_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('incr', KEYS[2])
end
return false
"""


class Journal:
    """Lock events for the checker; losing one must never fail a request."""

    def __init__(self, client: redis.StrictRedis, settings: Settings) -> None:
        self._client = client
        self._instance = settings.instance
        self._enabled = settings.test_endpoints

    def record(self, kind: str, key: str, token: str, t: float | None = None, **fields: Any) -> None:
        """``t`` is when it happened; a release passes the time *before* it released, so that the
        next holder's acquire can never seem to come before it."""
        if not self._enabled:
            return
        entry = {"kind": kind, "key": key, "token": token, "instance": self._instance,
                 "t": repr(time.time() if t is None else t)}
        entry.update({k: str(v) for k, v in fields.items()})
        try:
            self._client.xadd(JOURNAL_STREAM, entry, maxlen=JOURNAL_MAXLEN, approximate=True)
        except redis.RedisError as exc:
            log.warning("lock journal: could not record %s %s: %s", kind, key, exc)

    def read(self) -> list[dict[str, Any]]:
        events = []
        for _, fields in self._client.xrange(JOURNAL_STREAM):
            event: dict[str, Any] = dict(fields)
            event["t"] = float(event["t"])
            for name in ("fence",):
                if name in event and event[name] not in ("", "None"):
                    event[name] = int(event[name])
            if "expire_s" in event:
                event["expire_s"] = float(event["expire_s"])
            if "accepted" in event:
                event["accepted"] = event["accepted"] == "True"
            events.append(event)
        return events

    def clear(self) -> None:
        self._client.delete(JOURNAL_STREAM)


class FencedLock(redis_lock.Lock):
    """A renewing lock that journals its life and hands out fencing tokens."""

    def __init__(self, client: redis.StrictRedis, key: str, settings: Settings, journal: Journal) -> None:
        super().__init__(client, key, expire=int(settings.lock_expire_s), auto_renewal=True)
        self.key = key
        self._journal = journal
        self._fence_script = client.register_script(FENCE_SCRIPT)

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        acquired = super().acquire(blocking=blocking, timeout=timeout)
        if acquired:
            self._journal.record("acquire", self.key, self.id, expire_s=self._expire)
        return acquired

    def extend(self, expire: int | None = None) -> None:
        started = time.time()
        super().extend(expire)
        self._journal.record("renew", self.key, self.id, t=started, expire_s=expire or self._expire)

    def fence(self) -> int | None:
        """A fencing token, or None if the lock was already lost."""
        token = self._fence_script(keys=[self._name, f"fence:{self.key}"], args=[self.id])
        return int(token) if token else None

    def record_write(self, fence: int | None, accepted: bool) -> None:
        self._journal.record("write", self.key, self.id, fence=fence, accepted=accepted)

    def release_quietly(self) -> None:
        """Release if still ours; a lock that expired under us is logged, not raised."""
        try:
            started = time.time()
            self.release()
            self._journal.record("release", self.key, self.id, t=started)
        except redis_lock.NotAcquired:
            self._stop_lock_renewer()
            log.warning("lock %s expired before release (holder %s)", self.key, self.id)
        except redis.RedisError as exc:
            self._stop_lock_renewer()
            log.warning("lock %s: release failed: %s", self.key, exc)
