"""Importing the load package for its names patches nothing: only the locustfiles import Locust and gevent.

Locust monkey-patches the interpreter with gevent when imported, so each
import is tried in a fresh interpreter, and the judging of a response (which
needs no Locust) is tried here with a stand-in response.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from chaos import load
from scenarios.load.contract import IN_FLIGHT, judge

pytestmark = pytest.mark.unit

PATCHERS = ("gevent", "locust", "greenlet")


def imported_after(statement: str) -> list[str]:
    """The Locust and gevent modules a fresh interpreter holds after ``statement``."""
    probe = textwrap.dedent(f"""
        import sys
        {statement}
        print(" ".join(sorted(m for m in sys.modules if m.split(".")[0] in {PATCHERS!r})))
    """)
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                          cwd=load.ROOT, env={**os.environ, "PYTHONPATH": str(load.ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()


@pytest.mark.parametrize("statement", [
    "import scenarios.load",
    "from scenarios.load import contract",
    "from scenarios.load.contract import IN_FLIGHT, SLOT_FULL, SOLD_OUT, judge, wrong",
    "import chaos.load",
    "from chaos.load import PROFILES, run_load",
])
def test_importing_the_load_package_or_its_runner_imports_no_locust_or_gevent(statement: str) -> None:
    assert imported_after(statement) == []


def test_a_locustfile_still_brings_locust_with_it() -> None:
    """The other side of the promise: the profiles are Locust's, loaded in Locust's process."""
    path = load.PROFILES["browse"].path
    found = imported_after(f"from locust.util.load_locustfile import load_locustfile; load_locustfile({str(path)!r})")
    assert "locust" in found and "gevent" in found


def test_the_package_init_is_small_and_imports_nothing() -> None:
    source = (load.PROFILE_DIR / "__init__.py").read_text()
    assert len(source.splitlines()) < 60
    assert not [line for line in source.splitlines() if line.startswith(("import ", "from "))]


class Response:
    """Locust's ResponseContextManager as ``judge`` uses it."""

    def __init__(self, status: int, body: Any = None, text: str = "") -> None:
        self.status_code, self._body, self.text, self.error = status, body, text, "refused"
        self.request_meta = {"name": "/api/x"}
        self.marked: tuple[str, str | None] | None = None

    def json(self) -> Any:
        if self._body is None:
            raise ValueError("not JSON")
        return self._body

    def success(self) -> None:
        self.marked = ("success", None)

    def failure(self, message: str) -> None:
        self.marked = ("failure", message)


@pytest.mark.parametrize("response, body, marked", [
    (Response(200, {"id": 1}), {"id": 1}, ("success", None)),
    (Response(409, {"error": "idempotency_in_flight"}), None, ("success", None)),
    (Response(409, {"error": "sold_out"}), None, ("failure", "409 sold_out")),
    (Response(0), None, ("failure", "no response: refused")),
    (Response(502, text="<html>bad gateway</html>"), None, ("failure", "502, not JSON: '<html>bad gateway</html>'")),
])
def test_a_response_is_judged_by_the_contract(response: Response, body: Any, marked: tuple[str, str | None]) -> None:
    assert judge(response, ok=(200,), expected=(IN_FLIGHT,)) == body  # type: ignore[arg-type]
    assert response.marked == marked
