"""The outbox of accepted async invoice requests, and the sweeper that re-publishes stranded ones.

Why it exists: kombu's Redis transport takes a message off the queue with
BRPOP and records it as unacknowledged only once the reply has reached the
worker. A partition between the two (found by the broker-partition scenario)
loses the message for good: Redis no longer has it, the worker never had it,
and ``acks_late`` cannot bring back what no worker received.

So the api records every request it accepts (202) here *before* publishing
it; the task removes the entry once the invoice exists; and a sweeper thread
in every worker re-publishes, under the same task id, each entry older than
the broker's visibility timeout. A re-published task that was not lost after
all (a slow queue, a slow worker) runs twice, which the idempotent task body
and the unique index make harmless: the second run finds the first invoice.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError

from billing import redis_client
from billing.settings import Settings
from billing.unsafe import Protection

OUTBOX_KEY = "billing:outbox"                # sorted set: task id -> when it was last (re)published
CLAIM_KEY = "billing:outbox:claim:{}"        # one sweeper per entry per round, across workers
TASK_KEY = "billing:task:{}"                 # the accepted request, read by the task-status route too
TASK_TTL_S = 24 * 3600
SWEEP_INTERVAL_S = 5.0

Publish = Callable[[str, int, str], None]   # (task id, user id, period)
log = logging.getLogger(__name__)


def enabled(settings: Settings) -> bool:
    return settings.protected(Protection.OUTBOX)


def accept(settings: Settings, task_id: str, user_id: int, period: str) -> None:
    """Record an accepted request; raises if Redis is unreachable, so nothing is published then."""
    pipe = redis_client.client(settings).pipeline()
    pipe.set(TASK_KEY.format(task_id), json.dumps({"user_id": user_id, "period": period}), ex=TASK_TTL_S)
    if enabled(settings):
        pipe.zadd(OUTBOX_KEY, {task_id: time.time()})
    pipe.execute()


def delivered(settings: Settings, task_id: str) -> None:
    """The invoice exists: stop sweeping this entry. If Redis cannot be reached now, the
    sweeper re-publishes once more and that run finds the invoice and tries again."""
    if not enabled(settings):
        return
    try:
        redis_client.client(settings).zrem(OUTBOX_KEY, task_id)
    except RedisError:
        pass


def sweep(settings: Settings, publish: Publish, now: float | None = None) -> list[str]:
    """Re-publish every entry older than the visibility timeout that no other sweeper claimed."""
    now = time.time() if now is None else now
    age = settings.visibility_timeout_s
    client = redis_client.client(settings)
    republished = []
    for task_id in client.zrangebyscore(OUTBOX_KEY, "-inf", now - age, start=0, num=100):
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
    """A daemon thread in the worker; a sweep that fails (the worker cut off from Redis) waits for the next."""
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
