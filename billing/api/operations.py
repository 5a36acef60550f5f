"""Pool metrics and health: what an operator (and the lb) looks at."""
from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from billing import db, redis_client
from billing.settings import current

bp = Blueprint("operations", __name__)


@bp.get("/api/metrics/db-pool")
def db_pool():
    settings = current()
    pool = db.engine(settings).pool
    return jsonify(instance=settings.instance, pool_size=pool.size(), checkedout=pool.checkedout(),
                   overflow=pool.overflow(), checkedin=pool.checkedin())


@bp.get("/healthz")
def healthz():
    settings = current()
    checks = {"redis": "ok", "db": "ok"}
    try:
        redis_client.client(settings).ping()
    except Exception:  # any failure means "not healthy", which is the answer
        checks["redis"] = "down"
    try:
        with db.engine(settings).connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        checks["db"] = "down"
    healthy = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if healthy else "degraded", instance=settings.instance, **checks), (200 if healthy else 503)
