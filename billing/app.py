"""The Flask app factory."""
from __future__ import annotations

import logging
import time

from flask import Flask
from sqlalchemy.exc import OperationalError

from billing import db, errors, ids
from billing.api import BLUEPRINTS
from billing.schema import ensure_schema
from billing.settings import Settings, current

log = logging.getLogger("billing")
SCHEMA_WAIT_S = 60.0


def create_app(settings: Settings | None = None, *, prepare_schema: bool = True) -> Flask:
    settings = settings or current()
    app = Flask("billing", static_folder=None)  # no static files: every route is in billing/openapi.json
    app.json.sort_keys = False
    errors.install(app)
    ids.install(app)  # before the routes: they take their converters when added
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)

    @app.after_request
    def tag_instance(response):
        response.headers["X-Instance"] = settings.instance
        return response

    if prepare_schema:
        wait_for_schema(settings)
    return app


def wait_for_schema(settings: Settings) -> None:
    """Create the schema, retrying while the database is still starting."""
    deadline = time.monotonic() + SCHEMA_WAIT_S
    while True:
        try:
            ensure_schema(db.engine(settings), settings)
            return
        except OperationalError as exc:
            if time.monotonic() > deadline:
                raise
            log.warning("database not ready (%s); retrying", str(exc).splitlines()[0])
            time.sleep(1)
