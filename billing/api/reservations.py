"""Tickets and bookings: check-then-act across instances, done atomically.

The safe build decrements with one conditional UPDATE, so two instances can
never both see the last seat. The ``oversell`` variant reads the counter,
decides in Python and writes the number back: the seed document's example.
Two more ticket variants keep the conditional UPDATE and get it wrong:
``quantity_unchecked`` asks for one seat whatever the quantity, and
``sold_out_unhandled`` leaves "sold out" to the database's CHECK constraint.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify
from sqlalchemy import update
from sqlalchemy.orm import Session

from billing import db
from billing.auth import login_required
from billing.errors import ApiError
from billing.models import Booking, Event, Slot, Ticket
from billing.requests_json import body, positive_int
from billing.settings import Settings, current
from billing.unsafe import Protection

bp = Blueprint("reservations", __name__)
MAX_QUANTITY = 100


def _seats_left(quantity: int, settings: Settings):
    """The conditional UPDATE's availability test.

    ``quantity_unchecked``: the test was written when every purchase was one
    ticket, so "any seat left" was "enough seats left"; the ``quantity`` field
    came later, the WHERE was never revisited, and a 3-ticket purchase with one
    seat left succeeds and drives ``available`` negative.
    """
    if settings.protected(Protection.QUANTITY_CHECK):
        return Event.available >= quantity
    return Event.available > 0


def _take_seats(session: Session, event_id: int, quantity: int) -> None:
    settings = current()
    if settings.protected(Protection.ROW_LOCKS):
        if not settings.protected(Protection.SOLD_OUT_ANSWER):
            # ``sold_out_unhandled``: "the database's CHECK (available >= 0)
            # stops overselling", so the decrement is unconditional. It never
            # oversells, but the refusal is an IntegrityError that surfaces as
            # 503 db_error (billing.errors) where the contract promises a
            # definite 409 sold_out. A team makes it because the CHECK is
            # already in the schema and the WHERE looks redundant with it.
            taken = session.execute(update(Event).where(Event.id == event_id)
                                    .values(available=Event.available - quantity).returning(Event.id)).first()
            if taken is None:
                raise ApiError(404, "event_not_found", f"no event {event_id}")
            return
        taken = session.execute(update(Event).where(Event.id == event_id, _seats_left(quantity, settings))
                                .values(available=Event.available - quantity).returning(Event.id)).first()
        if taken is not None:
            return
        if session.get(Event, event_id) is None:
            raise ApiError(404, "event_not_found", f"no event {event_id}")
        raise ApiError(409, "sold_out", f"event {event_id} has fewer than {quantity} tickets left")
    event = session.get(Event, event_id)
    if event is None:
        raise ApiError(404, "event_not_found", f"no event {event_id}")
    if event.available < quantity:
        raise ApiError(409, "sold_out", f"event {event_id} has fewer than {quantity} tickets left")
    event.available = event.available - quantity


def _take_place(session: Session, slot_id: int) -> None:
    if current().protected(Protection.ROW_LOCKS):
        taken = session.execute(update(Slot).where(Slot.id == slot_id, Slot.booked < Slot.capacity)
                                .values(booked=Slot.booked + 1).returning(Slot.id)).first()
        if taken is not None:
            return
        if session.get(Slot, slot_id) is None:
            raise ApiError(404, "slot_not_found", f"no slot {slot_id}")
        raise ApiError(409, "slot_full", f"slot {slot_id} is full")
    slot = session.get(Slot, slot_id)
    if slot is None:
        raise ApiError(404, "slot_not_found", f"no slot {slot_id}")
    if slot.booked >= slot.capacity:
        raise ApiError(409, "slot_full", f"slot {slot_id} is full")
    slot.booked = slot.booked + 1


@bp.post("/api/tickets/purchase")
@login_required
def purchase_ticket():
    data = body()
    event_id = positive_int(data, "event_id")
    quantity = positive_int(data, "quantity", required=False, default=1, maximum=MAX_QUANTITY)
    with db.sessions(current()).begin() as session:
        _take_seats(session, event_id, quantity)
        ticket = Ticket(event_id=event_id, user_id=g.principal.user_id, quantity=quantity)
        session.add(ticket)
        session.flush()
        return jsonify(ticket_id=ticket.id, event_id=event_id, quantity=quantity), 201


@bp.post("/api/bookings")
@login_required
def book_slot():
    data = body()
    slot_id = positive_int(data, "slot_id")
    with db.sessions(current()).begin() as session:
        _take_place(session, slot_id)
        booking = Booking(slot_id=slot_id, user_id=g.principal.user_id)
        session.add(booking)
        session.flush()
        return jsonify(booking_id=booking.id, slot_id=slot_id), 201
