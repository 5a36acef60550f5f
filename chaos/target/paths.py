"""Where a value is in a reply: a small path language, parsed once when the profile loads.

Grammar (deliberately not JSONPath: a profile author should be able to read
every path at a glance, and a typo should fail at load time, not mid-run)::

    access_token          a key of the JSON body
    data.id               nested keys
    items[0].id           an index into a list
    items[*]              every element of a list (the rest of the path applies to each)
    [*]                   the body is itself a list
    $                     the whole body
    header:X-Request-Id   a response header (case-insensitive)

A path that does not match the reply finds nothing (``MISSING``): a 409 has
no ``invoice_id``, and that is not an error.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

HEADER_PREFIX = "header:"
STAR = "*"
_KEY = r"[^.\[\]\s]+"
_INDEX = r"\[(?:\d+|\*)\]"
_SYNTAX = re.compile(rf"^(?:{_KEY}|{_INDEX})(?:\.{_KEY}|{_INDEX})*$")
_STEP = re.compile(rf"({_KEY})|\[(\d+|\*)\]")
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
HELP = "a path is 'key', 'a.b', 'items[0].id', 'items[*]', '[*]', '$' or 'header:Name'"


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


@dataclass(frozen=True)
class ReplyPath:
    text: str
    source: Literal["body", "header"]
    steps: tuple[str | int, ...]  # keys, indexes, STAR

    @property
    def is_list(self) -> bool:
        return STAR in self.steps

    def find(self, body: Any, headers: Mapping[str, str] | None = None) -> Any:
        if self.source == "header":
            if headers is None:
                return MISSING
            wanted = str(self.steps[0]).lower()
            return next((v for k, v in headers.items() if k.lower() == wanted), MISSING)
        return _walk(body, self.steps)


def parse(text: Any) -> ReplyPath:
    """Raises ValueError (with ``HELP``) for anything but the grammar above."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"must be a non-empty string; {HELP}")
    if text.startswith(HEADER_PREFIX):
        name = text[len(HEADER_PREFIX):]
        if not _HEADER_NAME.match(name):
            raise ValueError(f"{name!r} is not a header name; {HELP}")
        return ReplyPath(text, "header", (name,))
    if text == "$":
        return ReplyPath(text, "body", ())
    if not _SYNTAX.match(text):
        raise ValueError(f"{text!r} is not a path; {HELP}")
    steps: list[str | int] = []
    for key, index in _STEP.findall(text):
        steps.append(key if key else (STAR if index == STAR else int(index)))
    return ReplyPath(text, "body", tuple(steps))


def _walk(node: Any, steps: tuple[str | int, ...]) -> Any:
    for position, step in enumerate(steps):
        if step == STAR:
            if not isinstance(node, list):
                return MISSING
            rest = steps[position + 1:]
            return [found for item in node if (found := _walk(item, rest)) is not MISSING]
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return MISSING
            node = node[step]
        elif isinstance(node, Mapping) and step in node:
            node = node[step]
        else:
            return MISSING
    return node
