"""`chaos load` drives another target through its profile: a short bounded load of a profile against the test service.

The test service (tests/target_service) has other routes and field names
than billing, and no bookings, tickets or async invoices. One instance
serves in a thread of this process; Locust runs in its own process
(``chaos.load``), so nothing here imports it. About 20 s.
"""
from __future__ import annotations

import csv

import pytest

from chaos.load import LoadResult, run_load
from tests.target_service import PROFILE
from tests.target_service.serve import running_instances

pytestmark = pytest.mark.unit

USERS, DURATION_S = 5, 10


def rows(result: LoadResult) -> dict[str, dict[str, str]]:
    with open(result.stats_csv, newline="", encoding="utf-8") as file:
        return {f"{row['Type']} {row['Name']}".strip(): row for row in csv.DictReader(file)}


@pytest.fixture(scope="module")
def browse(tmp_path_factory: pytest.TempPathFactory) -> LoadResult:
    where = tmp_path_factory.mktemp("load-target")
    with running_instances(where / "service.db", count=1) as urls:
        return run_load("browse", urls[0], target=PROFILE, users=USERS, spawn_rate=USERS, duration_s=DURATION_S,
                        out_dir=where / "out")


def test_a_profile_drives_the_test_service_through_its_profile_without_failures(browse: LoadResult) -> None:
    failures = browse.failures_csv.read_text() if browse.failures_csv.is_file() else ""
    assert browse.requests > 0, browse.log.read_text()[-3000:]
    assert browse.failures == 0, failures
    by_name = rows(browse)
    # The test service's routes, named by their templates, each user signed up on its own account.
    assert int(by_name["POST /v2/accounts"]["Request Count"]) == USERS, list(by_name)
    assert int(by_name["POST /v2/sessions"]["Request Count"]) >= USERS
    assert int(by_name["GET /v2/catalogue"]["Request Count"]) > 0
    assert not [name for name in by_name if "/api/" in name], list(by_name)


def test_the_operations_the_test_service_lacks_were_left_out(browse: LoadResult) -> None:
    log = browse.log.read_text()
    assert log.count("left out") == 1
    assert ("target 'test-service' lacks book_slot, create_event, create_slot, purchase_ticket: "
            "left out WebsiteUser: create_booking, purchase_ticket") in log
    assert not [name for name in rows(browse) if "slot" in name or "event" in name or "ticket" in name]
