"""Test-only routes, 404 unless ``BILLING_TEST_ENDPOINTS`` is on."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from billing import db, redis_client
from billing.auth import admin_required, hash_password
from billing.invoicing import Invoicer, valid_period
from billing.locks import Journal
from billing.models import User
from billing.requests_json import body, field, positive_int, query_float
from billing.schema import reset_data
from billing.settings import current
from billing.unsafe import Protection

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
    for pattern in ("idem:*", "fence:*", "lock:*", "lock-signal:*", "billing:task:*", "billing:outbox*",
                    "billing:spiked:*"):
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
    # the emails made of it must fit users.email (254) with "-9999@bulk.test" after the prefix
    prefix = field(data, "prefix", str, required=False, default="bulk", max_length=200)
    password_hash = hash_password(TEST_PASSWORD)
    rows = [dict(email=f"{prefix}-{i}@bulk.test", password_hash=password_hash) for i in range(count)]
    settings = current()
    with db.sessions(settings).begin() as session:
        if settings.protected(Protection.EMAIL_UNIQUE):
            ids = session.scalars(insert(User).values(rows).on_conflict_do_update(
                index_elements=["email"], set_={"name": None}).returning(User.id)).all()
        else:
            ids = _bulk_without_unique_email(session, rows)
    return jsonify(user_ids=sorted(ids), password=TEST_PASSWORD), 201


def _bulk_without_unique_email(session: Session, rows: list[dict]) -> list[int]:
    """The upsert above without users.email's unique constraint (``email_check_then_insert``).

    ON CONFLICT (email) needs that constraint, so: the same effect, check then
    insert (the first account by id for an email that already has some).
    """
    emails = [row["email"] for row in rows]
    existing: dict[str, int] = {}
    for user_id, email in session.execute(select(User.id, User.email).where(User.email.in_(emails))
                                          .order_by(User.id)):
        existing.setdefault(email, user_id)
    if existing:
        session.execute(update(User).where(User.id.in_(list(existing.values()))).values(name=None))
    missing = [row for row in rows if row["email"] not in existing]
    created = session.scalars(insert(User).values(missing).returning(User.id)).all() if missing else []
    return [*existing.values(), *created]


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
