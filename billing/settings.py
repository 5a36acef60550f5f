"""Settings from the environment, read once per process.

Everything that differs between a laptop, the compose stack and a chaos run
(addresses, which links to go through, timeouts short enough for faults to
show) is an environment variable; nothing else is configurable.
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from functools import lru_cache

from billing.unsafe import Protection, removed_protections


def _flag(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    database_url: str = "postgresql+psycopg://billing:billing@postgres:5432/billing"
    redis_url: str = "redis://redis:6379/0"
    broker_url: str = "redis://redis:6379/1"
    result_backend: str = "redis://redis:6379/2"
    instance: str = field(default_factory=socket.gethostname)
    jwt_secret: str = "change-me-in-production"
    jwt_ttl_s: int = 3600
    admin_email: str = "admin@billing.test"
    admin_password: str = "admin-password"
    test_endpoints: bool = False
    lock_expire_s: float = 10.0
    lock_acquire_timeout_s: float = 2.0
    idempotency_ttl_s: int = 24 * 3600
    inflight_ttl_s: int = 60
    visibility_timeout_s: int = 3600
    redis_timeout_s: float = 2.0
    db_connect_timeout_s: int = 10   # a burst of new connections on a cold pool (100 at once on 2 cores) took over 3 s
    unsafe: frozenset[Protection] = frozenset()

    def protected(self, protection: Protection) -> bool:
        return protection not in self.unsafe


def from_environ() -> Settings:
    env = os.environ.get
    redis_url = env("REDIS_URL", Settings.redis_url)
    return Settings(
        database_url=env("DATABASE_URL", Settings.database_url),
        redis_url=redis_url,
        broker_url=env("CELERY_BROKER_URL", Settings.broker_url),
        result_backend=env("CELERY_RESULT_BACKEND", Settings.result_backend),
        instance=env("INSTANCE_NAME") or socket.gethostname(),
        jwt_secret=env("JWT_SECRET", Settings.jwt_secret),
        jwt_ttl_s=int(env("JWT_TTL_S", str(Settings.jwt_ttl_s))),
        admin_email=env("ADMIN_EMAIL", Settings.admin_email),
        admin_password=env("ADMIN_PASSWORD", Settings.admin_password),
        test_endpoints=_flag("BILLING_TEST_ENDPOINTS"),
        lock_expire_s=float(env("LOCK_EXPIRE_S", str(Settings.lock_expire_s))),
        lock_acquire_timeout_s=float(env("LOCK_ACQUIRE_TIMEOUT_S", str(Settings.lock_acquire_timeout_s))),
        idempotency_ttl_s=int(env("IDEMPOTENCY_TTL_S", str(Settings.idempotency_ttl_s))),
        inflight_ttl_s=int(env("IDEMPOTENCY_INFLIGHT_TTL_S", str(Settings.inflight_ttl_s))),
        visibility_timeout_s=int(env("CELERY_VISIBILITY_TIMEOUT_S", str(Settings.visibility_timeout_s))),
        redis_timeout_s=float(env("REDIS_TIMEOUT_S", str(Settings.redis_timeout_s))),
        db_connect_timeout_s=int(env("DB_CONNECT_TIMEOUT_S", str(Settings.db_connect_timeout_s))),
        unsafe=removed_protections(env("BILLING_UNSAFE", "")),
    )


@lru_cache(maxsize=1)
def current() -> Settings:
    return from_environ()
