"""The profile's sections beside its operations: auth, headers, error fields, identities, instances.

Each is read off the whole document (security schemes, reply headers, error
schemas, servers) rather than one operation; what cannot be decided becomes a
"check by hand" note instead of a guess the team would not notice.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from chaos.target.loopback import url_problem
from chaos.target.openapi.document import resolve
from chaos.target.openapi.endpoint import Endpoint, best_leaf
from chaos.target.openapi.names import (ERROR_CODE_FIELDS, ERROR_MESSAGE_FIELDS, IDEMPOTENCY_HEADER,
                                        INSTANCE_HEADER, REFUSALS, SUITE_CODES)


DEFAULT_INSTANCE = "http://127.0.0.1:8000"


def auth(doc: Mapping[str, Any], matched: Mapping[str, Endpoint], notes: list[str]) -> dict[str, Any]:
    """How a token travels (the first security scheme) and where login's reply has it."""
    schemes = ((doc.get("components") or {}).get("securitySchemes") or {})
    found: dict[str, Any] = {"header": "Authorization", "scheme": "Bearer"}
    scheme = resolve(doc, next(iter(schemes.values()))) if schemes else None
    if isinstance(scheme, Mapping) and scheme.get("type") == "apiKey" and scheme.get("in") == "header":
        found = {"header": scheme.get("name", "Authorization"), "scheme": None}
    elif isinstance(scheme, Mapping) and scheme.get("type") == "http" and str(scheme.get("scheme")).lower() != "bearer":
        notes.append(f"auth: the document's scheme is http {scheme.get('scheme')}; the suite sends a token "
                     "(auth.header, auth.scheme)")
    elif scheme is None:
        notes.append("auth: the document names no security scheme; Authorization: Bearer assumed")
    login = matched.get("login")
    token = best_leaf("token", [leaf for leaf in login.reply if not leaf.is_list], False) if login else None
    if token is not None:
        found["token"] = token.path
    elif login is not None:
        notes.append(f"auth.token: {login.label}'s reply documents no token field; say where it is")
    return found


def headers(found: list[Endpoint], matched: Mapping[str, Endpoint], notes: list[str]) -> dict[str, Any]:
    """The idempotency header (a header parameter of an idempotent write) and the instance header (a reply
    header most answers carry), or ``from_url``."""
    result: dict[str, Any] = {}
    idempotent = [matched[o] for o in ("activate",) if o in matched]
    header = next((h for e in idempotent for h in e.headers if IDEMPOTENCY_HEADER.search(h)), None)
    if header:
        result["idempotency_header"] = header
    elif "activate" in matched:
        result["idempotency_header"] = None
        notes.append(f"idempotency_header: {matched['activate'].label} takes no idempotency header; "
                     "the idempotency checks will find out what a retry does")
    counts: dict[str, int] = {}
    for endpoint in found:
        for name in endpoint.reply_headers:
            if INSTANCE_HEADER.search(name):
                counts[name] = counts.get(name, 0) + 1
    common = max(counts, key=lambda n: counts[n], default=None)
    result["instance_header"] = common if common and counts[common] * 2 >= len(found) else "from_url"
    return result


def errors(found: list[Endpoint], matched: Mapping[str, Endpoint]) -> dict[str, Any]:
    """Where an error answer has its code and its sentence, and the target's codes in the suite's words."""
    fields = {leaf.path for e in found for leaf in e.error_fields if not leaf.is_list}
    code = next((f for name in ERROR_CODE_FIELDS for f in sorted(fields) if f.split(".")[-1] == name), None)
    message = next((f for name in ERROR_MESSAGE_FIELDS for f in sorted(fields) if f.split(".")[-1] == name), None)
    result: dict[str, Any] = {"error_code": code, "error_message": message}
    mapped = {}
    for (op, status), ours in REFUSALS.items():
        theirs = [c for c in (matched[op].error_codes.get(status, ()) if op in matched else ()) if c not in SUITE_CODES]
        if len(theirs) == 1 and ours not in (matched[op].error_codes.get(status, ())):
            mapped[theirs[0]] = ours
    if mapped:
        result["error_codes"] = mapped
    return result


def identities(ops: Mapping[str, Any]) -> dict[str, Any]:
    """What makes two invoices one: per user and period when the invoice call sends a period."""
    found: dict[str, Any] = {}
    invoice = ops.get("generate_invoice")
    if invoice is not None:
        sends_period = "{period}" in json.dumps([invoice.get("body"), invoice.get("query"), invoice["path"]])
        found["invoice"] = ["user_id", "period"] if sends_period else "per_call"
    if "activate" in ops:
        found["activation"] = ["subscription_id"]
    return found


def instances(doc: Mapping[str, Any], given: str | None, notes: list[str]) -> list[str]:
    """The instances to call: the one the document came from, else the document's loopback servers."""
    servers = [str(s.get("url", "")) for s in doc.get("servers") or [] if isinstance(s, Mapping)]
    for candidates in ([given] if given else [], servers):
        bases = [f"{p.scheme}://{p.netloc}" for p in map(urlsplit, candidates)]
        found = [base for base in dict.fromkeys(bases) if url_problem(base) is None]
        if found:
            return found
    notes.append(f"run: the service is assumed at {DEFAULT_INSTANCE}; list its instances in run.running.instances "
                 "(or run it containerised, see chaos/target/profile.py)")
    return [DEFAULT_INSTANCE]
