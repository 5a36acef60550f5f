"""Other targets through their profiles, end to end: each in its own pytest session, as the detection matrix.

(a) The test service (tests/target_service), already running: two instances
on free loopback ports sharing one database, a copy of its profile pointing
at them. The suite must report its duplicate invoices and its ignored
idempotency keys as anomalies (also through a fault on its client link: an
answer cut after commit, then a retry), and skip what it lacks, naming it;
the run report says so too.
(b) billing/ already running: the compose stack of tests/stack (free ports),
a copy of billing's profile whose instances are its api URLs. The portable
scenarios pass; those needing containers are skipped with the reason.

(a) needs no Docker (the test service and our fault proxy are Python); it
is marked docker with (b) because it is a whole-suite run, minutes not seconds.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
import yaml

from chaos.target import DEFAULT_PROFILE, load_profile
from tests.target_service import PROFILE as SERVICE_PROFILE

pytestmark = [pytest.mark.chaos, pytest.mark.docker]
ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 20.0

DUPLICATES = "scenarios/test_invoices.py::test_10_concurrent_generates_over_instances_make_one_invoice"
KEY_REUSE = "scenarios/test_idempotency.py::test_same_key_with_other_params_is_rejected"
ASYNC = "scenarios/test_async_invoices.py::test_20_async_invoices_spread_over_workers"
RESET_AFTER_COMMIT = ("scenarios/test_idempotency.py::"
                      "test_a_reset_after_commit_then_a_retry_elsewhere_returns_the_first_outcome")
# billing's scenarios that need nothing but client links (and billing's test endpoints)
PORTABLE = [DUPLICATES, KEY_REUSE,
            "scenarios/test_invoices.py::test_a_slow_holder_makes_the_others_time_out",
            "scenarios/test_idempotency.py::test_same_key_concurrently_on_every_instance_activates_once",
            RESET_AFTER_COMMIT,
            "scenarios/test_capacity.py::test_50_users_for_a_5_place_slot",
            "scenarios/test_scale_and_database.py::test_each_instance_keeps_its_own_pool_under_100_concurrent_requests"]
CONTAINER_ONLY = {  # scenario -> the fault its skip reason must name
    "scenarios/test_invoices.py::test_a_lock_holder_paused_past_expiry_is_stopped_by_the_database": "pause",
    "scenarios/test_invoices.py::test_an_instance_cut_off_from_redis_fails_closed": "redis_link",
    "scenarios/test_capacity.py::test_100_buyers_for_10_tickets_with_latency_on_api_to_postgres": "postgres_link",
    ASYNC: "workers",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def service_instances(db: Path, count: int = 2, module: str = "tests.target_service.app", name: str = "svc",
                      health: str = "/v2/ping", extra: tuple[str, ...] = ()) -> Iterator[list[str]]:
    """``count`` processes of a test service (``module``) sharing ``db``; their URLs once each answers."""
    ports = [free_port() for _ in range(count)]
    processes = [subprocess.Popen([sys.executable, "-m", module, "--port", str(port), "--db", str(db),
                                   "--name", f"{name}-{i + 1}", *extra], cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                 for i, port in enumerate(ports)]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, process in zip(urls, processes):
            wait_answering(url + health, process)
        yield urls
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)


def wait_answering(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the instance exited: {process.stderr.read().decode()[-500:]}")  # type: ignore[union-attr]
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {START_TIMEOUT_S:.0f} s")


def running_profile(source: Path, urls: list[str], tmp_path: Path) -> Path:
    """A copy of ``source`` whose target is already running at ``urls`` (run.running.instances)."""
    raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    raw["run"] = {"running": {"instances": urls}}
    path = tmp_path / source.name
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    load_profile(path)  # a broken copy fails here, not as a puzzling session
    return path


def suite(profile: Path, scenarios: list[str], report_dir: Path) -> tuple[int, str]:
    run = subprocess.run([sys.executable, "-m", "pytest", *scenarios, f"--chaos-target={profile}", "-rs", "-v",
                          f"--chaos-report-dir={report_dir}", "-p", "no:cacheprovider"],
                         cwd=ROOT, capture_output=True, text=True, timeout=900)
    return run.returncode, run.stdout + run.stderr


def test_the_test_service_is_caught_and_its_gaps_are_named(tmp_path: Path) -> None:
    with service_instances(tmp_path / "service.db") as urls:
        profile = running_profile(SERVICE_PROFILE, urls, tmp_path)
        code, output = suite(profile, [DUPLICATES, KEY_REUSE, RESET_AFTER_COMMIT, ASYNC], tmp_path / "reports")
    assert code == 1, output[-4000:]
    assert "Anomaly(kind='duplicate'" in output, output[-4000:]
    assert "Anomaly(kind='reuse_accepted'" in output, output[-4000:]  # it ignores X-Request-Id
    assert f"{ASYNC} SKIPPED" in output and "lacks operation generate_invoice_async" in output, output[-4000:]
    assert "3 failed, 1 skipped" in output, output[-2000:]
    reported = {s["name"]: s for s in json.loads(next((tmp_path / "reports").glob("*/summary.json")).read_text())
                ["scenarios"]}
    assert "duplicate" in reported[DUPLICATES]["anomalies"]
    assert "reuse_accepted" in reported[KEY_REUSE]["anomalies"]
    assert "double_activation" in reported[RESET_AFTER_COMMIT]["anomalies"]  # the retry after a lost answer
    assert reported[ASYNC]["outcome"] == "skipped" and reported[ASYNC]["note"].startswith(
        "not checked: target 'test-service' lacks operation generate_invoice_async")
    assert_rechecked_alike(next((tmp_path / "reports").glob("*/summary.json")).parent)


def assert_rechecked_alike(run_dir: Path) -> None:
    """The stored run judged again offline from its files alone gives every checker the stored verdict."""
    from chaos.report.recheck import compare

    rows = compare(run_dir)
    for row in rows:
        assert "not re-checkable" not in row.again.reason, row.line()
        assert row.same, row.line()
    assert len(rows) >= 6, f"only {len(rows)} results were judged again"


def test_billing_already_running_passes_the_portable_scenarios_and_skips_the_rest(tmp_path: Path) -> None:
    from chaos.compose import ComposeStack
    from chaos.provision.pipeline import provision

    provision()
    stack = ComposeStack.with_free_ports(f"billing-chaos-running-{os.getpid()}")
    stack.down()
    try:
        stack.up(api=3, workers=2)
        billing = load_profile(DEFAULT_PROFILE).source
        assert billing is not None
        profile = running_profile(billing, list(stack.api_urls().values()), tmp_path)
        code, output = suite(profile, [*PORTABLE, *CONTAINER_ONLY], tmp_path / "reports")
    finally:
        stack.down()
    assert code == 0, output[-4000:]
    assert f"{len(PORTABLE)} passed, {len(CONTAINER_ONLY)} skipped" in output, output[-3000:]
    for scenario, fault in CONTAINER_ONLY.items():
        assert f"{scenario} SKIPPED" in output, output[-3000:]
        assert f"cannot have fault {fault}: the target is already running" in output, output[-3000:]
