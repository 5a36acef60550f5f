"""Register, log in, read one's own profile."""
from __future__ import annotations

import re

from flask import Blueprint, g, jsonify
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing import db
from billing.auth import hash_password, issue_token, login_required, password_matches
from billing.errors import ApiError
from billing.models import User
from billing.requests_json import body, field
from billing.settings import current
from billing.unsafe import Protection

bp = Blueprint("accounts", __name__)
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8


def _email_taken(session: Session, email: str) -> bool:
    """``email_check_then_insert``: the registration check that replaced the constraint.

    The team moved email validation into code ("one place for the rules and a
    friendly error") and dropped the unique constraint on users.email in the
    migration that did it. The SELECT and the INSERT are two steps, so two
    concurrent registrations of one email, on any two instances, both pass the
    check and make two accounts.
    """
    return session.scalar(select(User.id).where(User.email == email).limit(1)) is not None


def _email(data: dict) -> str:
    """The email as the service keeps it: lower-cased, so one mailbox is one account whatever its case
    (``email_case_sensitive`` keeps it as typed, and the unique constraint is case-sensitive)."""
    email = field(data, "email", str).strip()
    return email.lower() if current().protected(Protection.EMAIL_CASE) else email


@bp.post("/api/auth/register")
def register():
    data = body()
    email = _email(data)
    password = field(data, "password", str)
    name = field(data, "name", str, required=False, max_length=User.name.type.length)
    if len(email) > 254 or not EMAIL.match(email):  # length first: the pattern backtracks on a long one
        raise ApiError(400, "invalid_request", "field 'email' is not an email address")
    if len(password) < MIN_PASSWORD:
        raise ApiError(400, "invalid_request", f"field 'password' must have at least {MIN_PASSWORD} characters")
    settings = current()
    try:
        with db.sessions(settings).begin() as session:
            if not settings.protected(Protection.EMAIL_UNIQUE) and _email_taken(session, email):
                raise ApiError(409, "email_taken", "an account with this email exists")
            user = User(email=email, password_hash=hash_password(password), name=name)
            session.add(user)
            session.flush()
            user_id = user.id
    except IntegrityError:
        raise ApiError(409, "email_taken", "an account with this email exists")
    return jsonify(user_id=user_id, email=email), 201


@bp.post("/api/auth/login")
def login():
    data = body()
    email = _email(data)
    password = field(data, "password", str)
    with db.sessions(current()).begin() as session:
        # The first account by id: email_check_then_insert can leave two.
        user = session.scalar(select(User).where(User.email == email).order_by(User.id).limit(1))
        if user is None or not password_matches(user.password_hash, password):
            raise ApiError(401, "invalid_credentials", "wrong email or password")
        return jsonify(access_token=issue_token(user.id, user.is_admin), token_type="bearer", user_id=user.id)


@bp.get("/api/user/profile")
@login_required
def profile():
    with db.sessions(current()).begin() as session:
        user = session.get(User, g.principal.user_id)
        if user is None:
            raise ApiError(401, "invalid_token", "the token's user no longer exists")
        return jsonify(user_id=user.id, email=user.email, name=user.name, is_admin=user.is_admin,
                       created_at=user.created_at.isoformat())
