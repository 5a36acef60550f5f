"""Subscriptions and their idempotent activation."""
from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import db
from billing.auth import login_required
from billing.errors import ApiError
from billing.idempotency import IdempotentRunner
from billing.invoicing import as_json
from billing.models import Invoice, Subscription, TariffPlan
from billing.requests_json import body, field, positive_int, query_float
from billing.settings import current

bp = Blueprint("subscriptions", __name__)
MAX_HOLD_S = 60.0
PAYMENT_METHODS = {"card", "stripe", "paypal", "invoice", "bank_transfer"}


def _subscription_json(sub: Subscription) -> dict[str, Any]:
    return {"subscription_id": sub.id, "tariff_plan_id": sub.tariff_plan_id, "status": sub.status,
            "payment_method": sub.payment_method}


@bp.post("/api/subscriptions")
@login_required
def create_subscription():
    data = body()
    plan_id = positive_int(data, "tariff_plan_id")
    method = field(data, "payment_method", str)
    if method not in PAYMENT_METHODS:
        raise ApiError(400, "invalid_request", f"field 'payment_method' must be one of {sorted(PAYMENT_METHODS)}")
    with db.sessions(current()).begin() as session:
        if session.get(TariffPlan, plan_id) is None:
            raise ApiError(404, "plan_not_found", f"no tariff plan {plan_id}")
        sub = Subscription(user_id=g.principal.user_id, tariff_plan_id=plan_id, payment_method=method)
        session.add(sub)
        session.flush()
        return jsonify(subscription_id=sub.id, status=sub.status), 201


@bp.get("/api/subscriptions")
@login_required
def list_subscriptions():
    with db.sessions(current()).begin() as session:
        subs = session.scalars(select(Subscription).where(Subscription.user_id == g.principal.user_id)
                               .order_by(Subscription.id))
        return jsonify([_subscription_json(s) for s in subs])


def _activate(subscription_id: int, user_id: int, params: dict[str, Any], hold_s: float = 0.0):
    """The work an idempotency key protects: activate and invoice, once.

    ``hold_s`` (test endpoints only) keeps the key in flight, so that a
    second request with it can be shown to get 409.
    """

    def work(session: Session) -> tuple[int, dict[str, Any]]:
        time.sleep(hold_s)
        sub = session.scalar(select(Subscription).where(Subscription.id == subscription_id)
                             .with_for_update())
        if sub is None or sub.user_id != user_id:
            return 404, {"error": "subscription_not_found", "message": f"no subscription {subscription_id}"}
        if sub.status != "pending":
            return 409, {"error": "subscription_not_pending",
                         "message": f"subscription {subscription_id} is {sub.status}"}
        plan = session.get(TariffPlan, sub.tariff_plan_id)
        sub.status = "active"
        if params.get("payment_method"):
            sub.payment_method = params["payment_method"]
        invoice = Invoice(user_id=user_id, period=f"activation-{sub.id}", amount=plan.price,
                          instance=current().instance)
        session.add(invoice)
        session.flush()
        return 200, {"subscription_id": sub.id, "status": "active", "invoice_id": invoice.id,
                     "amount": as_json(invoice)["amount"]}

    return work


@bp.post("/api/subscriptions/<int:subscription_id>/activate")
@login_required
def activate(subscription_id: int):
    params = body()
    method = field(params, "payment_method", str, required=False)
    if method is not None and method not in PAYMENT_METHODS:
        raise ApiError(400, "invalid_request", f"field 'payment_method' must be one of {sorted(PAYMENT_METHODS)}")
    user_id = g.principal.user_id
    settings = current()
    hold_s = query_float("hold_s", MAX_HOLD_S) if settings.test_endpoints else 0.0
    result = IdempotentRunner(settings).run(
        user_id, request.headers.get("Idempotency-Key"), request.path, params,
        _activate(subscription_id, user_id, params, hold_s))
    response = jsonify(result.body)
    response.status_code = result.status
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response
