"""``python -m chaos.report <run_dir>``: render a stored run again."""
from __future__ import annotations

import sys
from pathlib import Path

from chaos.report.writer import render


def main() -> int:
    if len(sys.argv) != 2 or not (Path(sys.argv[1]) / "summary.json").is_file():
        print("usage: python -m chaos.report <run_dir>  (a folder holding summary.json)", file=sys.stderr)
        return 2
    print(render(Path(sys.argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
