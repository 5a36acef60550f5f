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
