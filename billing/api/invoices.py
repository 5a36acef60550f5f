"""Invoice routes: sync, async, the slow holder, task status, the final read."""
from __future__ import annotations

import uuid

from celery.result import AsyncResult
from flask import Blueprint, jsonify

from billing import outbox
from billing.auth import admin_required
from billing.celery_app import celery
from billing.errors import ApiError
from billing.invoicing import Invoicer, invoices_of, valid_period
from billing.requests_json import body, query_float
from billing.settings import current
from billing.tasks import generate_invoice

bp = Blueprint("invoices", __name__)
MAX_HOLD_S = 120.0
MAX_SPIKE_MB = 1024


@bp.post("/api/admin/users/<int:user_id>/generate-invoice")
@admin_required
def generate(user_id: int):
    return jsonify(Invoicer(current()).generate(user_id, valid_period(body().get("period"))))


@bp.post("/api/admin/users/<int:user_id>/generate-invoice-async")
@admin_required
def generate_async(user_id: int):
    settings = current()
    period = valid_period(body().get("period"))
    hold_s = query_float("hold_s", MAX_HOLD_S) if settings.test_endpoints else 0.0
    linger_s = query_float("linger_s", MAX_HOLD_S) if settings.test_endpoints else 0.0
    spike_mb = int(query_float("spike_mb", MAX_SPIKE_MB)) if settings.test_endpoints else 0
    task_id = str(uuid.uuid4())
    outbox.accept(settings, task_id, user_id, period)  # before publishing: a lost message is re-published
    generate_invoice.apply_async(args=(user_id, period, hold_s, linger_s, spike_mb), task_id=task_id)
    return jsonify(task_id=task_id, user_id=user_id, period=period), 202


@bp.get("/api/admin/tasks/<task_id>")
@admin_required
def task_status(task_id: str):
    entry = outbox.status(current(), task_id)
    if entry is None:
        raise ApiError(404, "task_not_found", f"no task {task_id}")
    if entry["result"] is not None:   # delivered: the outbox's word outlives Celery's result in Redis
        return jsonify(task_id=task_id, state="SUCCESS", result=entry["result"])
    result = AsyncResult(task_id, app=celery)
    payload = result.result if result.successful() else None
    if result.failed():
        payload = {"error": type(result.result).__name__}
    return jsonify(task_id=task_id, state=result.state, result=payload)


@bp.get("/api/admin/users/<int:user_id>/invoices")
@admin_required
def invoices(user_id: int):
    return jsonify(invoices_of(current(), user_id))
