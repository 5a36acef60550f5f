"""Ids in paths: only numbers the database's keys can hold ever reach a query.

Every table's primary key (and so every foreign key) is an INTEGER, SQLAlchemy's
type for ``Mapped[int]``, and billing's dialect binds parameters with the
column's type. A path id past 2**31 - 1 is then refused by PostgreSQL itself
("integer out of range"), which surfaced as 503 ``db_error``: an outage, where
the true answer is "there is no such thing". A 503 tells a client to retry and
tells the contract checker the service was down; neither is true.

``install`` replaces Flask's ``int`` converter with one bounded at the largest
id, before any route is added, so every ``<int:...>`` route is bounded at once,
those written later included: a larger id matches no route and is 404
``not_found``, like any other URL the service does not have.
"""
from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

MAX_ID = 2**31 - 1  # PostgreSQL INTEGER; ids are serial, from 1


class DatabaseId(IntegerConverter):
    """``int`` from 1 to the largest id a table can hold (never outside it)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs["max"] = min(kwargs.get("max") or MAX_ID, MAX_ID)
        kwargs["min"] = max(kwargs.get("min") or 1, 1)   # ids are serial, from 1: /users/0/... is no one
        super().__init__(map, *args, **kwargs)


def install(app: Flask) -> None:
    """Bound ``<int:...>``. Must run before the blueprints add their routes: a rule takes its converter
    when it is added (tests/unit/test_billing_input.py checks every route's ids are bounded)."""
    app.url_map.converters["int"] = DatabaseId
