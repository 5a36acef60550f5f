"""Engine and sessions: one pool per process, sized as the seed's sprint asks."""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import DeclarativeBase, sessionmaker

from billing.settings import Settings

POOL = dict(pool_size=20, max_overflow=10, pool_recycle=3600, pool_pre_ping=True, pool_timeout=30)


class Base(DeclarativeBase):
    pass


@lru_cache(maxsize=4)
def engine(settings: Settings, pool_size: int = POOL["pool_size"]) -> Engine:
    # A short connect timeout and statement timeout make a partitioned or slow
    # database an error the client sees, not a hang that outlives the test.
    options = dict(POOL, pool_size=pool_size)
    return create_engine(
        settings.database_url,
        connect_args={"connect_timeout": settings.db_connect_timeout_s,
                      "options": "-c statement_timeout=20000"},
        **options,
    )


@lru_cache(maxsize=4)
def sessions(settings: Settings, pool_size: int = POOL["pool_size"]) -> sessionmaker:
    return sessionmaker(engine(settings, pool_size), expire_on_commit=False)
