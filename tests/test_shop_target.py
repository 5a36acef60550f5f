"""A service nobody here wrote, judged honestly: the shop (tests/shop_service), end to end.

Two instances share one SQLite file behind the suite's fault proxy, driven
through the shop's own profile (UUID ids, invoices per subscription with no
period, 201s, refusals as sentences, no instance header, a password policy,
a login rate limit). The default build has exactly these bugs: its
Idempotency-Key is check-then-insert and fingerprints nothing (parallel pays
with one key pay once each, a key reused with other parameters pays again), and its admin invoice is check-then-insert (parallel
calls duplicate). The suite must report exactly those, each with witness
operations, and nothing else; the correct build must be valid everywhere,
1000 invoices for 1000 users included. Whole pytest sessions, as the
detection matrix: minutes, not seconds (no Docker needed).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.shop_service import PROFILE as SHOP_PROFILE
from tests.test_targets import ROOT, running_profile, service_instances

pytestmark = [pytest.mark.chaos, pytest.mark.docker]

DUPLICATES = "scenarios/test_invoices.py::test_10_concurrent_generates_over_instances_make_one_invoice"
SAME_KEY = "scenarios/test_idempotency.py::test_same_key_concurrently_on_every_instance_activates_once"
KEY_REUSE = "scenarios/test_idempotency.py::test_same_key_with_other_params_is_rejected"
RESET_AFTER_COMMIT = ("scenarios/test_idempotency.py::"
                      "test_a_reset_after_commit_then_a_retry_elsewhere_returns_the_first_outcome")
STRESS = "scenarios/test_scale_and_database.py::test_1000_invoice_stress"
SLOT = "scenarios/test_capacity.py::test_50_users_for_a_5_place_slot"
BUGS = {DUPLICATES: "duplicate", SAME_KEY: "double_activation", KEY_REUSE: "reuse_accepted"}
SAFE = [RESET_AFTER_COMMIT]  # its stored record replays a retry after a lost answer: no new invoice


def shop(db: Path, variant: str):
    """Two shop instances sharing ``db`` (``--variant correct`` for the safe build)."""
    extra = ("--variant", variant) if variant != "default" else ()
    return service_instances(db, module="tests.shop_service.app", name="shop", health="/health", extra=extra)


def run_suite(tmp_path: Path, variant: str, scenarios: list[str]) -> tuple[int, str, dict[str, dict]]:
    db = tmp_path / "shop.db"
    with shop(db, variant) as urls:
        profile = running_profile(SHOP_PROFILE, urls, tmp_path)
        report_dir = tmp_path / "reports"
        run = subprocess.run([sys.executable, "-m", "pytest", *scenarios, f"--chaos-target={profile}", "-rs", "-v",
                              f"--chaos-report-dir={report_dir}", "-p", "no:cacheprovider"], cwd=ROOT,
                             capture_output=True, text=True, timeout=900, env={**os.environ, "SHOP_DB": str(db)})
    summary = json.loads(next(report_dir.glob("*/summary.json")).read_text())
    return run.returncode, run.stdout + run.stderr, {s["name"]: s for s in summary["scenarios"]}


def test_the_shop_is_caught_exactly_where_it_is_unsafe(tmp_path: Path) -> None:
    code, output, reported = run_suite(tmp_path, "default", [*BUGS, *SAFE, SLOT])
    assert code == 1, output[-4000:]
    for scenario, anomaly in BUGS.items():
        assert reported[scenario]["outcome"] == "failed", (scenario, output[-4000:])
        kinds = reported[scenario]["anomalies"]
        assert anomaly in kinds, (scenario, kinds, output[-4000:])
        assert set(kinds) <= {"duplicate", "double_activation", "reuse_accepted", "replay_mismatch"}, (
            f"{scenario}: an anomaly that is not one of the shop's bugs: {kinds}")
    for scenario in SAFE:
        assert reported[scenario]["outcome"] == "passed" and reported[scenario]["valid"] is True, (
            scenario, reported[scenario], output[-4000:])
    assert reported[SLOT]["outcome"] == "skipped" and "lacks operation" in reported[SLOT]["note"]
    crashes = [s["error"] for s in reported.values() if s.get("error")
               and not str(s["error"].get("message", "")).startswith("AssertionError")]
    assert not crashes, f"a scenario crashed instead of being judged: {crashes}"


def test_the_correct_shop_is_valid_with_evidence_and_1000_invoices(tmp_path: Path) -> None:
    code, output, reported = run_suite(tmp_path, "correct", [*BUGS, *SAFE, STRESS])
    assert code == 0, output[-4000:]
    for scenario in [*BUGS, *SAFE, STRESS]:
        assert reported[scenario]["outcome"] == "passed", (scenario, output[-3000:])
        assert reported[scenario]["valid"] is True, (scenario, reported[scenario])
