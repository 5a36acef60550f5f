"""One Redis client per process, with timeouts short enough for faults to show."""
from __future__ import annotations

from functools import lru_cache

import redis

from billing.settings import Settings


@lru_cache(maxsize=4)
def client(settings: Settings) -> redis.StrictRedis:
    return redis.StrictRedis.from_url(
        settings.redis_url, decode_responses=True,
        socket_timeout=settings.redis_timeout_s, socket_connect_timeout=settings.redis_timeout_s,
        health_check_interval=5)


@lru_cache(maxsize=4)
def lock_client(settings: Settings) -> redis.StrictRedis:
    """For the invoice lock: its acquire waits in BLPOP up to the acquire timeout,
    which must not be cut short by the socket timeout (that would turn a
    ``lock_timeout`` 409 into a ``redis_unavailable`` 503)."""
    read_timeout = settings.redis_timeout_s + settings.lock_acquire_timeout_s + 1
    return redis.StrictRedis.from_url(
        settings.redis_url, decode_responses=True,
        socket_timeout=read_timeout, socket_connect_timeout=settings.redis_timeout_s,
        health_check_interval=5)
