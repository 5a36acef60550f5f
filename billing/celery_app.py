"""The Celery application: acks_late and reject-on-worker-lost are protections.

With the Redis transport an unacknowledged task is redelivered after
``visibility_timeout`` (an hour by default; chaos runs set seconds), so the
task body must be idempotent (see :mod:`billing.tasks`).
"""
from __future__ import annotations

from pathlib import Path

from celery import Celery
from celery.signals import heartbeat_sent, worker_ready

from billing.settings import Settings, current
from billing.unsafe import Protection


def make_celery(settings: Settings) -> Celery:
    app = Celery("billing", broker=settings.broker_url, backend=settings.result_backend,
                 include=["billing.tasks"])
    late = settings.protected(Protection.ACKS_LATE)
    timeout = settings.redis_timeout_s
    app.conf.update(
        task_acks_late=late,
        task_reject_on_worker_lost=late,
        worker_prefetch_multiplier=1,
        task_track_started=True,
        worker_send_task_events=True,
        task_send_sent_event=True,
        result_expires=24 * 3600,
        # kombu sweeps for unacknowledged messages every 10 s but scans only on every 10th sweep,
        # so a dead worker's task came back up to ~100 s after the visibility timeout: sweep
        # every 5 s and scan each time, so redelivery follows the timeout (kombu PR 2558).
        broker_transport_options={"visibility_timeout": settings.visibility_timeout_s,
                                  "unacked_restore_interval": 5, "unacked_restore_throttle": 1,
                                  "socket_timeout": timeout, "socket_connect_timeout": timeout},
        redis_socket_timeout=timeout,
        redis_socket_connect_timeout=timeout,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=timeout,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5,
                                   "interval_max": 1},
    )
    return app


celery = make_celery(current())


# A worker's liveness as a file whose age the container healthcheck reads:
# running `celery inspect ping` every few seconds in each of several workers
# costs a Python start-up per check, which 2 cores cannot spare.
HEARTBEAT_FILE = Path("/tmp/celery-heartbeat")


@heartbeat_sent.connect
@worker_ready.connect
def _touch_heartbeat(**_: object) -> None:
    try:
        HEARTBEAT_FILE.touch()
    except OSError:
        pass
