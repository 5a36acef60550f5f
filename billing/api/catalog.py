"""Tariff plans, events and slots: what can be bought, and their counters (final reads)."""
from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify
from sqlalchemy import select

from billing import db
from billing.auth import admin_required
from billing.errors import ApiError
from billing.models import Booking, Event, Slot, TariffPlan, Ticket
from billing.requests_json import body, field, positive_int
from billing.settings import current

bp = Blueprint("catalog", __name__)


# Plans are seed rows that no route changes, read on every page of the catalogue:
# an instance keeps the list this long, so a read costs no database round trip
# (a pool check-out with its pre-ping, BEGIN, SELECT and COMMIT), and a plan
# written by SQL shows within this many seconds. Each app keeps its own list.
PLAN_LIST_TTL_S = 5.0
PLAN_LIST = "billing.plan_list"


@bp.get("/api/tariff_plans")
def tariff_plans():
    cached = current_app.extensions.get(PLAN_LIST)
    if cached is None or cached[0] < time.monotonic():
        # Threads that miss together each read once: a few reads, never a wrong list.
        cached = (time.monotonic() + PLAN_LIST_TTL_S, _read_plans())
        current_app.extensions[PLAN_LIST] = cached
    return jsonify(cached[1])


def _read_plans() -> list[dict[str, object]]:
    with db.sessions(current()).begin() as session:
        return [{"id": p.id, "name": p.name, "description": p.description, "price": str(p.price),
                 "currency_code": p.currency_code, "billing_period": p.billing_period}
                for p in session.scalars(select(TariffPlan).order_by(TariffPlan.id))]


@bp.post("/api/admin/events")
@admin_required
def create_event():
    data = body()
    capacity = positive_int(data, "capacity")
    name = field(data, "name", str, required=False, default="Event", max_length=Event.name.type.length)
    with db.sessions(current()).begin() as session:
        event = Event(name=name, capacity=capacity, available=capacity)
        session.add(event)
        session.flush()
        return jsonify(event_id=event.id, name=name, capacity=capacity), 201


@bp.get("/api/events/<int:event_id>")
def event(event_id: int):
    with db.sessions(current()).begin() as session:
        event = session.get(Event, event_id)
        if event is None:
            raise ApiError(404, "event_not_found", f"no event {event_id}")
        tickets = session.scalars(select(Ticket).where(Ticket.event_id == event_id).order_by(Ticket.id))
        return jsonify(event_id=event.id, name=event.name, capacity=event.capacity, available=event.available,
                       tickets=[{"ticket_id": t.id, "quantity": t.quantity, "user_id": t.user_id} for t in tickets])


@bp.post("/api/admin/slots")
@admin_required
def create_slot():
    data = body()
    capacity = positive_int(data, "capacity")
    service_id = positive_int(data, "service_id", required=False, default=1)
    with db.sessions(current()).begin() as session:
        slot = Slot(capacity=capacity, service_id=service_id, booked=0)
        session.add(slot)
        session.flush()
        return jsonify(slot_id=slot.id, capacity=capacity, service_id=service_id), 201


@bp.get("/api/slots/<int:slot_id>")
def slot(slot_id: int):
    with db.sessions(current()).begin() as session:
        slot = session.get(Slot, slot_id)
        if slot is None:
            raise ApiError(404, "slot_not_found", f"no slot {slot_id}")
        bookings = session.scalars(select(Booking).where(Booking.slot_id == slot_id).order_by(Booking.id))
        return jsonify(slot_id=slot.id, capacity=slot.capacity, booked=slot.booked,
                       bookings=[{"booking_id": b.id, "user_id": b.user_id} for b in bookings])
