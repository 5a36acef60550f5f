"""Pure parts of the cluster controller and the nemesis: the compose file as read, schedules as seeded."""
from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest

from chaos.cluster.controller import ClusterError, _through, ensure_local_engine
from chaos.cluster.spec import interpolate, load_services, nanoseconds
from chaos.compose import COMPOSE_FILE
from chaos.nemesis.link_faults import Partition, latency
from chaos.nemesis.process_faults import Kill, Pause, Scale
from chaos.nemesis.schedule import from_json, random_schedule, to_json

pytestmark = pytest.mark.unit


def test_variables_take_the_environment_then_their_default() -> None:
    assert interpolate("${A:-1}-${B:-2}-$$HOME", {"A": "x"}) == "x-2-$HOME"
    assert interpolate("${A:-1}", {"A": ""}) == "1"


def test_durations_in_the_engines_units() -> None:
    assert nanoseconds("1s") == 1_000_000_000 and nanoseconds("500ms") == 500_000_000
    with pytest.raises(ValueError, match="duration"):
        nanoseconds("soon")


def test_the_compose_file_gives_every_service_a_healthcheck() -> None:
    services = load_services(COMPOSE_FILE, {})
    assert set(services) == {"postgres", "redis", "toxiproxy", "api", "worker", "flower", "lb"}
    assert all(spec.sdk_healthcheck() for spec in services.values())
    assert services["flower"].environment["FLOWER_UNAUTHENTICATED_API"] == "true"  # the YAML merge key
    assert services["api"].environment["BILLING_UNSAFE"] == ""


def test_workers_have_a_memory_limit_and_postgres_keeps_its_data_across_a_restart() -> None:
    """The memory-kill scenario needs a limit on the workers (and may set another); PostgreSQL's data
    directory is in the container's layer, which a tmpfs would empty on every stop (restart postgres)."""
    services = load_services(COMPOSE_FILE, {})
    assert services["worker"].mem_limit == "512m"
    assert load_services(COMPOSE_FILE, {"WORKER_MEM_LIMIT": "1g"})["worker"].mem_limit == "1g"
    assert services["api"].mem_limit is None and services["postgres"].tmpfs == ()


def test_an_unsafe_variant_reaches_billing_through_the_environment() -> None:
    assert load_services(COMPOSE_FILE, {"BILLING_UNSAFE": "oversell"})["worker"].environment["BILLING_UNSAFE"] \
        == "oversell"


def test_a_target_override_replaces_billings_api(tmp_path: Path) -> None:
    override = tmp_path / "target.yaml"
    override.write_text("services:\n  api:\n    image: team/api:2\n    command: [serve]\n")
    api = load_services(COMPOSE_FILE, {}, (override,))["api"]
    assert (api.image, api.command) == ("team/api:2", ["serve"])
    assert api.healthcheck is not None  # kept from the base file


def test_a_bad_target_override_is_a_clear_error(tmp_path: Path) -> None:
    override = tmp_path / "target.yaml"
    override.write_text("just: text\n")
    with pytest.raises(ValueError, match="no 'services' mapping"):
        load_services(COMPOSE_FILE, {}, (override,))


def test_connection_urls_are_pointed_at_links() -> None:
    assert _through("postgresql+psycopg://u:p@postgres:5432/billing", "postgres", 21001) \
        == "postgresql+psycopg://u:p@toxiproxy:21001/billing"
    assert _through("redis://redis:6379/1", "redis", 21002) == "redis://toxiproxy:21002/1"


@pytest.mark.parametrize("base_url, allowed", [
    ("http+docker://localhost", True), ("http://127.0.0.1:2375", True), ("https://build-box:2376", False)])
def test_faults_refuse_an_engine_on_another_machine(base_url: str, allowed: bool) -> None:
    client = mock.Mock()
    client.api.base_url = base_url
    if allowed:
        ensure_local_engine(client, allow_remote=False)
    else:
        with pytest.raises(ClusterError, match="not on this machine"):
            ensure_local_engine(client, allow_remote=False)
        ensure_local_engine(client, allow_remote=True)


CANDIDATES = [Partition("api_1->redis"), latency("api_2->redis", 200, 50), Pause("api_3"), Kill("worker_1"),
              Scale("api", 2)]


def test_the_same_seed_gives_the_same_schedule() -> None:
    first = to_json(random_schedule(42, CANDIDATES, total_s=30, faults=5))
    assert first == to_json(random_schedule(42, CANDIDATES, total_s=30, faults=5))
    assert first != to_json(random_schedule(43, CANDIDATES, total_s=30, faults=5))


def test_schedules_fit_their_time_and_do_not_overlap() -> None:
    steps = random_schedule(7, CANDIDATES, total_s=20, faults=4)
    ends = [(s.at_s, s.at_s + s.duration_s) for s in steps]
    assert all(0 <= start < end <= 20 for start, end in ends)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(ends, ends[1:]))


def test_a_stored_schedule_rebuilds_the_same_faults() -> None:
    stored = to_json(random_schedule(5, CANDIDATES, total_s=30, faults=6))
    assert to_json(from_json(stored)) == stored


def test_an_unknown_fault_in_a_stored_schedule_is_named() -> None:
    with pytest.raises(ValueError, match="unknown fault 'meteor'"):
        from_json([{"at_s": 0, "duration_s": 1, "fault": "meteor", "target": "api_1"}])
