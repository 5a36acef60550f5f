"""The draft: a profile as data, its operations' requests and reply paths, and what it lacks.

``draft`` puts the pieces together: the matched operations, each renamed into
the suite's words (request fields, path placeholders, reply paths), the other
sections (``sections``), and for each operation not found a ``lacks`` reason
saying what was looked for, so the team knows where to map it by hand.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chaos.target.openapi.endpoint import Endpoint, best_leaf, endpoints
from chaos.target.openapi.matching import RULES, match
from chaos.target.openapi.names import PRIMARY, best_name
from chaos.target.openapi.sections import auth, errors, headers, identities, instances
from chaos.target.operations import OPERATIONS, REQUIRED, OperationSpec, spec


@dataclass
class Draft:
    """A profile as data, and the comments its YAML carries."""

    profile: dict[str, Any]
    lacks: dict[str, str]                                  # operation -> why it was not found
    unused: list[str] = field(default_factory=list)        # document operations no suite operation uses
    notes: list[str] = field(default_factory=list)         # what to check or add by hand


def draft(doc: Mapping[str, Any], name: str, *, instance_url: str | None = None,
          admin: tuple[str, str] | None = None) -> Draft:
    """A profile named ``name`` for the service ``doc`` describes, running at ``instance_url``."""
    found = endpoints(doc)
    matched = match(found)
    notes: list[str] = []
    ops: dict[str, Any] = {}
    for op_name in OPERATIONS:
        endpoint = matched.get("login" if op_name == "admin_login" else op_name)
        if endpoint is None:
            continue
        ops[op_name] = operation_entry(spec(op_name), endpoint, notes)
    if "admin_login" in ops and not any(OPERATIONS[o].as_admin for o in ops):
        del ops["admin_login"]
    profile: dict[str, Any] = {"name": name}
    title = (doc.get("info") or {}).get("title")
    profile["description"] = f"Drafted from the OpenAPI document of {title or 'the service'}; check it by hand."
    profile["auth"] = auth(doc, matched, notes)
    profile.update(headers(found, matched, notes))
    profile.update(errors(found, matched))
    profile["identities"] = identities(ops)
    if any(503 in e.statuses for e in found):
        profile["outages"] = [503]
    profile["operations"] = ops
    admins = [o for o in ops if OPERATIONS[o].as_admin]
    if admins and "admin_login" in ops:
        email, password = admin or ("admin@example.test", "change-me")
        if admin is None:
            notes.append(f"admin.login: the administrator's real email and password ({', '.join(admins)} are "
                         "admin calls); or --admin-email/--admin-password")
        profile["admin"] = {"login": {"email": email, "password": password}}
    elif admins:
        notes.append(f"admin: {', '.join(admins)} are admin calls and no login was found; give admin.command")
    profile["run"] = {"running": {"instances": instances(doc, instance_url, notes)}}
    for missing in sorted(REQUIRED - set(ops)):
        notes.append(f"operations.{missing}: required, and nothing in the document looks like it "
                     f"({spec(missing).doc}); map it by hand")
    lacks = {o: why_lacked(o) for o in OPERATIONS if o not in ops and o not in REQUIRED}
    used = {id(e) for e in matched.values()}
    unused = [e.label for e in found if id(e) not in used]
    return Draft(profile, lacks, unused, notes)


def operation_entry(op: OperationSpec, endpoint: Endpoint, notes: list[str]) -> dict[str, Any]:
    rule = RULES["login" if op.name == "admin_login" else op.name]
    path = endpoint.path
    if rule.path_param:
        path = path.replace(f"{{{endpoint.path_params[0]}}}", f"{{{rule.path_param}}}")
    entry: dict[str, Any] = {"method": endpoint.method, "path": path}
    sendable = [p for p in op.params if p.name not in {rule.path_param, "key"}]
    query = {q: f"{{{p.name}}}" for p in sendable if (q := best_name(p.name, endpoint.query)) is not None}
    filled = {q.strip("{}") for q in query.values()}
    body = {b: f"{{{p.name}}}" for p in sendable
            if p.name not in filled and (b := best_name(p.name, endpoint.body)) is not None}
    if query:
        entry["query"] = query
    if body:
        entry["body"] = dict(sorted(body.items(), key=lambda kv: endpoint.body.index(kv[0])))
    unfilled = [b for b in endpoint.body_required if b not in body]
    if unfilled:
        notes.append(f"operations.{op.name}.body: {endpoint.label} requires {', '.join(unfilled)}, which no "
                     f"parameter of {op.name} fills; add a fixed value")
    extract = reply_paths(op, endpoint)
    if extract:
        entry["extract"] = extract
    return entry


def reply_paths(op: OperationSpec, endpoint: Endpoint) -> dict[str, Any]:
    """The operation's values found in the document's 2xx reply (login's token goes to auth.token)."""
    extract: dict[str, Any] = {}
    taken: set[str] = set()
    primary = PRIMARY.get(op.name)
    for value in op.values:
        if value.name == "token" and op.name in ("login", "admin_login"):
            continue
        if value.kind == "flag":
            header = best_name(value.name, endpoint.reply_headers) or next(
                (h for h in endpoint.reply_headers if value.name in h.lower()), None)
            if header:
                extract[value.name] = f"header:{header}"
            continue
        candidates = [leaf for leaf in endpoint.reply if leaf.is_list == (value.kind == "list")
                      and leaf.path not in taken]
        leaf = best_leaf(value.name, candidates, value.name == primary)
        if leaf is None and value.kind == "list" and len(candidates) == 1:
            leaf = candidates[0]  # the reply's only list is the one asked for
        if leaf is None:
            continue
        taken.add(leaf.path)
        renamed = {f: theirs for f in value.fields
                   if (theirs := best_name(f, list(leaf.item_fields), f == value.fields[0])) is not None
                   and theirs != f}
        extract[value.name] = {"path": leaf.path, "fields": renamed} if renamed else leaf.path
    return extract


def why_lacked(name: str) -> str:
    op = spec(name)
    if name == "admin_login":
        return "the administrator logs in through login's route; no login found, or no admin call mapped"
    rule = RULES[name]
    hook = "a test hook: add it by hand if the service has one; " if op.test_only else ""
    params = "one path parameter" if rule.path_param else "no path parameter"
    also = f" and {' / '.join(sorted(rule.also))}" if rule.also - rule.words else ""
    return (f"{hook}no {rule.method} with {params} whose path or operationId says "
            f"{' / '.join(sorted(rule.words))}{also} ({op.doc})")
