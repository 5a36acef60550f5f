"""The operator's side, driven as an operator drives it: the `chaos` command in a subprocess.

Every command here acts on a stack owned by this pytest process
(``CHAOS_STACK_OWNER=<host>:<pid>``), never on a stack a person started with
`chaos up`, and a killed test run's stack is reaped by the next run.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHAOS = str(Path(sys.executable).with_name("chaos"))
OWNER = f"{socket.gethostname()}:{os.getpid()}"

Chaos = Callable[..., subprocess.CompletedProcess]


def environment(**extra: str) -> dict[str, str]:
    return {**os.environ, "CHAOS_STACK_OWNER": OWNER, "COLUMNS": "200", "NO_COLOR": "1", **extra}


@pytest.fixture(scope="session")
def chaos() -> Chaos:
    """Run `chaos <args>` as a person would; returns the finished process (text output)."""
    def run(*args: str, timeout_s: float = 600, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([CHAOS, *args], cwd=ROOT, env=environment(**env), capture_output=True, text=True,
                              timeout=timeout_s, stdin=subprocess.DEVNULL)
    return run


@pytest.fixture(scope="session")
def cli_stack(chaos: Chaos) -> Iterator[str]:
    """A small stack started with `chaos up` (2 api, 1 worker), removed with `chaos down`; yields up's output."""
    up = chaos("up", "--api", "2", "--workers", "1")
    try:
        assert up.returncode == 0, up.stderr + up.stdout
        yield up.stdout
    finally:
        down = chaos("down")
        assert down.returncode == 0, down.stderr
