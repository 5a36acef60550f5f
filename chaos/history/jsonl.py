"""A history on disk: one JSON object per line, read back exactly."""
from __future__ import annotations

import json
from pathlib import Path

from chaos.history.op import Op


def write_jsonl(ops: list[Op], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as out:
        for op in ops:
            out.write(json.dumps(op.to_json(), sort_keys=True) + "\n")


def read_jsonl(path: Path) -> list[Op]:
    with path.open() as lines:
        return [Op.from_json(json.loads(line)) for line in lines if line.strip()]
