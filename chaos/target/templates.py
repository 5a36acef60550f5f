"""Request templates: a path, headers, a query and a JSON body with ``{param}`` placeholders.

A string that is exactly one placeholder (``"{plan_id}"``) becomes the
parameter's value with its type kept, so ``{"quantity": "{quantity}"}``
sends the number 2, not the string "2". A string with text around
placeholders (``"Token {key}"``) is formatted. ``{{`` and ``}}`` are literal
braces. A placeholder whose parameter was left out (an optional parameter
not given) drops its whole entry: the key from a mapping, the header, the
query parameter, so that "no period" means "the target's default period",
as billing's client does it. Only a path cannot drop a piece: its
placeholders must name required parameters, checked when the profile loads.
"""
from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

_WHOLE = re.compile(r"^\{([A-Za-z_]\w*)\}$")
_IDENTIFIER = re.compile(r"^[A-Za-z_]\w*$")
_FORMATTER = string.Formatter()


class _Omit:
    def __repr__(self) -> str:
        return "OMIT"


OMIT: Any = _Omit()


def placeholders(text: str) -> list[str]:
    """The parameters a template string names; ValueError for a malformed one (say which and why)."""
    try:
        parsed = list(_FORMATTER.parse(text))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a template ({exc}); write {{param}}, and {{{{ }}}} for a brace")
    names = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not _IDENTIFIER.match(name) or spec or conversion:
            raise ValueError(f"{text!r}: placeholder {{{name}{'!' + conversion if conversion else ''}"
                             f"{':' + spec if spec else ''}}} must be a bare parameter name like {{user_id}}")
        names.append(name)
    return names


def all_placeholders(template: Any) -> list[str]:
    """Every placeholder in a nested template (strings inside mappings and lists; keys are literal)."""
    if isinstance(template, str):
        return placeholders(template)
    if isinstance(template, Mapping):
        return [name for value in template.values() for name in all_placeholders(value)]
    if isinstance(template, list):
        return [name for value in template for name in all_placeholders(value)]
    return []


def render(template: Any, params: Mapping[str, Any]) -> Any:
    """The template with parameters filled in; ``OMIT`` when a string names a parameter not given."""
    if isinstance(template, str):
        whole = _WHOLE.match(template)
        if whole:
            value = params.get(whole.group(1))
            return OMIT if value is None else value
        names = placeholders(template)
        if any(params.get(name) is None for name in names):
            return OMIT
        return template.format_map({name: params[name] for name in names})
    if isinstance(template, Mapping):
        rendered = {key: render(value, params) for key, value in template.items()}
        return {key: value for key, value in rendered.items() if value is not OMIT}
    if isinstance(template, list):
        return [value for value in (render(item, params) for item in template) if value is not OMIT]
    return template


def render_path(template: str, params: Mapping[str, Any]) -> str:
    """A URL path: every placeholder must have a value, each one quoted as one path segment."""
    names = placeholders(template)
    missing = [name for name in names if params.get(name) is None]
    if missing:
        raise ValueError(f"path {template!r} needs {', '.join(missing)}")
    return template.format_map({name: quote(str(params[name]), safe="") for name in names})
