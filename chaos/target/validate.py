"""From parsed YAML to a ``TargetProfile``, collecting every problem before raising one ``ProfileError``.

Each problem names the file, the dotted field (``operations.activate.path``,
``lacks[2]``, ``run.running.instances[0]``) and what is wrong together with
what is allowed, so a profile author fixes a whole file in one pass. The
schema itself is documented in ``chaos.target.profile``.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from chaos.target import paths, statuses, templates, validate_judging, validate_run
from chaos.target.errors import ProfileError
from chaos.target.model import Auth, Extract, OperationMap, TargetProfile
from chaos.target.operations import NAMES, OPERATIONS, REQUIRED, OperationSpec
from chaos.target.problems import ABSENT, HEADER, Problems, kind, suggest

TOP_KEYS = ("name", "description", "auth", "idempotency_header", "instance_header", "error_code", "error_codes",
            "error_message", "error_patterns", "statuses", "outages", "identities", "setup", "credentials", "reset",
            "operations", "lacks", "admin", "run")
FROM_URL = "from_url"
AUTH_KEYS = ("header", "scheme", "token")
OPERATION_KEYS = ("method", "path", "headers", "query", "body", "extract", "statuses")
EXTRACT_KEYS = ("path", "fields")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def build(raw: Any, source: Path | None, file: str) -> TargetProfile:
    """Raises ``ProfileError`` listing every problem of ``raw`` (the parsed YAML of ``file``)."""
    problems = Problems(file)
    top = problems.mapping(raw, "", TOP_KEYS)
    if top is None:
        raise ProfileError(problems.found)
    name = problems.text(top, "name", "", pattern=NAME, what="a name of lower-case letters, digits, '-', '_', '.'")
    description = top.get("description") or ""
    if not isinstance(description, str):
        problems.add("description", f"must be a string, not {kind(description)}")
        description = ""
    auth = _auth(problems, top.get("auth", {}))
    idempotency_header = problems.text(top, "idempotency_header", "", default=None, nullable=True, pattern=HEADER,
                                       what="a header name")
    instance_from_url = top.get("instance_header") == FROM_URL
    instance_header = None if instance_from_url else problems.text(
        top, "instance_header", "", default=None, nullable=True, pattern=HEADER,
        what="a header name, or from_url (the instance is the URL called)")
    error_code = _path(problems, top.get("error_code", "error"), "error_code", nullable=True)
    error_message = _path(problems, top.get("error_message", "message"), "error_message", nullable=True)
    error_codes = _error_codes(problems, top.get("error_codes") or {})
    base_statuses = _statuses(problems, top["statuses"], "statuses") if "statuses" in top else None
    operations, mentioned = _operations(problems, top.get("operations", ABSENT))
    lacks = _lacks(problems, top.get("lacks", []), mentioned)
    run = validate_run.run(problems, top.get("run", ABSENT), source)
    admin = validate_run.admin(problems, top["admin"], run, mentioned) if top.get("admin") is not None else None
    _cross_checks(problems, auth, operations, mentioned)
    judging = dict(identities=validate_judging.identities(problems, top.get("identities")),
                   error_patterns=validate_judging.error_patterns(problems, top.get("error_patterns")),
                   setup=validate_judging.setup(problems, top.get("setup"), mentioned),
                   credentials=validate_judging.credentials(problems, top.get("credentials")),
                   reset_command=validate_judging.reset_command(problems, top.get("reset")),
                   outages=validate_judging.outages(problems, top.get("outages")))
    if problems.found:
        raise ProfileError(problems.found)
    assert name is not None and run is not None
    return TargetProfile(name=name, source=source, operations=operations, run=run, description=description,
                         auth=auth, idempotency_header=idempotency_header, instance_header=instance_header,
                         error_code=error_code, error_codes=error_codes, statuses=base_statuses,
                         declared_lacks=lacks, admin=admin, error_message=error_message,
                         instance_from_url=instance_from_url, **judging)


# parts of the profile

def _auth(problems: Problems, node: Any) -> Auth:
    known = problems.mapping(node, "auth", AUTH_KEYS)
    if known is None:
        return Auth()
    header = problems.text(known, "header", "auth", default="Authorization", pattern=HEADER, what="a header name")
    scheme = problems.text(known, "scheme", "auth", default="Bearer", nullable=True, pattern=HEADER,
                           what="an auth scheme such as Bearer or Token")
    token = _path(problems, known["token"], "auth.token") if "token" in known else None
    return Auth(header or "Authorization", scheme, token)


def _path(problems: Problems, node: Any, field: str, nullable: bool = False) -> paths.ReplyPath | None:
    if node is None and nullable:
        return None
    try:
        return paths.parse(node)
    except ValueError as exc:
        problems.add(field, str(exc))
        return None


def _error_codes(problems: Problems, node: Any) -> dict[str, str]:
    if not isinstance(node, Mapping):
        problems.add("error_codes", f"must map the target's error codes to the suite's, not {kind(node)}")
        return {}
    found = {}
    for code, ours in node.items():
        if not isinstance(ours, str) or not ours.strip():
            problems.add(f"error_codes.{code}", f"must be the suite's error code (e.g. invoice_exists, "
                         f"lock_timeout, sold_out), not {kind(ours)}")
        else:
            found[str(code)] = ours
    return found


def _statuses(problems: Problems, node: Any, field: str) -> statuses.Statuses | None:
    known = problems.mapping(node, field, statuses.OUTCOMES)
    if known is None:
        return None
    ranges: dict[str, tuple[statuses.Range, ...]] = {}
    for outcome, entries in known.items():
        entries = entries if isinstance(entries, list) else [entries]
        parsed = []
        for i, entry in enumerate(entries):
            try:
                parsed.append(statuses.parse_entry(entry))
            except ValueError as exc:
                problems.add(f"{field}.{outcome}[{i}]", str(exc))
        ranges[outcome] = tuple(parsed)
    result = statuses.Statuses(**ranges)
    for overlap in result.overlaps():
        problems.add(field, f"{overlap}; a status means one outcome")
    return result


def _operations(problems: Problems, node: Any) -> tuple[dict[str, OperationMap], frozenset[str]]:
    """The well-formed mappings, and every known name the file maps (well-formed or not), so that a
    bad mapping of health is reported once, not also as "health is required"."""
    if node is ABSENT:
        problems.add("operations", "required: a mapping from operation name to its request and reply")
        return {}, frozenset()
    if not isinstance(node, Mapping):
        problems.add("operations", f"must be a mapping from operation name to its request, not {kind(node)}")
        return {}, frozenset()
    operations = {}
    for name, entry in node.items():
        field = f"operations.{name}"
        if name not in NAMES:
            problems.add(field, f"unknown operation{suggest(str(name), NAMES)}; the operations are "
                         f"{', '.join(sorted(NAMES))}")
            continue
        mapped = _operation(problems, OPERATIONS[name], entry, field)
        if mapped is not None:
            operations[name] = mapped
    return operations, frozenset(name for name in node if name in NAMES)


def _operation(problems: Problems, spec: OperationSpec, node: Any, field: str) -> OperationMap | None:
    known = problems.mapping(node, field, OPERATION_KEYS)
    if known is None:
        return None
    before = len(problems.found)
    method = problems.text(known, "method", field, what=f"one of {', '.join(METHODS)}")
    if method is not None and method.upper() not in METHODS:
        problems.add(f"{field}.method", f"{method!r} is not a method; allowed: {', '.join(METHODS)}")
    path = problems.text(known, "path", field, what="a path template starting with '/', e.g. /users/{user_id}")
    if path is not None:
        if not path.startswith("/"):
            problems.add(f"{field}.path", f"{path!r} must start with '/' (the instance URL comes from run)")
        _check_template(problems, spec, path, f"{field}.path", in_path=True)
    headers = known.get("headers") or {}
    if not isinstance(headers, Mapping):
        problems.add(f"{field}.headers", f"must be a mapping of header name to value, not {kind(headers)}")
        headers = {}
    for header, value in headers.items():
        if not isinstance(header, str) or not HEADER.match(header):
            problems.add(f"{field}.headers.{header}", "is not a header name")
        elif not isinstance(value, (str, int, float)) or isinstance(value, bool):
            problems.add(f"{field}.headers.{header}", f"must be a string template, not {kind(value)}")
        else:
            _check_template(problems, spec, str(value), f"{field}.headers.{header}")
    query = known.get("query") or {}
    if not isinstance(query, Mapping):
        problems.add(f"{field}.query", f"must be a mapping of query parameter to value, not {kind(query)}")
        query = {}
    for key, value in query.items():
        if isinstance(value, (Mapping, list)):
            problems.add(f"{field}.query.{key}", "must be a single value or a string template")
        elif isinstance(value, str):
            _check_template(problems, spec, value, f"{field}.query.{key}")
    body = known.get("body")
    if body is not None and method is not None and method.upper() == "GET":
        problems.add(f"{field}.body", "a GET sends no body; put the parameters in path or query")
    for where, text in _strings(body, f"{field}.body"):
        _check_template(problems, spec, text, where)
    extract = _extract(problems, spec, known.get("extract") or {}, f"{field}.extract")
    op_statuses = _statuses(problems, known["statuses"], f"{field}.statuses") if "statuses" in known else None
    if len(problems.found) > before or method is None or path is None:
        return None
    return OperationMap(spec.name, method.upper(), path, {str(k): str(v) for k, v in headers.items()},
                        dict(query), body, extract, op_statuses)


def _check_template(problems: Problems, spec: OperationSpec, text: str, field: str, in_path: bool = False) -> None:
    try:
        names = templates.placeholders(text)
    except ValueError as exc:
        problems.add(field, str(exc))
        return
    params = ", ".join(spec.param_names) or "none"
    for name in names:
        param = spec.param(name)
        if param is None:
            problems.add(field, f"placeholder {{{name}}} is not a parameter of {spec.name}"
                         f"{suggest(name, spec.param_names)}; its parameters: {params}")
        elif in_path and not param.required:
            problems.add(field, f"placeholder {{{name}}} is optional for {spec.name}, and a path needs a value on "
                         "every call; put it in query or body")


def _strings(node: Any, field: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        yield field, node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield from _strings(value, f"{field}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _strings(value, f"{field}[{i}]")


def _extract(problems: Problems, spec: OperationSpec, node: Any, field: str) -> dict[str, Extract]:
    if not isinstance(node, Mapping):
        problems.add(field, f"must be a mapping of value name to reply path, not {kind(node)}")
        return {}
    names = tuple(v.name for v in spec.values)
    found = {}
    for name, entry in node.items():
        where = f"{field}.{name}"
        value = spec.value(str(name))
        if value is None:
            problems.add(where, f"{spec.name}'s reply has no value {name!r}{suggest(str(name), names)}; "
                         f"its values: {', '.join(names)}")
            continue
        raw_fields: Any = {}
        path_field = where
        if isinstance(entry, Mapping):
            known = problems.mapping(entry, where, EXTRACT_KEYS)
            if known is None:
                continue
            if "path" not in known:
                problems.add(f"{where}.path", "required: where the value is in the reply")
                continue
            entry, raw_fields, path_field = known["path"], known.get("fields") or {}, f"{where}.path"
        path = _path(problems, entry, path_field)
        if path is None:
            continue
        if value.kind == "list" and not path.is_list:
            problems.add(where, f"{name} is a list: its path needs [*] (e.g. 'items[*]', or '[*]' for a list body)")
        if value.kind != "list" and path.is_list:
            problems.add(where, f"{name} is one value; [*] would make it a list")
        item_fields: dict[str, paths.ReplyPath] = {}
        if raw_fields:
            if value.kind != "list" or not value.fields:
                problems.add(f"{where}.fields", f"only lists of objects have fields; {name} is not one")
            elif not isinstance(raw_fields, Mapping):
                problems.add(f"{where}.fields",
                             f"must map normalised names to paths in an item, not {kind(raw_fields)}")
            else:
                for item_name, item_path in raw_fields.items():
                    if item_name not in value.fields:
                        problems.add(f"{where}.fields.{item_name}", f"not a field of {name}"
                                     f"{suggest(str(item_name), value.fields)}; allowed: {', '.join(value.fields)}")
                    elif (parsed := _path(problems, item_path, f"{where}.fields.{item_name}")) is not None:
                        if parsed.source == "header" or parsed.is_list:
                            problems.add(f"{where}.fields.{item_name}", "must be a path inside one item "
                                         "(no header:, no [*])")
                        else:
                            item_fields[str(item_name)] = parsed
        found[str(name)] = Extract(str(name), path, item_fields)
    return found


def _lacks(problems: Problems, node: Any, mapped: frozenset[str]) -> frozenset[str]:
    if node is None:
        return frozenset()
    if not isinstance(node, list):
        problems.add("lacks", f"must be a list of operation names, not {kind(node)}")
        return frozenset()
    lacked: set[str] = set()
    for i, name in enumerate(node):
        where = f"lacks[{i}]"
        if not isinstance(name, str) or name not in NAMES:
            problems.add(where, f"unknown operation {name!r}{suggest(str(name), NAMES)}; the operations are "
                         f"{', '.join(sorted(NAMES))}")
            continue
        if name in mapped:
            problems.add(where, f"{name} is both mapped (operations.{name}) and lacked; keep one")
        elif name in REQUIRED:
            problems.add(where, f"{name} cannot be lacked: every target must offer {', '.join(sorted(REQUIRED))}")
        elif name in lacked:
            problems.add(where, f"{name} is listed twice")
        lacked.add(name)
    return frozenset(lacked)


def _cross_checks(problems: Problems, auth: Auth, operations: Mapping[str, OperationMap],
                  mapped: frozenset[str]) -> None:
    for name in sorted(REQUIRED - mapped):
        spec = OPERATIONS[name]
        problems.add(f"operations.{name}", f"required: every target must map {name} ({spec.doc})")
    for name in ("login", "admin_login"):
        if name in operations and auth.token is None and "token" not in operations[name].extract:
            problems.add("auth.token", f"{name} is mapped but nothing says where its reply has the token; set "
                         f"auth.token (e.g. access_token) or operations.{name}.extract.token")


