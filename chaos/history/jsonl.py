"""A history on disk: one JSON object per line, read back equal to what was written.

JSONL rather than one JSON document so that a history can be read (or
tailed) line by line, and a run killed half-way still leaves every line it
wrote readable.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from chaos.history.op import Op


def dumps(op: Op) -> str:
    return json.dumps(op.to_json(), sort_keys=True, separators=(",", ":"))


def write_jsonl(ops: Iterable[Op], path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        out.writelines(dumps(op) + "\n" for op in ops)


def read_jsonl(path: Path) -> list[Op]:
    with Path(path).open(encoding="utf-8") as lines:
        return [Op.from_json(json.loads(line)) for line in lines if line.strip()]
