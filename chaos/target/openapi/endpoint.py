"""The document's operations as the matcher sees them: method, path words, fields and reply paths.

Each OpenAPI operation is flattened once into an ``Endpoint`` (references
resolved, request fields and reply leaves listed), so matching and drafting
compare plain tuples and never walk the schema again.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from chaos.target.openapi.document import operations, resolve, schema_types
from chaos.target.openapi.names import ERROR_CODE_FIELDS, best_name


@dataclass(frozen=True)
class Leaf:
    """A value in a reply: its reply path (``account.id``, ``bills[*]``) and, for a list, its items' fields."""

    path: str
    name: str
    is_list: bool = False
    item_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Endpoint:
    """One operation of the document, flattened: what the matcher scores and the drafter copies."""

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
    """``word`` without a plural ending, so ``/bills`` and ``bill`` are one word to the matcher."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us")) and len(word) > 3:
        return word[:-1]
    return word


def endpoints(doc: Mapping[str, Any]) -> list[Endpoint]:
    """Every operation of ``doc`` flattened into an ``Endpoint``, path-level parameters included."""
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
    if "array" in schema_types(schema) and not prefix:
        yield _list_leaf(doc, "[*]", "", schema)
        return
    for name, raw in (schema.get("properties") or {}).items():
        prop = resolve(doc, raw)
        path = f"{prefix}{name}"
        if isinstance(raw, Mapping) and ("anyOf" in raw or "oneOf" in raw):
            yield Leaf(path, name)  # one of several shapes (a result, or null): the value as a whole
        elif "array" in schema_types(prop):
            yield _list_leaf(doc, f"{path}[*]", name, prop)
        elif "object" in schema_types(prop) and prop.get("properties") and depth < 2:
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


def best_leaf(name: str, candidates: list[Leaf], primary: bool) -> Leaf | None:
    """The shallowest leaf whose name is the best match for ``name``."""
    for depth in range(4):
        level = [leaf for leaf in candidates if leaf.path.count(".") == depth]
        chosen = best_name(name, [leaf.name for leaf in level], primary)
        if chosen is not None:
            return next(leaf for leaf in level if leaf.name == chosen)
    return None
