"""Every Locust profile, run headless through the lb of the real stack (3 api + 2 workers).

Driven through billing's target profile (the default). About 10 s each, with
far fewer users than the seed's numbers (500 for distributed) so that two
cores cope; the Locust files land in the report folder (``reports/load/`` by
default), which CI uploads.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from chaos.compose import ComposeStack
from chaos.load import LoadResult, run_load

pytestmark = pytest.mark.docker

DURATION_S = 10
MAX_FAILURE_RATIO = 0.01


@pytest.fixture(scope="module")
def load_dir(pytestconfig: pytest.Config) -> Path:
    return Path(pytestconfig.getoption("--chaos-report-dir")) / "load"


def rows(result: LoadResult) -> dict[str, dict[str, str]]:
    with open(result.stats_csv, newline="", encoding="utf-8") as file:
        return {f"{row['Type']} {row['Name']}".strip(): row for row in csv.DictReader(file)}


@pytest.mark.parametrize("profile, users, spawn_rate", [
    ("browse", 20, 10),
    ("realistic", 20, 10),
    ("distributed", 50, 25),
])
def test_a_profile_runs_through_the_lb_with_few_failures(stack: ComposeStack, load_dir: Path, profile: str,
                                                         users: int, spawn_rate: float) -> None:
    lines: list[str] = []
    result = run_load(profile, stack.lb_url, users=users, spawn_rate=spawn_rate, duration_s=DURATION_S,
                      out_dir=load_dir, progress=lines.append)
    print("\n".join(lines))
    assert result.stats_csv.is_file() and result.html.is_file(), list(load_dir.iterdir())
    assert result.stats_csv.parent == load_dir.resolve()
    assert result.requests > 0, result.log.read_text()[-3000:]
    failures = result.failures_csv.read_text() if result.failures_csv.is_file() else ""
    assert result.failure_ratio <= MAX_FAILURE_RATIO, f"{result.failures}/{result.requests} failed:\n{failures}"
    by_name = rows(result)
    # Requests are named by the profile's path templates, so no stats row carries an id.
    assert not [name for name in by_name if re.search(r"/\d", name)], list(by_name)
    if profile == "distributed":
        replay = by_name.get("POST /api/subscriptions/{subscription_id}/activate (replay)")
        assert replay and int(replay["Request Count"]) > 0 and replay["Failure Count"] == "0", by_name.keys()
        celery = by_name.get("CELERY generate_invoice (202 -> done)")
        assert celery and int(celery["Request Count"]) > 0 and celery["Failure Count"] == "0", by_name.keys()
