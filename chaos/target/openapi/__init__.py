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

Modules, in the order a draft is made: ``document`` (read the file or URL,
follow ``$ref``s; the only I/O), ``endpoint`` (each operation flattened into
what the matcher compares), ``names`` (the suite's words in a target's:
synonyms, error and header fields), ``matching`` (the rules and the scoring),
``sections`` (auth, headers, errors, identities, instances), ``drafting``
(the profile as data) and ``rendering`` (the YAML with its comments).
Callers import from here: ``from chaos.target import openapi``.
"""
from __future__ import annotations

from chaos.target.openapi.document import (METHODS, DocumentError, load_document, operations, parse_document,
                                           resolve, schema_types)
from chaos.target.openapi.drafting import Draft, draft, operation_entry, reply_paths, why_lacked
from chaos.target.openapi.endpoint import Endpoint, Leaf, best_leaf, endpoints, leaves, singular, words
from chaos.target.openapi.matching import INVOICE_WORDS, RULES, Rule, match, score
from chaos.target.openapi.names import (ERROR_CODE_FIELDS, ERROR_MESSAGE_FIELDS, IDEMPOTENCY_HEADER,
                                        INSTANCE_HEADER, PRIMARY, REFUSALS, SUITE_CODES, SYNONYMS, best_name)
from chaos.target.openapi.rendering import profile_name, render
from chaos.target.openapi.sections import DEFAULT_INSTANCE, auth, errors, headers, identities, instances

__all__ = [
    "DEFAULT_INSTANCE", "ERROR_CODE_FIELDS", "ERROR_MESSAGE_FIELDS", "IDEMPOTENCY_HEADER", "INSTANCE_HEADER",
    "INVOICE_WORDS", "METHODS", "PRIMARY", "REFUSALS", "RULES", "SUITE_CODES", "SYNONYMS",
    "DocumentError", "Draft", "Endpoint", "Leaf", "Rule",
    "auth", "best_leaf", "best_name", "draft", "endpoints", "errors", "headers", "identities", "instances",
    "leaves", "load_document", "match", "operation_entry", "operations", "parse_document", "profile_name",
    "render", "reply_paths", "resolve", "schema_types", "score", "singular", "why_lacked", "words",
]
