"""The outbox of accepted async invoice requests, and the sweeper that re-publishes stranded ones.

Why it exists: kombu's Redis transport takes a message off the queue with
BRPOP and records it as unacknowledged only once the reply has reached the
worker. A partition between the two (found by the broker-partition scenario)
loses the message for good: Redis no longer has it, the worker never had it,
and ``acks_late`` cannot bring back what no worker received.

So the api records every request it accepts (202) here *before* publishing
it; the task marks the entry delivered once the invoice exists; and a sweeper
thread in every worker re-publishes, under the same task id, each entry
undelivered for longer than the broker's visibility timeout. A re-published
task that was not lost after all (a slow queue, a slow worker) runs twice,
which the idempotent task body and the unique index make harmless: the second
run finds the first invoice.

Where it lives: in PostgreSQL (``async_requests``). It first lived in Redis,
beside the queue it guards, and a Redis restart without persistence (the data
-layer faults) lost the queued message, the entry that would have re-published
it and the task's status at once. ``outbox_in_redis`` keeps that version.
The task-status route answers from the entry too, so a delivered task stays
SUCCESS after Redis has forgotten its Celery result.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import ColumnElement, func, literal_column, select, update
from sqlalchemy.exc import SQLAlchemyError

from billing import db, redis_client
from billing.models import AsyncRequest
from billing.settings import Settings
from billing.unsafe import Protection

OUTBOX_KEY = "billing:outbox"                # outbox_in_redis: sorted set, task id -> when last (re)published
CLAIM_KEY = "billing:outbox:claim:{}"        # outbox_in_redis: one sweeper per entry per round, across workers
TASK_KEY = "billing:task:{}"                 # outbox_in_redis: the accepted request
TASK_TTL_S = 24 * 3600                       # an entry older than this is abandoned, not retried forever
SWEEP_INTERVAL_S = 5.0
SWEEP_BATCH = 100
POOL_SIZE = 2                                # the sweeper's own connections in a worker

Publish = Callable[[str, int, str], None]   # (task id, user id, period)
log = logging.getLogger(__name__)


def enabled(settings: Settings) -> bool:
    """Whether stranded entries are re-published (``acks_early`` has no sweeper)."""
    return settings.protected(Protection.OUTBOX)


def durable(settings: Settings) -> bool:
    return settings.protected(Protection.OUTBOX_DURABLE)


def accept(settings: Settings, task_id: str, user_id: int, period: str) -> None:
    """Record an accepted request before it is published; raises if the store cannot be written, so
    nothing is published then and the client gets a 503."""
    if durable(settings):
        with db.sessions(settings).begin() as session:
            session.add(AsyncRequest(task_id=task_id, user_id=user_id, period=period))
        return
    pipe = redis_client.client(settings).pipeline()
    pipe.set(TASK_KEY.format(task_id), json.dumps({"user_id": user_id, "period": period}), ex=TASK_TTL_S)
    if enabled(settings):
        pipe.zadd(OUTBOX_KEY, {task_id: time.time()})
    pipe.execute()


def delivered(settings: Settings, task_id: str, result: dict[str, Any], pool_size: int) -> None:
    """The invoice exists: stop sweeping this entry, and keep the result for the status route. If the
    store cannot be reached now, the sweeper re-publishes once more and that run finds the invoice and
    tries again."""
    try:
        if durable(settings):
            with db.sessions(settings, pool_size).begin() as session:
                session.execute(update(AsyncRequest).where(AsyncRequest.task_id == task_id)
                                .values(delivered_at=func.now(), result=json.dumps(result, default=str)))
        elif enabled(settings):
            redis_client.client(settings).zrem(OUTBOX_KEY, task_id)
    except (RedisError, SQLAlchemyError) as exc:
        log.warning("outbox: could not mark %s delivered (%s); the sweeper will re-publish it", task_id, exc)


def status(settings: Settings, task_id: str) -> dict[str, Any] | None:
    """The entry of ``task_id``: None for a task id never accepted (or abandoned), else ``{"result": ...}``
    with the delivered result, or None there while the task has not delivered."""
    if not durable(settings):
        return None if redis_client.client(settings).get(TASK_KEY.format(task_id)) is None else {"result": None}
    with db.sessions(settings).begin() as session:
        row = session.get(AsyncRequest, task_id)
        if row is None:
            return None
        return {"result": json.loads(row.result) if row.delivered_at is not None and row.result else None}


def sweep(settings: Settings, publish: Publish, now: float | None = None) -> list[str]:
    """Re-publish every entry undelivered for longer than the visibility timeout that no other sweeper
    is re-publishing at this moment."""
    if not durable(settings):
        return _sweep_redis(settings, publish, time.time() if now is None else now)
    republished = []
    with db.sessions(settings, POOL_SIZE).begin() as session:
        # SKIP LOCKED: each entry is taken by one sweeper across the workers; the row locks are the claim
        rows = session.execute(
            select(AsyncRequest.task_id, AsyncRequest.user_id, AsyncRequest.period)
            .where(AsyncRequest.delivered_at.is_(None),
                   AsyncRequest.published_at < _ago(settings.visibility_timeout_s),
                   AsyncRequest.accepted_at > _ago(TASK_TTL_S))
            .order_by(AsyncRequest.published_at).limit(SWEEP_BATCH)
            .with_for_update(skip_locked=True)).all()
        for task_id, user_id, period in rows:
            publish(task_id, int(user_id), str(period))
            republished.append(task_id)
        if republished:
            session.execute(update(AsyncRequest).where(AsyncRequest.task_id.in_(republished))
                            .values(published_at=func.now()))
    return republished


def _ago(seconds: float) -> ColumnElement:
    """The database's now() less ``seconds``: entries are aged by one clock, whatever the instances' say."""
    return func.now() - literal_column(f"interval '{int(seconds)} seconds'")


def _sweep_redis(settings: Settings, publish: Publish, now: float) -> list[str]:
    age = settings.visibility_timeout_s
    client = redis_client.client(settings)
    republished = []
    for task_id in client.zrangebyscore(OUTBOX_KEY, "-inf", now - age, start=0, num=SWEEP_BATCH):
        if not client.set(CLAIM_KEY.format(task_id), "1", nx=True, ex=max(1, int(age))):
            continue
        request = client.get(TASK_KEY.format(task_id))
        if request is None:  # older than a day: the request is abandoned, not retried forever
            client.zrem(OUTBOX_KEY, task_id)
            continue
        accepted: dict[str, Any] = json.loads(request)
        publish(task_id, int(accepted["user_id"]), str(accepted["period"]))
        client.zadd(OUTBOX_KEY, {task_id: now}, xx=True)
        republished.append(task_id)
    return republished


def start_sweeper(settings: Settings, publish: Publish, interval_s: float = SWEEP_INTERVAL_S) -> threading.Thread:
    """A daemon thread in the worker; a sweep that fails (the worker cut off from its store or the
    broker) waits for the next."""
    def loop() -> None:
        while True:
            time.sleep(interval_s)
            try:
                for task_id in sweep(settings, publish):
                    log.warning("outbox: re-published stranded task %s", task_id)
            except Exception as exc:  # noqa: BLE001 - a sweeper that dies loses every later request
                log.warning("outbox sweep failed (%s: %s); next in %.0fs", type(exc).__name__, exc, interval_s)

    thread = threading.Thread(target=loop, name="outbox-sweeper", daemon=True)
    thread.start()
    return thread
