"""A third target service, built only for the tests: a Flask + SQLite shop (``app``), safe in some operations
and deliberately unsafe in others unless started with ``--variant correct``; its profile (``profile.yaml``);
and ``instances``, which starts processes of it sharing one database file, as a scaled service."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

PROFILE = Path(__file__).with_name("profile.yaml")
ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def reset_command(db: Path | str) -> list[str]:
    """The profile's reset hook with the database file given explicitly (the profile's own command reads
    $SHOP_DB instead): it clears the login rate limit's table and exits 0."""
    return [sys.executable, "-m", "tests.shop_service.app", "--db", str(db), "--reset-rate-limits"]


@contextmanager
def instances(db: Path | str, count: int = 2, variant: str = "default",
              login_limit: str | None = None) -> Iterator[list[str]]:
    """``count`` processes (shop-1, shop-2, ...) sharing ``db``; their URLs once each answers /health.

    Each one's stderr goes to ``<db>.shop-<i>.log`` (read it when a test fails)."""
    import requests  # only the tests need it

    with ExitStack() as stack:
        urls, processes = [], []
        for i in range(count):
            port, name = free_port(), f"shop-{i + 1}"
            command = [sys.executable, "-m", "tests.shop_service.app", "--port", str(port), "--db", str(db),
                       "--name", name, "--variant", variant]
            if login_limit:
                command += ["--login-limit", login_limit]
            log = stack.enter_context(open(f"{db}.{name}.log", "wb"))
            process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
            stack.callback(_stop, process)
            urls.append(f"http://127.0.0.1:{port}")
            processes.append(process)
            if i == 0:  # the first creates the schema; the others then start on it
                _wait_answering(urls[0], process, db, name, requests)
        for url, process, i in zip(urls[1:], processes[1:], range(2, count + 1)):
            _wait_answering(url, process, db, f"shop-{i}", requests)
        yield urls


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def _wait_answering(url: str, process: subprocess.Popen[bytes], db: Path | str, name: str, requests) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = Path(f"{db}.{name}.log")
            raise RuntimeError(f"{url} ({name}) exited {process.returncode}: "
                               f"{log.read_text(errors='replace')[-800:] if log.exists() else ''}")
        try:
            if requests.get(url + "/health", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} ({name}) did not answer within {START_TIMEOUT_S:.0f} s")
