"""The draft as YAML in the shipped profiles' style, with its comments.

Rendering is apart from drafting so the draft stays data (tests compare it)
and the comments (notes, unused operations, lacks) are only ever text here.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from chaos.target.openapi.drafting import Draft


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
