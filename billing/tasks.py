"""Celery tasks. The invoice task is idempotent: a redelivery finds the first invoice."""
from __future__ import annotations

import time
from typing import Any

from celery.exceptions import Retry
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError

from billing.celery_app import celery
from billing.errors import ApiError
from billing.invoicing import Invoicer
from billing.settings import current
from billing.unsafe import Protection

WORKER_POOL_SIZE = 5
RETRY_COUNTDOWN_S = 1


@celery.task(bind=True, name="billing.generate_invoice", max_retries=60)
def generate_invoice(self, user_id: int, period: str, hold_s: float = 0.0, linger_s: float = 0.0) -> dict[str, Any]:
    settings = current()
    invoicer = Invoicer(settings)
    try:
        if settings.protected(Protection.TASK_IDEMPOTENT):
            result = _get_or_create(invoicer, user_id, period, hold_s)
        else:
            time.sleep(hold_s)
            result = invoicer.insert_unconditionally(user_id, period, WORKER_POOL_SIZE)
    except Retry:
        raise
    except (OperationalError, RedisError) as exc:
        # A partitioned dependency: try again after heal; never give up silently.
        raise self.retry(exc=exc, countdown=RETRY_COUNTDOWN_S)
    if linger_s > 0:
        time.sleep(linger_s)
    return {**result, "worker": self.request.hostname}


def _get_or_create(invoicer: Invoicer, user_id: int, period: str, hold_s: float) -> dict[str, Any]:
    try:
        return invoicer.generate(user_id, period, hold_s, pool_size=WORKER_POOL_SIZE)
    except ApiError as exc:
        if exc.code == "invoice_exists":
            existing = invoicer.existing(user_id, period, pool_size=WORKER_POOL_SIZE)
            if existing is not None:
                return existing
        if exc.code in {"invoice_exists", "lock_timeout", "lock_lost"}:
            raise generate_invoice.retry(countdown=RETRY_COUNTDOWN_S)
        raise
