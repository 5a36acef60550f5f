"""Collecting a profile's problems: each with its dotted field, and what is allowed there.

Validation never stops at the first problem; every part of the profile is
read as far as it can be, so one run of ``load_profile`` names them all.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from chaos.target.errors import Problem

ABSENT: Any = object()  # a key not given (None is a key given as null)
HEADER = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


class Problems:
    """The problems found so far in one file."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.found: list[Problem] = []

    def add(self, field: str, message: str) -> None:
        self.found.append(Problem(self.file, field, message))

    def mapping(self, node: Any, field: str, allowed: tuple[str, ...]) -> dict[str, Any] | None:
        """``node`` as a mapping with only ``allowed`` keys (unknown ones reported and dropped)."""
        if not isinstance(node, Mapping):
            self.add(field, f"must be a mapping with keys {', '.join(allowed)}, not {kind(node)}")
            return None
        known = {}
        for key, value in node.items():
            if key in allowed:
                known[key] = value
            else:
                self.add(join(field, str(key)), f"unknown key{suggest(str(key), allowed)}; allowed: "
                         f"{', '.join(allowed)}")
        return known

    def text(self, node: dict[str, Any], key: str, field: str, *, default: Any = ABSENT,
             nullable: bool = False, pattern: re.Pattern[str] | None = None, what: str = "a string") -> Any:
        value = node.get(key, default)
        where = join(field, key)
        if value is ABSENT:
            self.add(where, f"required: {what}")
            return None
        if value is None and nullable:
            return None
        if not isinstance(value, str) or not value.strip():
            self.add(where, f"must be {what}{' or null' if nullable else ''}, not {kind(value)}")
            return None
        if pattern is not None and not pattern.match(value):
            self.add(where, f"{value!r} is not {what}")
            return None
        return value


def join(field: str, key: str) -> str:
    return f"{field}.{key}" if field else key


def kind(value: Any) -> str:
    return "nothing" if value is None else f"{type(value).__name__} {value!r}"[:80]


def suggest(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
