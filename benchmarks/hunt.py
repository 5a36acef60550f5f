"""How fast a hunt finds and shrinks each unsafe variant, and how fast its checkers judge, side by side.

    .venv/bin/python benchmarks/hunt.py [--variants all|v1,v2] [--budget 240] [--seed 1] [--safe]

For each variant, one hunt session (``scenarios/test_hunt.py`` with
``--chaos-hunt-first``, a cluster of 3 api + 2 workers started with that
variant) runs until its first anomaly is shrunk; ``--safe`` adds the safe
build for the whole budget. Printed per row: what it found, the time to the
first anomaly, the try's size and the shrunk one, the shrink's tries and
seconds, and operations judged per second (the checkers' time in each try).
The table goes in the README; the raw hunt reports stay in the folder shown.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from billing.unsafe import VARIANTS  # noqa: E402


def hunt(variant: str, budget_s: float, seed: int, folder: Path) -> dict[str, Any]:
    """One hunt session on ``variant`` ("" for the safe build); its hunt report, and the session's seconds."""
    out = folder / (variant or "safe")
    started = time.monotonic()
    args = [sys.executable, "-m", "pytest", "scenarios/test_hunt.py", "--chaos-api=3", "--chaos-workers=2",
            f"--chaos-hunt-budget={budget_s}", f"--chaos-seed={seed}", f"--chaos-report-dir={out}",
            "-p", "no:cacheprovider", "-q"]
    args += [f"--chaos-unsafe={variant}", "--chaos-hunt-first"] if variant else []
    run = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=budget_s * 3 + 900)
    found = sorted(out.glob("*/hunt/hunt.json"))
    report = json.loads(found[-1].read_text()) if found else {"tries": [], "found": [], "evidence": {}}
    report["session_s"] = time.monotonic() - started
    report["returncode"] = run.returncode
    return report


def row(variant: str, report: dict[str, Any]) -> list[str]:
    tries = report["tries"]
    judged = sum(t["operations"] for t in tries)
    judge_s = sum(t.get("judge_s", 0.0) for t in tries)
    rate = f"{judged / judge_s:,.0f}" if judge_s else "-"
    if not report["found"]:
        reached = sum(1 for n in report["evidence"].values() if n)
        return [variant or "safe", "none", "-", f"{judged} ops, {len(tries)} tries", "-", "-",
                f"{reached}/{len(report['evidence'])} situations", rate]
    first = report["found"][0]
    shrunk = first.get("shrunk") or {}
    return [variant or "safe", first["anomaly"], f"{first['after_s']:.0f} s", f"{first['operations']} ops, {first['faults']} faults",
            f"{shrunk.get('operations', '?')} ops, {shrunk.get('faults', '?')} faults",
            f"{shrunk.get('tries', 0)} tries, {shrunk.get('seconds', 0):.0f} s", shrunk.get("stopped", ""), rate]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default="all", help="all, or a comma-separated list")
    parser.add_argument("--budget", type=float, default=240.0, help="seconds per hunt (shrink included)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--safe", action="store_true", help="also hunt the safe build for the whole budget")
    args = parser.parse_args()
    variants = sorted(VARIANTS) if args.variants == "all" else [v for v in args.variants.split(",") if v]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        sys.exit(f"unknown variant(s) {unknown}; known: {', '.join(VARIANTS)}")
    folder = Path(tempfile.mkdtemp(prefix="hunt-bench-"))
    print(f"hunt benchmark: seed {args.seed}, budget {args.budget:.0f} s per hunt; reports in {folder}", flush=True)
    header = ["variant", "first anomaly", "time to it", "the try", "shrunk to", "shrink", "shrink stopped",
              "ops judged/s"]
    print("| " + " | ".join(header) + " |\n|" + "---|" * len(header), flush=True)
    for variant in ([""] if args.safe else []) + variants:
        print("| " + " | ".join(row(variant, hunt(variant, args.budget, args.seed, folder))) + " |", flush=True)


if __name__ == "__main__":
    main()
