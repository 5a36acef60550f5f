"""Idempotency keys with Stripe's semantics, shared by every instance.

A key is scoped to its user. The first request claims it in Redis with an
in-flight marker (short TTL, so a crashed holder does not block the key for a
day) and in the database inside the same transaction as the work, so:

- a replay of a finished key returns the stored status and body (any instance);
- the same key with other parameters is refused (422);
- the same key while the first request still runs is refused (409);
- if Redis forgets the key, the database row still holds the first outcome,
  and a concurrent second request waits on the row's unique index instead of
  doing the work twice.

Each half is a protection an unsafe variant removes (billing.unsafe): the
shared store (``idempotency_local``), the in-flight marker
(``idempotency_no_inflight``), the path in the fingerprint
(``fingerprint_without_path``), the database row (``idempotency_redis_only``)
and the user in the key's scope (``idempotency_key_global``).
"""
from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from billing import db, redis_client
from billing.errors import ApiError
from billing.models import IdempotencyRecord
from billing.settings import Settings
from billing.unsafe import Protection

Outcome = tuple[int, dict[str, Any]]
Work = Callable[[Session], Outcome]


def fingerprint(user_id: int, path: str, params: dict[str, Any], *, with_path: bool = True) -> str:
    """What makes two requests with one key "the same request": user, path and body.

    ``with_path=False`` is the ``fingerprint_without_path`` mistake: the
    fingerprint was written for one endpoint, where the body is the whole
    request, and the path (which names the subscription) looked redundant. The
    same key sent to /api/subscriptions/<B>/activate after /<A>/activate then
    matches and replays A's answer: B is never activated, the client is told
    "active".
    """
    request = {"user": user_id, "path": path, "params": params} if with_path else \
        {"user": user_id, "params": params}
    canonical = json.dumps(request, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_name(user_id: int, key: str, *, scoped: bool = True) -> str:
    """The Redis name of a key's record.

    ``scoped=False`` is the ``idempotency_key_global`` mistake: keys treated as
    globally unique because "clients generate UUIDs", so the user is left out
    of the name (and of the database lookup). A second user's first use of a
    key someone else used is refused (422, the fingerprint still names the
    user) or told it is in flight (409), and never runs.
    """
    return f"idem:{user_id}:{key}" if scoped else f"idem:{key}"


@dataclass(frozen=True)
class Result:
    status: int
    body: dict[str, Any]
    replayed: bool


class LocalStore:
    """The ``idempotency_local`` mistake: a per-process dict in place of Redis."""
    _records: dict[str, str] = {}
    _guard = threading.Lock()

    def set(self, name: str, value: str, nx: bool = False, ex: int | None = None) -> bool:
        with self._guard:
            if nx and name in self._records:
                return False
            self._records[name] = value
            return True

    def get(self, name: str) -> str | None:
        return self._records.get(name)

    def delete(self, name: str) -> None:
        with self._guard:
            self._records.pop(name, None)


class IdempotentRunner:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.shared = settings.protected(Protection.IDEMPOTENCY_SHARED)
        self.inflight = settings.protected(Protection.IDEMPOTENCY_INFLIGHT)
        # idempotency_redis_only: the idempotency_records table "seemed redundant
        # with Redis", so nothing but Redis remembers a key; once the record
        # expires (IDEMPOTENCY_TTL_S) or Redis loses it, a retry runs the work again.
        self.backed = self.shared and settings.protected(Protection.IDEMPOTENCY_DURABLE)
        self.with_path = settings.protected(Protection.FINGERPRINT_PATH)
        self.scoped = settings.protected(Protection.IDEMPOTENCY_SCOPE)
        self.store = redis_client.client(settings) if self.shared else LocalStore()

    def run(self, user_id: int, key: str | None, path: str, params: dict[str, Any], work: Work) -> Result:
        if not key or not key.strip():
            raise ApiError(400, "idempotency_key_required", "send an Idempotency-Key header")
        if len(key) > 255:
            raise ApiError(400, "invalid_request", "Idempotency-Key is longer than 255 characters")
        if "\x00" in key:  # PostgreSQL refuses NUL in text: a 503 db_error otherwise
            raise ApiError(400, "invalid_request", "Idempotency-Key contains a NUL character")
        fp = fingerprint(user_id, path, params, with_path=self.with_path)
        name = record_name(user_id, key, scoped=self.scoped)
        if self.inflight:
            claimed = self.store.set(name, json.dumps({"state": "in_flight", "fp": fp}),
                                     nx=True, ex=self.settings.inflight_ttl_s)
            if not claimed:
                return self._from_record(self.store.get(name), fp, name)
        else:
            stored = self.store.get(name)
            if stored is not None:
                return self._from_record(stored, fp, name)
        try:
            result = self._run_in_db(user_id, key, fp, work)
        except BaseException:
            if self.inflight:
                self.store.delete(name)
            raise
        self.store.set(name, json.dumps({"state": "done", "fp": fp, "status": result.status,
                                         "body": result.body}), ex=self.settings.idempotency_ttl_s)
        return result

    def _from_record(self, raw: str | None, fp: str, name: str) -> Result:
        if raw is None:
            # The marker vanished between SET NX and GET (expired, or Redis
            # lost it): the database decides, see _run_in_db.
            raise ApiError(409, "idempotency_in_flight", "the first request with this key is still running; retry")
        record = json.loads(raw)
        if record["fp"] != fp:
            raise ApiError(422, "idempotency_mismatch", "this Idempotency-Key was used with other parameters")
        if record["state"] != "done":
            raise ApiError(409, "idempotency_in_flight", "the first request with this key is still running; retry")
        return Result(record["status"], record["body"], replayed=True)

    def _run_in_db(self, user_id: int, key: str, fp: str, work: Work) -> Result:
        with db.sessions(self.settings).begin() as session:
            if self.backed and self.inflight:
                if not self.scoped and self._row(session, user_id, key) is not None:
                    # The claim's conflict is on (user_id, key); "taken by
                    # anyone" has to be looked up first (check-then-act).
                    return self._replay_row(session, user_id, key, fp)
                claim = insert(IdempotencyRecord).values(user_id=user_id, key=key, fingerprint=fp)
                claimed = session.execute(claim.on_conflict_do_nothing().returning(IdempotencyRecord.id)).first()
                if claimed is None:
                    return self._replay_row(session, user_id, key, fp)
                status, body = work(session)
                session.execute(IdempotencyRecord.__table__.update()
                                .where(IdempotencyRecord.id == claimed[0])
                                .values(status_code=status, response=json.dumps(body)))
                return Result(status, body, replayed=False)
            if self.backed:
                row = self._row(session, user_id, key)
                if row is not None and row.status_code is not None:
                    return self._replay_row(session, user_id, key, fp)
            status, body = work(session)
            if self.backed:
                session.execute(insert(IdempotencyRecord).values(
                    user_id=user_id, key=key, fingerprint=fp, status_code=status,
                    response=json.dumps(body)).on_conflict_do_nothing())
            return Result(status, body, replayed=False)

    def _row(self, session: Session, user_id: int, key: str) -> IdempotencyRecord | None:
        if self.scoped:
            return session.scalar(select(IdempotencyRecord).where(
                IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key))
        return session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == key)
                              .order_by(IdempotencyRecord.id).limit(1))

    def _replay_row(self, session: Session, user_id: int, key: str, fp: str) -> Result:
        row = self._row(session, user_id, key)
        if row is None or row.status_code is None:
            raise ApiError(409, "idempotency_in_flight", "the first request with this key is still running; retry")
        if row.fingerprint != fp:
            raise ApiError(422, "idempotency_mismatch", "this Idempotency-Key was used with other parameters")
        return Result(row.status_code, json.loads(row.response), replayed=True)
