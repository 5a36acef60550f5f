"""The contract as an OpenAPI 3.1 document, served as it is kept in the repository.

``billing/openapi.json`` is written by hand and is the contract: what a client
(or schemathesis) may send and what it gets back. It is not generated from the
routes, so that a change to a route that breaks the contract shows up as a
failing test (tests/unit/test_openapi_contract.py compares both), not as a
silently different document.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files
from typing import Any

from flask import Blueprint, jsonify

bp = Blueprint("contract", __name__)
DOCUMENT = "openapi.json"


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """The document, read once per process (it ships beside the code: billing/openapi.json)."""
    return json.loads(files("billing").joinpath(DOCUMENT).read_text(encoding="utf-8"))


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())
