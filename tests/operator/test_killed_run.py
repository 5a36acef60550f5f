"""A chaos run killed with SIGKILL mid-run leaves its cluster behind; the next run removes it and passes.

SIGKILL runs no finaliser, so the only defence is the owner label: every
container and network carries ``<host>:<pid>`` of the process that made it,
and a run starts by reaping those whose owner is gone.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import docker
import pytest

from chaos.cluster.controller import OWNER_LABEL, PROJECT_LABEL

pytestmark = [pytest.mark.docker, pytest.mark.chaos]
ROOT = Path(__file__).resolve().parents[2]
SCENARIO = "scenarios/test_invoices.py::test_10_concurrent_generates_over_instances_make_one_invoice"
START_S = 300


def chaos_run(report_dir: Path) -> list[str]:
    return [sys.executable, "-m", "pytest", SCENARIO, "-m", "chaos", "--chaos-api", "2", "--chaos-workers", "1",
            "--chaos-report-dir", str(report_dir), "-p", "no:cacheprovider", "-q"]


def owned_by(engine: docker.DockerClient, pid: int) -> tuple[list, list]:
    label = f"{OWNER_LABEL}={socket.gethostname()}:{pid}"
    return (engine.containers.list(all=True, filters={"label": [PROJECT_LABEL, label]}),
            engine.networks.list(filters={"label": [PROJECT_LABEL, label]}))


def test_a_run_killed_mid_run_is_cleaned_up_by_the_next_which_passes(tmp_path: Path) -> None:
    engine = docker.from_env()
    killed = subprocess.Popen(chaos_run(tmp_path), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + START_S
        while len(owned_by(engine, killed.pid)[0]) < 5:  # postgres, redis, toxiproxy and the first instances
            assert killed.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "the run started no cluster"
            time.sleep(0.5)
        time.sleep(3)  # mid-start: some containers created, others not yet
    finally:
        os.killpg(killed.pid, signal.SIGKILL)
        killed.wait(30)
    left_containers, left_networks = owned_by(engine, killed.pid)
    assert left_containers and left_networks, "SIGKILL left nothing: this test proves nothing"

    again = subprocess.run(chaos_run(tmp_path), cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-2000:]
    assert owned_by(engine, killed.pid) == ([], []), "the killed run's containers or network are still there"
    assert "billing-chaos report:" in again.stdout
