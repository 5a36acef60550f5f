"""Invoice generation: the lock, the check, the fence and the unique index.

The same function serves the sync route, the slow-invoice test route and the
Celery task, so every path has every protection. ``hold_s`` is the slow work
(pricing, tax, a PDF) between the existence check and the insert: the window
a stale lock holder needs to do damage.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing import db, redis_client
from billing.errors import ApiError
from billing.locks import FencedLock, Journal
from billing.models import Invoice, InvoiceFence, Subscription, TariffPlan, User
from billing.settings import Settings
from billing.unsafe import Protection

PERIOD = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")  # whole string (fullmatch): "$" lets "2026-01\n" through


def current_period() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m")


def valid_period(value: Any) -> str:
    if value is None:
        return current_period()
    if not isinstance(value, str) or not PERIOD.fullmatch(value):
        raise ApiError(400, "invalid_request", "period must be a string 'YYYY-MM'")
    return value


def lock_key(user_id: int, period: str) -> str:
    return f"invoice:{user_id}:{period}"


ACTIVATION_PERIOD = "activation-"  # an activation's invoice: its period names the subscription


def as_json(invoice: Invoice) -> dict[str, Any]:
    """``subscription_id`` is set on an activation's invoice only, so a reader can tell the two kinds apart."""
    subscription = invoice.period[len(ACTIVATION_PERIOD):] if invoice.period.startswith(ACTIVATION_PERIOD) else None
    return {"invoice_id": invoice.id, "user_id": invoice.user_id, "period": invoice.period,
            "subscription_id": int(subscription) if subscription and subscription.isdigit() else None,
            "amount": str(invoice.amount), "instance": invoice.instance,
            "fencing_token": invoice.fencing_token,
            "created_at": invoice.created_at.isoformat() if invoice.created_at else None}


@dataclass
class Invoicer:
    settings: Settings

    @property
    def _journal(self) -> Journal:
        return Journal(redis_client.client(self.settings), self.settings)

    def generate(self, user_id: int, period: str, hold_s: float = 0.0, pool_size: int = db.POOL["pool_size"]) -> dict[str, Any]:
        sessions = db.sessions(self.settings, pool_size)
        if not self.settings.protected(Protection.LOCK):
            return self._write(sessions, user_id, period, hold_s, lock=None)
        lock = FencedLock(redis_client.lock_client(self.settings), lock_key(user_id, period),
                          self.settings, self._journal)
        if not lock.acquire(timeout=self.settings.lock_acquire_timeout_s):
            raise ApiError(409, "lock_timeout", f"another request holds the invoice lock for user {user_id}, {period}")
        try:
            return self._write(sessions, user_id, period, hold_s, lock=lock)
        finally:
            lock.release_quietly()

    def _write(self, sessions, user_id: int, period: str, hold_s: float, lock: FencedLock | None) -> dict[str, Any]:
        with sessions.begin() as session:
            if session.get(User, user_id) is None:
                raise ApiError(404, "user_not_found", f"no user {user_id}")
            if self._existing(session, user_id, period) is not None:
                raise ApiError(409, "invoice_exists", f"user {user_id} already has an invoice for {period}")
            amount = self._amount(session, user_id)
            if hold_s > 0:  # slow work inside the transaction: allow this session its idle time
                allowed_ms = round(hold_s * 1000) + db.IDLE_IN_TRANSACTION_MS
                session.execute(text(f"SET LOCAL idle_in_transaction_session_timeout = {allowed_ms}"))
                time.sleep(hold_s)
            fence = lock.fence() if lock is not None else None
            if lock is not None and fence is None and self.settings.protected(Protection.FENCING):
                lock.record_write(None, accepted=False)
                raise ApiError(409, "lock_lost", "the invoice lock expired before the write")
            if fence is not None and self.settings.protected(Protection.FENCING) and not self._advance_fence(session, lock.key, fence):
                lock.record_write(fence, accepted=False)
                raise ApiError(409, "invoice_exists", f"a newer lock holder wrote user {user_id}, {period}")
            invoice = Invoice(user_id=user_id, period=period, amount=amount,
                              instance=self.settings.instance, fencing_token=fence)
            session.add(invoice)
            try:
                session.flush()
            except IntegrityError:
                if lock is not None:
                    lock.record_write(fence, accepted=False)
                raise ApiError(409, "invoice_exists", f"user {user_id} already has an invoice for {period}")
        if lock is not None:
            lock.record_write(fence, accepted=True)
        return as_json(invoice)

    def insert_unconditionally(self, user_id: int, period: str, pool_size: int) -> dict[str, Any]:
        """The non-idempotent task body of ``task_not_idempotent``: no lock, no check."""
        with db.sessions(self.settings, pool_size).begin() as session:
            invoice = Invoice(user_id=user_id, period=period, amount=self._amount(session, user_id),
                              instance=self.settings.instance)
            session.add(invoice)
            session.flush()
        return as_json(invoice)

    def existing(self, user_id: int, period: str, pool_size: int = db.POOL["pool_size"]) -> dict[str, Any] | None:
        with db.sessions(self.settings, pool_size).begin() as session:
            invoice = self._existing(session, user_id, period)
            return as_json(invoice) if invoice is not None else None

    @staticmethod
    def _existing(session: Session, user_id: int, period: str) -> Invoice | None:
        return session.scalar(select(Invoice).where(Invoice.user_id == user_id, Invoice.period == period)
                              .order_by(Invoice.id).limit(1))

    @staticmethod
    def _amount(session: Session, user_id: int) -> Decimal:
        total = session.scalar(
            select(func.coalesce(func.sum(TariffPlan.price), 0))
            .join(Subscription, Subscription.tariff_plan_id == TariffPlan.id)
            .where(Subscription.user_id == user_id, Subscription.status == "active"))
        return Decimal(total or 0)

    @staticmethod
    def _advance_fence(session: Session, key: str, fence: int) -> bool:
        """Record ``fence`` as the newest writer, unless a newer one already wrote."""
        stmt = insert(InvoiceFence).values(key=key, fence=fence)
        stmt = stmt.on_conflict_do_update(
            index_elements=[InvoiceFence.key], set_={"fence": stmt.excluded.fence},
            where=InvoiceFence.fence < stmt.excluded.fence).returning(InvoiceFence.fence)
        return session.execute(stmt).first() is not None


def invoices_of(settings: Settings, user_id: int) -> list[dict[str, Any]]:
    with db.sessions(settings).begin() as session:
        rows = session.scalars(select(Invoice).where(Invoice.user_id == user_id).order_by(Invoice.id))
        return [as_json(r) for r in rows]
