"""Celery tasks. The invoice task is idempotent: a redelivery finds the first invoice."""
from __future__ import annotations

import logging
import time
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError

from celery.signals import worker_ready

from billing import outbox, redis_client
from billing.celery_app import celery
from billing.errors import ApiError
from billing.invoicing import Invoicer
from billing.settings import current
from billing.unsafe import Protection

WORKER_POOL_SIZE = 5
SPIKE_KEY = "billing:spiked:{}"
log = logging.getLogger(__name__)
RETRY_DELAY_S = 1.0
MAX_ATTEMPTS = 120


class Contended(Exception):
    """Another holder has the lock, or won the race: try again, the result will be found."""


@celery.task(bind=True, name="billing.generate_invoice")
def generate_invoice(self, user_id: int, period: str, hold_s: float = 0.0, linger_s: float = 0.0,
                     spike_mb: int = 0) -> dict[str, Any]:
    """Retries stay inside the task: a retry sent through the broker is lost when the broker is the
    thing that is down, while an unacknowledged message (acks_late) survives this worker's death.
    ``spike_mb`` (test endpoints): the first run of this task needs that much memory, as a large
    customer's invoice might; beyond the worker's memory limit the kernel kills the pool process."""
    settings = current()
    if spike_mb > 0:
        _memory_spike(settings, self.request.id, spike_mb)
    invoicer = Invoicer(settings)
    for _ in range(MAX_ATTEMPTS):
        try:
            if settings.protected(Protection.TASK_IDEMPOTENT):
                result = _get_or_create(invoicer, user_id, period, hold_s)
            else:
                time.sleep(hold_s)
                result = invoicer.insert_unconditionally(user_id, period, WORKER_POOL_SIZE)
            break
        except (Contended, OperationalError, RedisError):
            time.sleep(RETRY_DELAY_S)
    else:
        raise RuntimeError(f"no invoice for user {user_id}, {period} after {MAX_ATTEMPTS} attempts")
    result = {**result, "worker": self.request.hostname}
    if linger_s > 0:
        time.sleep(linger_s)
    # after the linger, just before the return: the status route answers SUCCESS from this mark, and a task
    # killed while lingering has not finished (its redelivery may still double the invoice of a build that
    # is not idempotent, and the suite must wait for that before it reads the invoices)
    outbox.delivered(settings, self.request.id, result, WORKER_POOL_SIZE)
    return result


def _memory_spike(settings, task_id: str, megabytes: int) -> None:
    """Touch ``megabytes`` of memory, on this task's first run only (marked in Redis before, so the run
    after a kill does not spike again: the spike is the customer's, the redelivery is the test)."""
    try:
        first = redis_client.client(settings).set(SPIKE_KEY.format(task_id), "1", nx=True, ex=3600)
    except RedisError:
        return
    if first:
        spike = b"\x01" * (megabytes * 1024 * 1024)   # written, not just reserved: resident
        time.sleep(1.0)
        log.warning("task %s: a memory spike of %d MB, survived", task_id, len(spike) >> 20)


def _get_or_create(invoicer: Invoicer, user_id: int, period: str, hold_s: float) -> dict[str, Any]:
    try:
        return invoicer.generate(user_id, period, hold_s, pool_size=WORKER_POOL_SIZE)
    except ApiError as exc:
        if exc.code == "invoice_exists":
            existing = invoicer.existing(user_id, period, pool_size=WORKER_POOL_SIZE)
            if existing is not None:
                return existing
        if exc.code in {"invoice_exists", "lock_timeout", "lock_lost"}:
            raise Contended(exc.code) from exc
        raise


def _republish(task_id: str, user_id: int, period: str) -> None:
    generate_invoice.apply_async(args=(user_id, period), task_id=task_id)


@worker_ready.connect
def _start_outbox_sweeper(**_: object) -> None:
    settings = current()
    if outbox.enabled(settings):
        outbox.start_sweeper(settings, _republish)
