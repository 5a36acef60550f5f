"""The three ways to run the server: a process (as the compose service does), and in-process for tests."""
from __future__ import annotations

import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import pytest
import requests

from chaos.toxiproxy.testing import running_server
from tests.toxiproxy.tcp import connect, echo_server, parse_listen, round_trip

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
# Runs the package from a copy holding only what the runtime image holds: chaos/__init__.py and chaos/toxiproxy/.
LAUNCHER = """
import runpy, sys
sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, '__module__', '').startswith('__editable__')]
sys.path.insert(0, sys.argv.pop(1))
sys.argv[0] = 'chaos.toxiproxy'
runpy.run_module('chaos.toxiproxy', run_name='__main__', alter_sys=True)
"""


@pytest.fixture
def image_copy(tmp_path: Path) -> Path:
    (tmp_path / "chaos").mkdir()
    shutil.copy(REPO / "chaos" / "__init__.py", tmp_path / "chaos" / "__init__.py")
    shutil.copytree(REPO / "chaos" / "toxiproxy", tmp_path / "chaos" / "toxiproxy",
                    ignore=shutil.ignore_patterns("__pycache__", "client.py", "testing.py"))
    return tmp_path


def run_module(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", LAUNCHER, str(root), *args], cwd=root, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


_OUTPUT: dict[int, queue.Queue[str]] = {}


def _pump(stream: IO[str], lines: queue.Queue[str]) -> None:
    try:
        for line in stream:
            lines.put(line)
    except ValueError:  # the test closed the pipe
        pass
    lines.put("")


def read_line_matching(process: subprocess.Popen[str], pattern: str, timeout_s: float = 15.0) -> re.Match[str]:
    """The first line of the process's output matching ``pattern``.

    Lines come from a reader thread: ``select`` on the pipe followed by ``readline`` misses a line
    that arrived in the same read as the one before it (it sits in the file's buffer, not the pipe).
    """
    assert process.stdout is not None
    lines = _OUTPUT.get(process.pid)
    if lines is None:
        lines = _OUTPUT[process.pid] = queue.Queue()
        threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + timeout_s
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            break
        if not line:
            break
        seen.append(line)
        if match := re.search(pattern, line):
            return match
    raise AssertionError(f"no line matching {pattern!r} in {seen!r}")


def test_help_describes_the_options(image_copy: Path) -> None:
    process = run_module(image_copy, "--help")
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    for option in ("--host", "--port", "--seed", "--log-level", "--config", "--proxy-metrics", "--runtime-metrics",
                   "--loop"):
        assert option in output


@pytest.mark.parametrize("loop", ["auto", "asyncio"])
def test_the_process_serves_from_the_image_files_alone_and_stops_cleanly_on_sigterm(image_copy: Path,
                                                                                    loop: str) -> None:
    """``auto`` is uvloop where it is installed; ``asyncio`` is what an image without it runs."""
    process = run_module(image_copy, "--host", "127.0.0.1", "--port", "0", "--loop", loop)
    try:
        url = read_line_matching(process, r"server on (http://127\.0\.0\.1:\d+)").group(1)
        assert requests.get(url + "/version", timeout=5).json()["version"].startswith("2.")
        with echo_server() as echo:
            proxy = requests.post(url + "/proxies", json={"name": "echo", "upstream": str(echo.address),
                                                          "listen": "127.0.0.1:0"}, timeout=5).json()
            with connect(parse_listen(proxy["listen"])) as sock:
                assert round_trip(sock, b"through the process")[0] == b"through the process"
                process.send_signal(signal.SIGTERM)
                read_line_matching(process, r"Terminated proxy echo")
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=15)
        assert process.stdout is not None
        process.stdout.close()


def test_the_in_process_server_answers_while_the_block_runs_and_is_gone_after() -> None:
    with running_server() as server:
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert requests.get(server.url + "/version", timeout=5).status_code == 200
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url + "/version", timeout=5)


def test_the_in_process_server_closes_its_proxies_on_exit() -> None:
    with echo_server() as echo:
        with running_server() as server:
            listen = requests.post(server.url + "/proxies", json={"name": "e", "upstream": str(echo.address),
                                                                  "listen": "127.0.0.1:0"}, timeout=5).json()["listen"]
        with pytest.raises(ConnectionRefusedError):
            connect(parse_listen(listen))


def test_a_server_that_cannot_start_raises_instead_of_hanging() -> None:
    with pytest.raises(RuntimeError, match="failed to start"):
        with running_server(host="192.0.2.1"):  # TEST-NET-1: not an address of this machine, cannot be bound
            pass
