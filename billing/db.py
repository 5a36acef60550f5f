"""Engine and sessions: one pool per process, sized as the seed's sprint asks."""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import DeclarativeBase, sessionmaker

from billing.settings import Settings

POOL = dict(pool_size=20, max_overflow=10, pool_recycle=3600, pool_pre_ping=True, pool_timeout=30)


class Base(DeclarativeBase):
    pass


# A connection whose network path died without a reset (an instance cut off the
# network, a peer gone without a FIN) must not outlive the fault on either end:
# - this end: keepalives notice a dead path while we wait for an answer, and
#   tcp_user_timeout drops a connection whose sent data stays unacknowledged,
#   so no request thread waits on it for the kernel's ~15 minutes;
# - the database's end: a session left idle inside a transaction (its client
#   gone) is ended, releasing the row locks that every later purchase, booking
#   or activation of the same row would otherwise queue behind.
# The statement timeout makes a slow database an error the client sees.
IDLE_IN_TRANSACTION_MS = 15_000
CONNECT_ARGS = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3,
                "tcp_user_timeout": 10_000,
                "options": f"-c statement_timeout=20000 -c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS}"}


@lru_cache(maxsize=4)
def engine(settings: Settings, pool_size: int = POOL["pool_size"]) -> Engine:
    options = dict(POOL, pool_size=pool_size)
    return create_engine(
        settings.database_url,
        connect_args={"connect_timeout": settings.db_connect_timeout_s, **CONNECT_ARGS},
        **options,
    )


@lru_cache(maxsize=4)
def sessions(settings: Settings, pool_size: int = POOL["pool_size"]) -> sessionmaker:
    return sessionmaker(engine(settings, pool_size), expire_on_commit=False)
