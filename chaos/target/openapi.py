"""Drafting a target profile from a service's OpenAPI 3 document (``chaos target init --from-openapi``).

A team with an OpenAPI document should start from a draft, not from nothing.
Each of the suite's operations (``chaos.target.operations``) is looked for
among the document's operations by method, by the words of the path and the
operationId (singular, so ``/bills`` and ``bill`` are one word), by the number
of path parameters and by the request's fields; the best-scoring pairs win,
one document operation per suite operation (``admin_login`` shares login's).
Request fields, path placeholders and reply paths are then renamed into the
suite's words by name (``secret`` fills ``password``, ``bill_no`` is an
``invoice_id``). What is not found is left as ``lacks`` with a comment saying
what was looked for; what the draft could not decide is a "check by hand"
comment at the top. The draft is a start: `chaos target check` says what works.

Everything here is a pure function of the parsed document, except
``load_document``, which reads a file or a URL.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from chaos.target.loopback import url_problem
from chaos.target.operations import OPERATIONS, REQUIRED, OperationSpec, spec

METHODS = ("get", "post", "put", "patch", "delete")
SUITE_CODES = frozenset({"invoice_exists", "lock_timeout", "lock_lost", "sold_out", "slot_full",
                         "idempotency_mismatch", "idempotency_in_flight"})
DEFAULT_INSTANCE = "http://127.0.0.1:8000"


class DocumentError(ValueError):
    """The source is not a readable OpenAPI 3 document (the message is the whole story)."""


# reading the document

def load_document(source: str, timeout_s: float = 10.0) -> dict[str, Any]:
    """An OpenAPI 3 document from a file or an http(s) URL, JSON or YAML."""
    if source.startswith(("http://", "https://")):
        import requests

        try:
            response = requests.get(source, timeout=timeout_s)
            response.raise_for_status()
        except requests.RequestException as exc:
            raise DocumentError(f"{source}: could not fetch the document ({type(exc).__name__}: {exc})") from None
        text = response.text
    else:
        path = Path(source)
        if not path.is_file():
            raise DocumentError(f"{source}: no such file")
        text = path.read_text(encoding="utf-8", errors="replace")
    return parse_document(text, source)


def parse_document(text: str, source: str = "<document>") -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except ValueError:
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise DocumentError(f"{source}: neither JSON nor YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(doc, dict):
        raise DocumentError(f"{source}: not an OpenAPI document (the top level is not a mapping)")
    version = str(doc.get("openapi", ""))
    if not version.startswith("3."):
        found = f"swagger {doc['swagger']}" if "swagger" in doc else f"openapi {version or 'missing'}"
        raise DocumentError(f"{source}: an OpenAPI 3.x document is needed, this one says {found}")
    if not isinstance(doc.get("paths"), dict) or not doc["paths"]:
        raise DocumentError(f"{source}: the document has no paths")
    return doc


def operations(doc: Mapping[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, operation object) for every operation of the document."""
    for path, item in doc.get("paths", {}).items():
        for method in METHODS:
            if isinstance(item, Mapping) and isinstance(item.get(method), Mapping):
                yield method.upper(), path, item[method]


def resolve(doc: Mapping[str, Any], node: Any, depth: int = 0) -> Any:
    """``node`` with local ``$ref``s followed and ``allOf`` merged, ``anyOf``/``oneOf`` by their first
    object or array branch; raises DocumentError for a reference that leads nowhere."""
    if depth > 20 or not isinstance(node, Mapping):
        return node
    if "$ref" in node:
        base = resolve(doc, _pointer(doc, node["$ref"]), depth + 1)
        extra = {k: v for k, v in node.items() if k != "$ref"}
        merged = {**base, **extra}
        if isinstance(base.get("properties"), Mapping) and isinstance(extra.get("properties"), Mapping):
            # 3.1 allows keywords beside $ref: each narrows the referenced schema's property, not replaces it
            merged["properties"] = {**base["properties"], **{
                name: {**resolve(doc, base["properties"].get(name, {}), depth + 1), **resolve(doc, prop, depth + 1)}
                for name, prop in extra["properties"].items()}}
        return merged
    if "allOf" in node:
        merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
        for part in node["allOf"]:
            part = resolve(doc, part, depth + 1)
            merged["properties"] = {**merged.get("properties", {}), **part.get("properties", {})}
            merged.setdefault("type", part.get("type"))
        return merged
    for key in ("oneOf", "anyOf"):
        if key in node and "properties" not in node:
            branches = [resolve(doc, b, depth + 1) for b in node[key]]
            structured = [b for b in branches if _types(b) & {"object", "array"}]
            if structured:
                return structured[0]
    return node


def _pointer(doc: Mapping[str, Any], ref: str) -> Any:
    if not isinstance(ref, str) or not ref.startswith("#/"):
        raise DocumentError(f"only references inside the document are followed, not {ref!r}")
    node: Any = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, Mapping) or part not in node:
            raise DocumentError(f"the reference {ref!r} leads nowhere")
        node = node[part]
    return node


def _types(schema: Any) -> set[str]:
    if not isinstance(schema, Mapping):
        return set()
    kind = schema.get("type")
    found = set(kind) if isinstance(kind, list) else {kind} if kind else set()
    if not found and "properties" in schema:
        found.add("object")
    if not found and "items" in schema:
        found.add("array")
    return found


# the document's operations, as the matcher sees them

@dataclass(frozen=True)
class Leaf:
    """A value in a reply: its reply path (``account.id``, ``bills[*]``) and, for a list, its items' fields."""

    path: str
    name: str
    is_list: bool = False
    item_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    operation_id: str
    words: frozenset[str]
    path_params: tuple[str, ...]
    query: tuple[str, ...]
    headers: tuple[str, ...]
    body: tuple[str, ...]
    body_required: tuple[str, ...]
    reply: tuple[Leaf, ...]
    reply_headers: tuple[str, ...]
    secured: bool
    error_fields: tuple[Leaf, ...] = ()
    error_codes: Mapping[int, tuple[str, ...]] = field(default_factory=dict)  # status -> enumerated codes
    statuses: tuple[int, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}" + (f" ({self.operation_id})" if self.operation_id else "")


def words(*texts: str) -> frozenset[str]:
    """The singular, lower-case words of paths and names: ``/api/tariff_plans`` -> {api, tariff, plan}."""
    found = set()
    for text in texts:
        text = re.sub(r"\{[^}]*\}", " ", text)
        text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
        for word in re.split(r"[^A-Za-z0-9]+", text.lower()):
            if word:
                found.add(singular(word))
    return frozenset(found)


def singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us")) and len(word) > 3:
        return word[:-1]
    return word


def endpoints(doc: Mapping[str, Any]) -> list[Endpoint]:
    found = []
    secured_by_default = bool(doc.get("security"))
    for method, path, op in operations(doc):
        params = [resolve(doc, p) for p in op.get("parameters", [])]
        params += [resolve(doc, p) for p in doc["paths"][path].get("parameters", [])
                   if resolve(doc, p).get("name") not in {q.get("name") for q in params}]
        by_place = {place: tuple(p["name"] for p in params if p.get("in") == place and "name" in p)
                    for place in ("query", "header")}
        body_schema = _json_schema(doc, op.get("requestBody"))
        success = sorted(s for s in op.get("responses", {}) if str(s).startswith("2"))
        reply, reply_headers = (), ()
        if success:
            response = resolve(doc, op["responses"][success[0]])
            reply = tuple(leaves(doc, _json_schema(doc, response)))
            reply_headers = tuple(response.get("headers", {}))
        errors = {int(s): _json_schema(doc, resolve(doc, r)) for s, r in op.get("responses", {}).items()
                  if re.fullmatch(r"[45]\d\d", str(s))}
        error_leaves = {leaf.path: leaf for schema in errors.values() for leaf in leaves(doc, schema)}
        found.append(Endpoint(
            method=method, path=path, operation_id=str(op.get("operationId", "")),
            words=words(path, str(op.get("operationId", ""))), path_params=tuple(re.findall(r"{([^}]+)}", path)),
            query=by_place["query"], headers=by_place["header"],
            body=tuple(body_schema.get("properties", {})), body_required=tuple(body_schema.get("required", [])),
            reply=reply, reply_headers=reply_headers,
            secured=bool(op["security"]) if "security" in op else secured_by_default,
            error_fields=tuple(error_leaves.values()),
            error_codes={status: _enumerated_codes(doc, schema) for status, schema in errors.items()},
            statuses=tuple(int(s) for s in op.get("responses", {}) if str(s).isdigit())))
    return found


def _json_schema(doc: Mapping[str, Any], holder: Any) -> dict[str, Any]:
    """The resolved JSON schema of a request body or a response (any JSON media type)."""
    holder = resolve(doc, holder) if holder else {}
    content = holder.get("content", {}) if isinstance(holder, Mapping) else {}
    for media, entry in content.items():
        if "json" in media and isinstance(entry, Mapping):
            schema = resolve(doc, entry.get("schema", {}))
            return schema if isinstance(schema, dict) else {}
    return {}


def leaves(doc: Mapping[str, Any], schema: Any, prefix: str = "", depth: int = 0) -> Iterator[Leaf]:
    """Every named value of a reply schema, two objects deep; lists as ``name[*]`` with their items' fields."""
    schema = resolve(doc, schema)
    if "array" in _types(schema) and not prefix:
        yield _list_leaf(doc, "[*]", "", schema)
        return
    for name, raw in (schema.get("properties") or {}).items():
        prop = resolve(doc, raw)
        path = f"{prefix}{name}"
        if isinstance(raw, Mapping) and ("anyOf" in raw or "oneOf" in raw):
            yield Leaf(path, name)  # one of several shapes (a result, or null): the value as a whole
        elif "array" in _types(prop):
            yield _list_leaf(doc, f"{path}[*]", name, prop)
        elif "object" in _types(prop) and prop.get("properties") and depth < 2:
            yield from leaves(doc, prop, f"{path}.", depth + 1)
        else:
            yield Leaf(path, name)


def _list_leaf(doc: Mapping[str, Any], path: str, name: str, schema: Mapping[str, Any]) -> Leaf:
    items = resolve(doc, schema.get("items", {}))
    return Leaf(path, name, True, tuple((items.get("properties") or {}) if isinstance(items, Mapping) else ()))


def _enumerated_codes(doc: Mapping[str, Any], schema: Mapping[str, Any]) -> tuple[str, ...]:
    for name in ERROR_CODE_FIELDS:
        prop = resolve(doc, (schema.get("properties") or {}).get(name, {}))
        if isinstance(prop, Mapping) and isinstance(prop.get("enum"), list):
            return tuple(str(c) for c in prop["enum"])
        if isinstance(prop, Mapping) and "const" in prop:
            return (str(prop["const"]),)
    return ()


# matching the suite's operations

@dataclass(frozen=True)
class Rule:
    """How a suite operation is recognised: its method, words of which one must appear (``words``; and
    one of ``also``, when given), none of ``avoid``, its path parameter, and request fields that count."""

    method: str
    words: frozenset[str]
    path_param: str | None = None
    fields: tuple[str, ...] = ()
    needs_fields: bool = False
    also: frozenset[str] = frozenset()
    avoid: frozenset[str] = frozenset()


def _rule(method: str, words_: str, path_param: str | None = None, fields: str = "", needs_fields: bool = False,
          also: str = "", avoid: str = "") -> Rule:
    return Rule(method, frozenset(words_.split()), path_param, tuple(fields.split()), needs_fields,
                frozenset(also.split()), frozenset(avoid.split()))


INVOICE_WORDS = "invoice bill charge billing"
RULES: Mapping[str, Rule] = {
    "register": _rule("POST", "register signup account user customer member", fields="email password",
                      needs_fields=True, avoid="login session signin token bulk test"),
    "login": _rule("POST", "login session signin token auth", fields="email password", needs_fields=True,
                   avoid="register signup refresh logout"),
    "profile": _rule("GET", "me profile self whoami current"),
    "list_plans": _rule("GET", "plan tariff catalogue catalog product price pricing"),
    "list_subscriptions": _rule("GET", "subscription order"),
    "subscribe": _rule("POST", "subscription subscribe order checkout", fields="plan_id payment_method",
                       avoid="activate pay"),
    "activate": _rule("POST", "activate pay confirm payment capture", "subscription_id"),
    "generate_invoice": _rule("POST", INVOICE_WORDS, "user_id", fields="period",
                              avoid="async slow test task job queue"),
    "generate_invoice_async": _rule("POST", INVOICE_WORDS, "user_id", also="async queue job task background"),
    "slow_invoice": _rule("POST", INVOICE_WORDS, "user_id", also="slow"),
    "task_status": _rule("GET", "task job", "task_id"),
    "list_invoices": _rule("GET", INVOICE_WORDS, "user_id"),
    "create_event": _rule("POST", "event", fields="capacity", avoid="lock"),
    "event": _rule("GET", "event", "event_id", avoid="lock"),
    "purchase_ticket": _rule("POST", "ticket purchase", fields="event_id quantity"),
    "create_slot": _rule("POST", "slot", fields="capacity"),
    "slot": _rule("GET", "slot", "slot_id"),
    "book_slot": _rule("POST", "booking book reservation reserve", fields="slot_id"),
    "pool_metrics": _rule("GET", "pool metric", also="pool"),
    "health": _rule("GET", "health healthz ping ready readiness liveness live status up"),
    "reset": _rule("POST", "reset flush clear truncate"),
    "bulk_users": _rule("POST", "bulk user", fields="count", needs_fields=True),
    "lock_events": _rule("GET", "lock", also="lock"),
}
# the target's names for the suite's: request fields, path parameters and reply values
SYNONYMS: Mapping[str, tuple[str, ...]] = {
    "email": ("login", "username", "user_name", "mail", "user"),
    "password": ("secret", "pass", "passphrase", "pwd"),
    "name": ("label", "title", "display_name", "full_name"),
    "plan_id": ("tariff_plan_id", "plan", "plan_code", "code", "price_id", "product_id"),
    "payment_method": ("method", "payment", "pay_with"),
    "period": ("month", "billing_period", "billing_month"),
    "event_id": ("event",),
    "quantity": ("qty", "count", "tickets", "seats"),
    "slot_id": ("slot",),
    "capacity": ("seats", "size", "places", "limit"),
    "count": ("n", "number", "how_many"),
    "user_id": ("customer_id", "customer", "account_id", "account", "user", "uid"),
    "subscription_id": ("order_id", "order", "subscription"),
    "invoice_id": ("bill_no", "bill_id", "invoice_no", "invoice_number", "bill", "invoice", "number"),
    "amount": ("total", "price", "sum"),
    "status": ("state", "up", "healthy", "ok"),
    "state": ("status",),
    "task_id": ("job_id", "task", "job"),
    "token": ("access_token", "jwt", "id_token", "session_token", "session"),
    "is_admin": ("admin", "root", "superuser", "is_staff", "staff"),
    "instance": ("served_by", "hostname", "host", "node", "server"),
    "price": ("monthly", "amount", "cost"),
    "plans": ("items", "data", "results", "plan", "catalogue"),
    "invoices": ("bills", "charges", "items", "data", "results"),
    "subscriptions": ("orders", "items", "data", "results"),
    "replayed": ("idempotent-replayed", "idempotency-replayed", "replayed"),
}
# the reply value an answer's bare ``id`` is, per operation (its first created or read thing)
PRIMARY = {"register": "user_id", "login": "user_id", "admin_login": "user_id", "profile": "user_id",
           "subscribe": "subscription_id", "activate": "subscription_id", "generate_invoice": "invoice_id",
           "slow_invoice": "invoice_id", "generate_invoice_async": "task_id", "task_status": "task_id",
           "create_event": "event_id", "event": "event_id", "purchase_ticket": "ticket_id",
           "create_slot": "slot_id", "slot": "slot_id", "book_slot": "booking_id"}
REFUSALS = {("generate_invoice", 409): "invoice_exists", ("slow_invoice", 409): "invoice_exists",
            ("purchase_ticket", 409): "sold_out", ("book_slot", 409): "slot_full",
            ("activate", 422): "idempotency_mismatch"}
ERROR_CODE_FIELDS = ("error", "code", "problem", "error_code", "type")
ERROR_MESSAGE_FIELDS = ("message", "detail", "title", "description", "msg", "error_description")
IDEMPOTENCY_HEADER = re.compile(r"idempot|request-id|dedup", re.I)
INSTANCE_HEADER = re.compile(r"instance|served|host|node|server", re.I)


def score(rule: Rule, endpoint: Endpoint) -> int:
    """How well ``endpoint`` looks like the operation; 0: not at all."""
    if endpoint.method != rule.method or len(endpoint.path_params) != (1 if rule.path_param else 0):
        return 0
    if endpoint.words & rule.avoid or (rule.also and not endpoint.words & rule.also):
        return 0
    hits = len(endpoint.words & rule.words)
    fields = sum(1 for name in rule.fields if best_name(name, endpoint.body) is not None)
    if (rule.needs_fields and not fields) or not (hits or fields):
        return 0
    return 3 * hits + 2 * fields


def match(found: list[Endpoint]) -> dict[str, Endpoint]:
    """The suite operation -> the document operation that serves it; each document operation serves one
    suite operation (admin_login shares login's, see ``draft``). Best scores are assigned first."""
    candidates = sorted(((score(rule, e), name, i) for name, rule in RULES.items() for i, e in enumerate(found)),
                        key=lambda c: (-c[0], c[1], c[2]))
    matched: dict[str, Endpoint] = {}
    used: set[int] = set()
    for points, name, index in candidates:
        if points and name not in matched and index not in used:
            matched[name] = found[index]
            used.add(index)
    return matched


def best_name(ours: str, theirs: tuple[str, ...] | list[str], primary: bool = False) -> str | None:
    """The target's name among ``theirs`` for the suite's ``ours``: the same name, a synonym (in order),
    a name ending in ``_<ours>`` (``tariff_plan_id``), or a bare ``id`` for the operation's primary value."""
    lowered = {t.lower(): t for t in theirs}
    if ours in lowered:
        return lowered[ours]
    for synonym in SYNONYMS.get(ours, ()):
        if synonym in lowered:
            return lowered[synonym]
    for low, original in lowered.items():
        if low.endswith(f"_{ours}"):
            return original
    if primary and "id" in lowered:
        return lowered["id"]
    return None


# the draft

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
        leaf = _best_leaf(value.name, candidates, value.name == primary)
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


def _best_leaf(name: str, candidates: list[Leaf], primary: bool) -> Leaf | None:
    """The shallowest leaf whose name is the best match for ``name``."""
    for depth in range(4):
        level = [leaf for leaf in candidates if leaf.path.count(".") == depth]
        chosen = best_name(name, [leaf.name for leaf in level], primary)
        if chosen is not None:
            return next(leaf for leaf in level if leaf.name == chosen)
    return None


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
    token = _best_leaf("token", [leaf for leaf in login.reply if not leaf.is_list], False) if login else None
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


def profile_name(doc: Mapping[str, Any], default: str = "my-service") -> str:
    """A profile name from the document's title: lower-case letters, digits, '-', '_', '.'."""
    title = str((doc.get("info") or {}).get("title") or "")
    name = re.sub(r"[^a-z0-9_.-]+", "-", title.lower()).strip("-._")
    return name or default


def render(result: Draft, source: str) -> str:
    """The draft as YAML in the shipped profiles' style, with its comments."""
    lines = [f"# Drafted by `chaos target init --from-openapi {source}`.",
             "# Schema: chaos/target/profile.py. Try it: chaos target check <this file>."]
    if result.notes:
        lines.append("# Check by hand:")
        lines += [f"#   - {note}" for note in result.notes]
    body = {k: v for k, v in result.profile.items()}
    run = body.pop("run")
    admin = body.pop("admin", None)
    lines.append(_dump(body))
    if result.unused:
        lines.append("# In the document, and no operation of the suite:")
        lines += [f"#   {label}" for label in result.unused]
    if result.lacks:
        lines.append("lacks:                           # not found in the document; map any of them by hand")
        lines += [f"  - {name}  # {why}" for name, why in result.lacks.items()]
    else:
        lines.append("lacks: []")
    if admin is not None:
        lines.append(_dump({"admin": admin}))
    lines.append(_dump({"run": run}))
    return "\n".join(line.rstrip("\n") for line in lines) + "\n"


def _dump(data: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(data), sort_keys=False, default_flow_style=None, width=110, allow_unicode=True)
