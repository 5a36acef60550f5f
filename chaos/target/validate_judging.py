"""The profile keys that let the suite judge a service in its own terms, validated.

``identities`` (what makes two invoices one), ``error_message`` and
``error_patterns`` (a service that refuses in sentences, not codes),
``setup`` (per-run values such as a plan id), ``credentials`` (a password
that meets the target's policy), ``reset`` (clearing data by command) and
``outages`` (the answers a target may give while a dependency is down).
Like the rest of validation, every problem is collected with its field.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from chaos.target import paths
from chaos.target.model import IDENTITY_KINDS, Credentials, ErrorPattern, Identity, SetupValue
from chaos.target.operations import INVOICE_FIELDS, NAMES, OPERATIONS
from chaos.target.problems import Problems, kind, suggest
from chaos.target.statuses import parse_entry

PER_CALL = "per_call"


def identities(problems: Problems, node: Any) -> dict[str, Identity]:
    if node is None:
        return {}
    known = problems.mapping(node, "identities", IDENTITY_KINDS)
    if known is None:
        return {}
    found: dict[str, Identity] = {}
    for name, entry in known.items():
        where = f"identities.{name}"
        if entry == PER_CALL and name == "invoice":
            found[name] = PER_CALL
            continue
        if not isinstance(entry, list) or not entry or not all(isinstance(f, str) for f in entry):
            also = " or per_call" if name == "invoice" else ""
            problems.add(where, f"must be a list of invoice fields (e.g. [user_id, period]){also}, not {kind(entry)}")
            continue
        bad = [f for f in entry if f not in INVOICE_FIELDS]
        for field_name in bad:
            problems.add(where, f"{field_name!r} is not an invoice field{suggest(field_name, INVOICE_FIELDS)}; "
                         f"invoice fields: {', '.join(INVOICE_FIELDS)}")
        if not bad:
            found[name] = tuple(entry)
    return found


def error_patterns(problems: Problems, node: Any) -> tuple[ErrorPattern, ...]:
    if node is None:
        return ()
    if not isinstance(node, Mapping):
        problems.add("error_patterns", f"must map message patterns to the suite's error codes, not {kind(node)}")
        return ()
    found = []
    for pattern, code in node.items():
        where = f"error_patterns.{pattern}"
        if not isinstance(code, str) or not code.strip():
            problems.add(where, f"must be the suite's error code (e.g. invoice_exists, sold_out), not {kind(code)}")
            continue
        try:
            found.append(ErrorPattern(re.compile(str(pattern), re.IGNORECASE), code))
        except re.error as exc:
            problems.add(where, f"is not a regular expression: {exc}")
    return tuple(found)


def setup(problems: Problems, node: Any, mapped: frozenset[str]) -> dict[str, SetupValue]:
    if node is None:
        return {}
    if not isinstance(node, Mapping):
        problems.add("setup", f"must map a parameter name to {{operation, value}}, not {kind(node)}")
        return {}
    found = {}
    for name, entry in node.items():
        where = f"setup.{name}"
        known = problems.mapping(entry, where, ("operation", "value"))
        if known is None:
            continue
        operation = known.get("operation")
        if operation not in NAMES:
            problems.add(f"{where}.operation", f"unknown operation {operation!r}{suggest(str(operation), NAMES)}")
            continue
        if operation not in mapped:
            problems.add(f"{where}.operation", f"{operation} is not mapped in operations")
            continue
        if OPERATIONS[operation].write:
            problems.add(f"{where}.operation", f"{operation} is a write; set-up values come from reads")
            continue
        try:
            path = paths.parse(known.get("value"))
        except ValueError as exc:
            problems.add(f"{where}.value", str(exc))
            continue
        found[str(name)] = SetupValue(str(name), operation, path)
    return found


def credentials(problems: Problems, node: Any) -> Credentials:
    if node is None:
        return Credentials()
    known = problems.mapping(node, "credentials", ("password",))
    if known is None:
        return Credentials()
    password = known.get("password", Credentials.password)
    if not isinstance(password, str) or "{n}" not in password:
        problems.add("credentials.password", "must be a password template with {n} (a unique number), e.g. "
                     f"'Chaos-{{n}}-Passw0rd', not {kind(password)}")
        return Credentials()
    return Credentials(password)


def reset_command(problems: Problems, node: Any) -> tuple[str, ...] | None:
    if node is None:
        return None
    known = problems.mapping(node, "reset", ("command",))
    if known is None:
        return None
    command = known.get("command")
    if not isinstance(command, list) or not command or not all(isinstance(a, (str, int)) for a in command):
        problems.add("reset.command", f"must be a command as a list of arguments, not {kind(command)}")
        return None
    return tuple(str(a) for a in command)


def outages(problems: Problems, node: Any) -> tuple[str, ...]:
    if node is None:
        return ("5xx",)
    entries = node if isinstance(node, list) else [node]
    found = []
    for i, entry in enumerate(entries):
        try:
            parse_entry(entry)
        except ValueError as exc:
            problems.add(f"outages[{i}]", str(exc))
            continue
        found.append(str(entry))
    return tuple(found)
