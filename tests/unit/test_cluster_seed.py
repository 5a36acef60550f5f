"""A run's seed reaches the containerised fault proxy, so its jitter and toxicity replay."""
from __future__ import annotations

from unittest import mock

import pytest

from chaos.cluster.controller import Cluster
from chaos.cluster.spec import COMPOSE_FILE, TOXIPROXY_SEED, compose_environment, load_services
from chaos.toxiproxy.__main__ import SEED_VARIABLE, parse_args, seed_from

pytestmark = pytest.mark.unit


def cluster(**kwargs: object) -> Cluster:
    engine = mock.Mock()
    engine.api.base_url = "http+docker://localhost"
    return Cluster(client=engine, **kwargs)  # type: ignore[arg-type]


def test_the_controller_and_the_proxy_name_the_same_variable() -> None:
    assert TOXIPROXY_SEED == SEED_VARIABLE == "CHAOS_TOXIPROXY_SEED"


@pytest.mark.parametrize("environ, seed", [({}, None), ({SEED_VARIABLE: ""}, None), ({SEED_VARIABLE: " "}, None),
                                           ({SEED_VARIABLE: "42"}, 42), ({SEED_VARIABLE: "-3"}, -3)])
def test_the_proxy_takes_its_seed_from_the_variable_when_set(environ: dict[str, str], seed: int | None) -> None:
    assert seed_from(environ) == seed


def test_a_seed_that_is_not_a_number_ends_the_proxy_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SEED_VARIABLE, "1.5")
    with pytest.raises(SystemExit) as exited:
        parse_args([])
    message = str(exited.value.code)
    assert "CHAOS_TOXIPROXY_SEED='1.5' is not a whole number" in message and "\n" not in message
    assert parse_args(["--seed", "9"]).seed == 9  # an explicit --seed wins; the variable is not read
    monkeypatch.setenv(SEED_VARIABLE, "11")
    assert parse_args([]).seed == 11 and parse_args(["-seed", "12"]).seed == 12


def test_the_compose_environment_carries_the_runs_seed_over_everything_else() -> None:
    base = {"PATH": "/bin", TOXIPROXY_SEED: "1"}
    assert compose_environment({"BILLING_UNSAFE": "x"}, 5, base) == {"PATH": "/bin", "BILLING_UNSAFE": "x",
                                                                     TOXIPROXY_SEED: "5"}
    assert compose_environment({}, None, {"PATH": "/bin"}) == {"PATH": "/bin"}


def test_the_clusters_toxiproxy_service_gets_the_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOXIPROXY_SEED, raising=False)
    seeded = cluster(seed=1234, environment={"BILLING_UNSAFE": "oversell"})
    environ = seeded.compose_environment()
    assert environ[TOXIPROXY_SEED] == "1234" and environ["BILLING_UNSAFE"] == "oversell"
    seeded._load_services(())
    assert seeded.services["toxiproxy"].environment == {TOXIPROXY_SEED: "1234"}
    assert seeded.services["api"].environment["BILLING_UNSAFE"] == "oversell"
    unseeded = cluster()
    unseeded._load_services(())
    assert unseeded.services["toxiproxy"].environment == {TOXIPROXY_SEED: ""}  # the proxy draws its own


def test_the_compose_file_passes_the_variable_to_the_proxy() -> None:
    assert load_services(COMPOSE_FILE, {TOXIPROXY_SEED: "7"})["toxiproxy"].environment == {TOXIPROXY_SEED: "7"}
