"""``python -m chaos.report <run_dir>``: render a stored run again.

``python -m chaos.report --sample <dir> [--calls N] [--clean]``: render a
synthetic run (see ``chaos.report.sample``), to look at the report without a cluster.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from chaos.report.writer import render, write_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos.report", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="a stored run (the folder holding summary.json), or with "
                        "--sample the folder to write the synthetic run into")
    parser.add_argument("--sample", action="store_true", help="render a synthetic run instead")
    parser.add_argument("--calls", type=int, default=600, help="client calls of the synthetic run (default 600)")
    parser.add_argument("--clean", action="store_true", help="the synthetic run without planted anomalies")
    args = parser.parse_args(argv)
    if args.sample:
        from chaos.report.sample import sample_run

        run = sample_run(calls=args.calls, processes=max(4, min(40, args.calls // 50)), anomalies=not args.clean)
        print(write_report(args.run_dir, "sample", [run.scenario()], settings={"api": 5, "workers": 3}))
        return 0
    if not (args.run_dir / "summary.json").is_file():
        parser.error(f"{args.run_dir} holds no summary.json (is it a run folder, reports/<run-id>?)")
    print(render(args.run_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
