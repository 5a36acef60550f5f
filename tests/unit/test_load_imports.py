"""Importing the load package for its names patches nothing: only the locustfiles import Locust and gevent.

Locust monkey-patches the interpreter with gevent when imported, so each
import is tried in a fresh interpreter, and the judging of a reply (which
needs no Locust) is tried here.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import pytest

from chaos import load
from chaos.target.reply import Reply
from scenarios.load.contract import judge

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
    "from scenarios.load.contract import CONTENTION, judge, wrong",
    "from scenarios.load import offered, session",
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


def reply(outcome: str, status: int | None, error: str | None = None, operation: str = "book_slot") -> Reply:
    return Reply(operation, outcome, status, {}, error=error)  # type: ignore[arg-type]


@pytest.mark.parametrize("given, problem", [
    (reply("ok", 201), None),
    (reply("fail", 409, "slot_full"), None),            # correct under contention, in the suite's words
    (reply("fail", 409, "idempotency_in_flight"), None),
    (reply("fail", 409, "invoice_exists"), "fail: 409 invoice_exists"),
    (reply("info", 503, "redis_unavailable"), "info: 503 redis_unavailable"),
    (reply("fail", 400), "fail: 400"),
    (reply("info", None, "ConnectionError"), "no answer (ConnectionError)"),
])
def test_a_reply_is_judged_by_the_targets_profile(given: Reply, problem: str | None) -> None:
    assert judge(given) == problem
