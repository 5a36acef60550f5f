"""Answering errors costs no memory for good: thousands of 404s and 409s leave the server's RSS flat.

The server runs as its own process (as in the chaos stack), so the figure is its
resident memory alone, read from /proc, and nothing of the test's own is counted.
"""
from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.toxiproxy.tcp import wait_until

pytestmark = [pytest.mark.unit, pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")]

REPO = Path(__file__).resolve().parents[2]
WARMUP_CALLS = 2_000
MEASURED_CALLS = 5_000
ALLOWED_GROWTH_KB = 1024
ERROR_CALLS = [  # each answers 404 or 409, the answers that used to keep their traceback alive
    ("GET", "/proxies/missing", None, 404),
    ("DELETE", "/proxies/missing", None, 404),
    ("POST", "/proxies", {"name": "kept", "upstream": "127.0.0.1:1", "listen": "127.0.0.1:0"}, 409),
    ("GET", "/proxies/kept/toxics/missing", None, 404),
    ("POST", "/proxies/kept/toxics", {"name": "slow", "type": "latency"}, 409),
    ("PATCH", "/proxies/missing/toxics/slow", {"toxicity": 0.5}, 404),
]


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """``python -m chaos.toxiproxy`` on a free port; its log goes to a file so it never blocks on a pipe."""
    log_path = tmp_path / "toxiproxy.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "chaos.toxiproxy", "--port", "0"], cwd=REPO,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        assert wait_until(lambda: "server on http://" in log_path.read_text(), timeout_s=20), log_path.read_text()
        url = log_path.read_text().split("server on http://", 1)[1].split()[0]
        yield process, int(url.rpartition(":")[2])
    finally:
        process.terminate()
        process.wait(timeout=10)


def resident_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS line")


def call_errors(conn: http.client.HTTPConnection, count: int) -> None:
    for index in range(count):
        method, path, body, status = ERROR_CALLS[index % len(ERROR_CALLS)]
        conn.request(method, path, body=None if body is None else json.dumps(body))
        response = conn.getresponse()
        response.read()
        assert response.status == status, (method, path, response.status)


def test_5000_answers_of_404_and_409_leave_resident_memory_flat(server_process) -> None:
    process, port = server_process
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for method, path, body, _ in ERROR_CALLS[2:5:2]:  # the proxy and toxic whose second creation is a 409
            conn.request(method, path, body=json.dumps(body))
            conn.getresponse().read()
        call_errors(conn, WARMUP_CALLS)  # allocator arenas and caches reach their working size
        time.sleep(0.2)
        before = resident_kb(process.pid)
        call_errors(conn, MEASURED_CALLS)
        time.sleep(0.2)
        after = resident_kb(process.pid)
    finally:
        conn.close()
    assert after - before < ALLOWED_GROWTH_KB, f"RSS grew {after - before} KB over {MEASURED_CALLS} error answers"


def test_each_raise_of_a_named_error_is_a_new_exception_with_its_own_traceback() -> None:
    """A shared exception instance grows its traceback on every raise; a fresh one cannot."""
    from chaos.toxiproxy.errors import PROXY_NOT_FOUND, ApiError

    raised: list[ApiError] = []
    for _ in range(3):
        try:
            raise PROXY_NOT_FOUND()
        except ApiError as exc:
            raised.append(exc)
    assert len({id(exc) for exc in raised}) == 3
    assert all(exc.__traceback__ is not None and exc.__traceback__.tb_next is None for exc in raised)
    assert raised[0].to_json() == {"error": "proxy not found", "status": 404}
