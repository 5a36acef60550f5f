"""Test-only routes, 404 unless ``BILLING_TEST_ENDPOINTS`` is on."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify
from sqlalchemy.dialects.postgresql import insert

from billing import db, redis_client
from billing.auth import admin_required, hash_password
from billing.invoicing import Invoicer, valid_period
from billing.locks import Journal
from billing.models import User
from billing.requests_json import body, field, positive_int, query_float
from billing.schema import reset_data
from billing.settings import current

bp = Blueprint("testing", __name__)
TEST_PASSWORD = "test-password"
MAX_HOLD_S = 120.0


@bp.before_request
def only_when_enabled():
    if not current().test_endpoints:
        abort(404)


@bp.post("/api/admin/test/reset")
@admin_required
def reset():
    settings = current()
    reset_data(db.engine(settings), settings)
    client = redis_client.client(settings)
    for pattern in ("idem:*", "fence:*", "lock:*", "lock-signal:*", "billing:task:*", "billing:outbox*"):
        for key in client.scan_iter(pattern, count=1000):
            client.delete(key)
    Journal(client, settings).clear()
    return jsonify(status="reset")


@bp.post("/api/admin/test/users")
@admin_required
def bulk_users():
    """Create many users at once (the 1000-invoice stress needs 1000 of them)."""
    data = body()
    count = positive_int(data, "count", maximum=10_000)
    prefix = field(data, "prefix", str, required=False, default="bulk")
    password_hash = hash_password(TEST_PASSWORD)
    rows = [dict(email=f"{prefix}-{i}@bulk.test", password_hash=password_hash) for i in range(count)]
    with db.sessions(current()).begin() as session:
        ids = session.scalars(insert(User).values(rows).on_conflict_do_update(
            index_elements=["email"], set_={"name": None}).returning(User.id)).all()
    return jsonify(user_ids=sorted(ids), password=TEST_PASSWORD), 201


@bp.get("/api/admin/test/lock-events")
@admin_required
def lock_events():
    settings = current()
    return jsonify(Journal(redis_client.client(settings), settings).read())


@bp.post("/api/admin/test/slow-invoice/<int:user_id>")
@admin_required
def slow_invoice(user_id: int):
    """Hold the invoice lock ``hold_s`` seconds between the check and the write."""
    hold_s = query_float("hold_s", MAX_HOLD_S)
    return jsonify(Invoicer(current()).generate(user_id, valid_period(body().get("period")), hold_s))
