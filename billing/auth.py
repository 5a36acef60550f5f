"""Passwords, JWTs and the two guards (user, admin)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from functools import wraps
from typing import Callable

import jwt
from flask import g, request
from werkzeug.security import check_password_hash, generate_password_hash

from billing.errors import ApiError
from billing.settings import current

# PBKDF2 with a modest count: 100 concurrent registrations on 2 cores must
# finish in seconds, and these are test accounts, not a password vault.
PASSWORD_METHOD = "pbkdf2:sha256:20000"


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


def password_matches(password_hash: str, password: str) -> bool:
    return check_password_hash(password_hash, password)


@dataclass(frozen=True)
class Principal:
    user_id: int
    is_admin: bool


def issue_token(user_id: int, is_admin: bool) -> str:
    settings = current()
    now = int(time.time())
    claims = {"sub": str(user_id), "adm": is_admin, "iat": now, "exp": now + settings.jwt_ttl_s}
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


def principal_from_request() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "missing_token", "send Authorization: Bearer <access_token>")
    try:
        claims = jwt.decode(token.strip(), current().jwt_secret, algorithms=["HS256"],
                            options={"require": ["sub", "exp"]})
        return Principal(user_id=int(claims["sub"]), is_admin=bool(claims.get("adm")))
    except jwt.ExpiredSignatureError:
        raise ApiError(401, "token_expired", "the access token has expired; log in again")
    except (jwt.InvalidTokenError, ValueError):
        raise ApiError(401, "invalid_token", "the access token is not valid")


def login_required(view: Callable) -> Callable:
    @wraps(view)
    def guarded(*args, **kwargs):
        g.principal = principal_from_request()
        return view(*args, **kwargs)
    return guarded


def admin_required(view: Callable) -> Callable:
    @wraps(view)
    def guarded(*args, **kwargs):
        g.principal = principal_from_request()
        if not g.principal.is_admin:
            raise ApiError(403, "forbidden", "this route is for administrators")
        return view(*args, **kwargs)
    return guarded
