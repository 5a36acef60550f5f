"""A drill on another target, no Docker: the test service (tests/target_service) already running.

Two in-process instances share one SQLite file; a ``RunningTarget`` puts our
fault proxy (a child process) in front of them, as ``chaos drill run --target``
does. The drill's invoice workload goes through the service's own profile
(other routes, names, tokens and error codes than billing's) while a latency
fault is on ``client->api_1``: each (user, period) is asked once, so even this
unsafe service must come out SAFE, on evidence (invoices to account for, calls
through the slowed link), not "unknown" for want of operations. A drill whose
workload needs what the service lacks is refused before it starts, naming it.
"""
from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from chaos.cluster.running import RunningTarget
from chaos.drills import cli
from chaos.drills import runbook as rb
from chaos.drills.engine import Drill
from chaos.target import load_profile
from chaos.target.model import TargetProfile
from tests.target_service import PROFILE
from tests.target_service.serve import running_instances

pytestmark = pytest.mark.drill

SLOW_LINK = """# Slow link to one instance

## Situation

Every answer of api_1 is 200 ms late while invoices are generated on both instances.

## Step 1 — Load

```chaos
workload start invoices clients=4 seconds=6 users=8 dup=1 think_ms=50
sleep 1
```

## Step 2 — Slow api_1's answers

```chaos
fault latency client->api_1 ms=200
sleep 3
heal client->api_1
workload wait
```

## What to watch

The timeline: api_1's calls slow inside the shaded window.

## What safe behaviour looks like

One invoice per (user, period), none from nowhere.
"""


@pytest.fixture
def service(tmp_path: Path) -> Iterator[TargetProfile]:
    """The test service's profile, pointing at two instances of it."""
    with running_instances(tmp_path / "service.db", count=2) as urls:
        yield load_profile(PROFILE).with_instances(urls)


def test_a_drill_with_a_slow_link_on_the_test_service_is_safe_on_evidence(service: TargetProfile,
                                                                          tmp_path: Path) -> None:
    out = io.StringIO()
    console = Console(file=out, width=200, highlight=False, color_system=None)
    with RunningTarget(service.run, seed=11) as target:  # type: ignore[arg-type]
        run = Drill(rb.parse(SLOW_LINK, tmp_path / "slow-link.md"), target, console=console,  # type: ignore[arg-type]
                    auto=True, seed=11, report_dir=tmp_path / "reports", profile=service)
        result = run.run()
    text = out.getvalue()
    assert result.error is None and result.safe, text
    assert result.verdict.startswith("verdict: SAFE"), text
    invoices = result.results["invoices"]
    assert invoices.valid is True and invoices.exercised("none_from_nowhere"), invoices
    history = run.recorder.snapshot()
    made = [op for op in history if op.f == "generate_invoice" and op.type == "ok"]
    assert len(made) >= 8 and {op.instance for op in made} == {"svc-1", "svc-2"}, text
    assert "started latency client->api_1" in text and "healed latency client->api_1" in text
    assert result.report is not None and result.report.exists()
    (schedule,) = result.report.parent.glob("*/schedule.json")
    assert [w["fault"] for w in json.loads(schedule.read_text(encoding="utf-8"))] == ["latency"]


def test_a_drill_whose_workload_the_target_lacks_stops_with_the_reason(service: TargetProfile,
                                                                       tmp_path: Path) -> None:
    """Before the proxy starts or any call is made: the engine's refusal, and the command line's."""
    tickets = SLOW_LINK.replace("workload start invoices clients=4 seconds=6 users=8 dup=1 think_ms=50",
                                "workload start tickets clients=2 seconds=5")
    out = io.StringIO()
    result = Drill(rb.parse(tickets, tmp_path / "tickets.md"), None, auto=True, seed=1,  # type: ignore[arg-type]
                   console=Console(file=out, width=300, color_system=None), report_dir=tmp_path / "reports",
                   profile=service).run()
    assert not result.safe and result.report is None
    assert result.verdict.startswith("verdict: NOT RUN — drill tickets cannot run on target 'test-service': "
                                     "workload tickets: target 'test-service' lacks operation create_event")
    assert "Step 1" not in out.getvalue()

    profile = tmp_path / "profile.yaml"
    profile.write_text(PROFILE.read_text(encoding="utf-8"), encoding="utf-8")
    refused = CliRunner().invoke(cli.drill, ["run", "worker-killed-mid-invoice", "--auto", "--yes",
                                             "--target", str(profile)])
    assert refused.exit_code == 1
    (line,) = refused.output.strip().splitlines()
    assert line.startswith("Error: drill worker-killed-mid-invoice cannot run on target 'test-service': workload "
                           "async-invoices: target 'test-service' lacks operation generate_invoice_async"), line
    assert "cannot have fault kill" in line
