"""The suite is trusted only if it catches every unsafe variant: the detection matrix.

For each ``BILLING_UNSAFE`` variant, the smallest scenario that catches it is
run in its own pytest session against a cluster started with that variant;
it must fail, and fail with the anomaly the variant causes (not with a broken
cluster). The safe build passes the same scenarios in the ordinary
``scenarios/`` run. Detection rates measured while building this matrix are
in the README.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from billing.unsafe import VARIANTS

pytestmark = [pytest.mark.chaos, pytest.mark.docker]
ROOT = Path(__file__).resolve().parents[1]

# variant -> (the smallest scenario that catches it, the anomaly it must report)
MATRIX = {
    "check_then_insert": ("scenarios/test_invoices.py::test_duplicate_invoice_storm_with_latency_on_api_to_redis",
                          "duplicate"),
    "lock_only": ("scenarios/test_invoices.py::test_a_lock_holder_paused_past_expiry_is_stopped_by_the_database",
                  "stale_write_accepted"),
    "idempotency_local": ("scenarios/test_idempotency.py::test_same_key_with_other_params_is_rejected",
                          "reuse_not_rejected"),
    "idempotency_no_inflight": ("scenarios/test_idempotency.py::"
                                "test_same_key_concurrently_on_every_instance_activates_once", "replay_mismatch"),
    "oversell": ("scenarios/test_capacity.py::test_50_users_for_a_5_place_slot", "oversell"),
    "acks_early": ("scenarios/test_async_invoices.py::test_a_worker_killed_mid_task_loses_and_doubles_nothing",
                   "lost"),
    "task_not_idempotent": ("scenarios/test_async_invoices.py::"
                            "test_a_worker_killed_mid_task_loses_and_doubles_nothing", "duplicate"),
}


def test_every_variant_has_a_scenario_that_catches_it() -> None:
    assert set(MATRIX) == set(VARIANTS)


@pytest.mark.parametrize("variant", sorted(MATRIX))
def test_the_variant_is_caught_with_its_anomaly(variant: str, tmp_path: Path) -> None:
    scenario, anomaly = MATRIX[variant]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", scenario, f"--chaos-unsafe={variant}", "--chaos-api=3", "--chaos-workers=3",
         f"--chaos-report-dir={tmp_path}", "-p", "no:cacheprovider", "-q", "-x"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    output = run.stdout + run.stderr
    assert run.returncode == 1, f"{variant} was not caught by {scenario}:\n{output[-3000:]}"
    assert f"Anomaly(kind='{anomaly}'" in output, f"{variant} failed, but not with {anomaly!r}:\n{output[-3000:]}"
