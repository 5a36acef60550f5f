"""Errors as JSON: ``{"error": code, "message": text}``, never a stack trace.

Dependency failures get their own codes and 503, so a client can tell "the
service said no" (a definite 4xx: the write did not happen) from "the service
could not tell" (5xx: the write may or may not have happened).
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, OperationalError, TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

log = logging.getLogger("billing.errors")


class ApiError(Exception):
    """A definite outcome the client should see as ``status`` with ``code``."""

    def __init__(self, status: int, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.status = status
        self.code = code
        self.message = message or code.replace("_", " ")


def error_response(status: int, code: str, message: str):
    response = jsonify(error=code, message=message)
    response.status_code = status
    return response


def install(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(exc.status, exc.code, exc.message)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, code, exc.description or exc.name)

    @app.errorhandler(RedisConnectionError)
    @app.errorhandler(RedisTimeoutError)
    def _redis_down(exc: Exception):
        log.warning("redis unavailable: %s", exc)
        return error_response(503, "redis_unavailable", "Redis did not answer")

    @app.errorhandler(BrokerError)
    def _broker_down(exc: Exception):
        log.warning("broker unavailable: %s", exc)
        return error_response(503, "broker_unavailable", "the task broker did not answer")

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeoutError)
    def _db_down(exc: Exception):
        log.warning("database unavailable: %s", str(exc).splitlines()[0])
        return error_response(503, "db_unavailable", "the database did not answer")

    @app.errorhandler(DBAPIError)
    def _db_error(exc: DBAPIError):
        log.warning("database error: %s", str(exc).splitlines()[0])
        return error_response(503, "db_error", "the database failed the request")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return error_response(500, "internal_error", "internal error")
