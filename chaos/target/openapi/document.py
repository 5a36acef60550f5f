"""Reading an OpenAPI 3 document and following its references.

The only I/O of ``chaos target init --from-openapi`` is here (``load_document``
reads a file or fetches a URL); the rest of the package works on the parsed
mapping, so every later step is a pure function a unit test can feed a small
document of its own.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from chaos.errors import ChaosError

METHODS = ("get", "post", "put", "patch", "delete")


class DocumentError(ChaosError, ValueError):
    """The source is not a readable OpenAPI 3 document (the message is the whole story)."""


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
    """The document in ``text`` (JSON, else YAML), refused with one sentence naming ``source`` when it is
    not OpenAPI 3 with paths: the drafter would otherwise match nothing and say nothing useful."""
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
            structured = [b for b in branches if schema_types(b) & {"object", "array"}]
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


def schema_types(schema: Any) -> set[str]:
    if not isinstance(schema, Mapping):
        return set()
    kind = schema.get("type")
    found = set(kind) if isinstance(kind, list) else {kind} if kind else set()
    if not found and "properties" in schema:
        found.add("object")
    if not found and "items" in schema:
        found.add("array")
    return found
