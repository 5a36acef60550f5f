"""The fault grammar: every kind builds the fault the nemesis knows, every mistake is one clear line."""
from __future__ import annotations

import pytest

from chaos.nemesis.grammar import (FAULT_HELP, KINDS, FaultSpec, GrammarError, expand, normalise_target,
                                   parse_fault, parse_faults, parse_spec)
from chaos.nemesis.link_faults import Partition, Toxic
from chaos.nemesis.data_faults import Exhaust, Forget
from chaos.nemesis.process_faults import Disconnect, Kill, Pause, Restart
from chaos.nemesis.schedule import REBUILD

pytestmark = pytest.mark.unit
RUNNING = ["api_1", "api_2", "api_10", "worker_1", "worker_2", "redis", "postgres", "lb", "flower", "toxiproxy"]


@pytest.mark.parametrize("text, fault, description", [
    ("partition api_1->redis", Partition("api_1->redis"), {"fault": "partition", "target": "api_1->redis"}),
    ("partition client->api_3", Partition("client->api_3"), {"fault": "partition", "target": "client->api_3"}),
    ("latency api_2->postgres ms=300 jitter=50", Toxic("api_2->postgres", "latency", {"latency": 300, "jitter": 50}),
     {"fault": "latency", "target": "api_2->postgres", "stream": "downstream", "latency": 300, "jitter": 50}),
    ("latency worker_1->redis ms=100", Toxic("worker_1->redis", "latency", {"latency": 100, "jitter": 0}),
     {"fault": "latency", "target": "worker_1->redis", "stream": "downstream", "latency": 100, "jitter": 0}),
    ("bandwidth worker_2->postgres rate=10", Toxic("worker_2->postgres", "bandwidth", {"rate": 10}),
     {"fault": "bandwidth", "target": "worker_2->postgres", "stream": "downstream", "rate": 10}),
    ("reset-peer client->api_1 after=500", Toxic("client->api_1", "reset_peer", {"timeout": 500}),
     {"fault": "reset_peer", "target": "client->api_1", "stream": "downstream", "timeout": 500}),
    ("reset-peer client->api_1", Toxic("client->api_1", "reset_peer", {"timeout": 0}),
     {"fault": "reset_peer", "target": "client->api_1", "stream": "downstream", "timeout": 0}),
    ("timeout api_1->redis ms=2000", Toxic("api_1->redis", "timeout", {"timeout": 2000}),
     {"fault": "timeout", "target": "api_1->redis", "stream": "downstream", "timeout": 2000}),
    ("pause api_1", Pause("api_1"), {"fault": "pause", "target": "api_1"}),
    ("pause redis", Pause("redis"), {"fault": "pause", "target": "redis"}),
    ("kill worker_1", Kill("worker_1"), {"fault": "kill", "target": "worker_1"}),
    ("restart redis", Restart("redis"), {"fault": "restart", "target": "redis"}),
    ("restart postgres", Restart("postgres"), {"fault": "restart", "target": "postgres"}),
    ("restart api_2", Restart("api_2"), {"fault": "restart", "target": "api_2"}),
    ("forget idempotency", Forget("idempotency"), {"fault": "forget", "target": "idempotency"}),
    ("exhaust postgres", Exhaust("postgres"), {"fault": "exhaust", "target": "postgres"}),
    ("disconnect postgres", Disconnect("postgres"), {"fault": "disconnect", "target": "postgres"}),
])
def test_every_kind_builds_its_fault_and_description(text: str, fault: object, description: dict) -> None:
    parsed = parse_fault(text.split())
    assert parsed == fault
    assert parsed.describe() == description
    # what the history stores rebuilds the same fault (schedules replay from it)
    assert REBUILD[description["fault"]](description) == fault


def test_every_kind_is_covered_and_documented() -> None:
    assert set(KINDS) == {"partition", "latency", "bandwidth", "reset-peer", "timeout", "pause", "kill", "restart",
                          "forget", "exhaust", "disconnect"}
    for name in KINDS:
        assert f"  {name} " in FAULT_HELP
        assert f"chaos fault {name} " in FAULT_HELP


@pytest.mark.parametrize("words", [["partition", "api_1:redis"], ["partition", "api_1", "->", "redis"],
                                   ["partition", "api_1", ":", "redis"]])
def test_a_link_may_be_written_for_a_shell(words: list[str]) -> None:
    assert parse_fault(words) == Partition("api_1->redis")


def test_reset_peer_may_be_written_with_an_underscore() -> None:
    assert parse_fault(["reset_peer", "client->api_2"]) == Toxic("client->api_2", "reset_peer", {"timeout": 0})


def test_the_canonical_text_parses_back_to_the_same_spec() -> None:
    for text in ("latency api_*->postgres ms=300 jitter=50", "partition client:api_2", "kill worker_*"):
        spec = parse_spec(text.split())
        assert parse_spec(spec.text.split()) == spec
    assert parse_spec("partition client:api_2".split()).text == "partition client->api_2"


def test_a_pattern_expands_against_the_running_instances() -> None:
    assert parse_faults("latency api_*->postgres ms=300".split(), RUNNING) == [
        Toxic(f"api_{n}->postgres", "latency", {"latency": 300, "jitter": 0}) for n in (1, 2, 10)]
    assert parse_faults(["pause", "worker_*"], RUNNING) == [Pause("worker_1"), Pause("worker_2")]
    assert parse_faults(["partition", "client->api_*"], RUNNING) == [
        Partition("client->api_1"), Partition("client->api_2"), Partition("client->api_10")]
    assert parse_faults(["pause", "api_1"], RUNNING) == [Pause("api_1")]


def test_a_pattern_matching_nothing_says_what_runs() -> None:
    with pytest.raises(GrammarError, match="matches no running instance; running: api_1, redis"):
        parse_faults(["pause", "worker_*"], ["api_1", "redis"])


def test_expand_and_normalise() -> None:
    assert expand("api_*->redis", ["api_2", "api_1", "worker_1"]) == ["api_1->redis", "api_2->redis"]
    assert expand("worker_*", ["api_1", "worker_1"]) == ["worker_1"]
    assert normalise_target("worker_2:postgres") == "worker_2->postgres"
    assert normalise_target("api_1") == "api_1"
    assert FaultSpec("pause", "api_*").is_pattern and not FaultSpec("pause", "api_1").is_pattern


@pytest.mark.parametrize("text, says", [
    ("", "a fault needs a kind and a target"),
    ("melt api_1", "unknown fault kind 'melt'; kinds: partition, latency, bandwidth, reset-peer, timeout, pause, "
                   "kill, restart, forget, exhaust, disconnect"),
    ("latency", "latency needs a target"),
    ("latency api_1->redis", "latency needs ms=<milliseconds>"),
    ("bandwidth api_1->redis", "bandwidth needs rate=<KB/s>"),
    ("latency api_1->redis ms=fast", "ms= must be a whole number of milliseconds (>= 0), not 'fast'"),
    ("latency api_1->redis ms=1.5", "not '1.5'"),
    ("latency api_1->redis ms=-3", "not '-3'"),
    ("latency api_1->redis ms=²", "not '²'"),
    ("latency api_1->redis ms=1 ms=2", "ms= is given twice"),
    ("latency api_1->redis ms=1 rate=3", "latency takes ms=<milliseconds>, jitter=<milliseconds> (default 0); "
                                         "not 'rate='"),
    ("partition api_1->redis ms=3", "partition takes no parameters; not 'ms='"),
    ("latency api_1 ms=100", "latency takes a link, and 'api_1' is an instance"),
    ("partition redis", "partition takes a link, and 'redis' is an instance"),
    ("partition database", "partition takes a link, and 'database' is not a link"),
    ("partition worker_1->api_1", "no link 'worker_1->api_1'"),
    ("partition client->redis", "no link 'client->redis'"),
    ("partition api_1->lb", "'api_1->lb' is not a link"),
    ("partition api_1 redis", "partition takes one target, not 'api_1 redis'"),
    ("pause api_1->redis", "pause takes an instance (api_N, worker_N, redis or postgres), not the link "
                           "'api_1->redis'; to cut a link use partition"),
    ("pause lb", "pause takes api_N, worker_N, redis or postgres, not 'lb'"),
    ("kill redis", "kill takes api_N or worker_N, not 'redis': a killed redis or postgres would stay down"),
    ("kill postgres", "restart it (it comes back at once)"),
    ("disconnect toxiproxy", "disconnect takes api_N, worker_N, redis or postgres, not 'toxiproxy'"),
    ("forget redis", "forget takes a key family of the profile (run.containerised.redis_keys), e.g. locks, "
                     "not 'redis'"),
    ("forget api_2", "forget takes a key family"),
    ("exhaust redis", "exhaust takes postgres, not 'redis'"),
    ("forget api_1->redis", "forget takes a key family of the profile (run.containerised.redis_keys), e.g. "
                            "locks, not the link 'api_1->redis'"),
])
def test_each_mistake_is_one_line_naming_it_and_what_is_allowed(text: str, says: str) -> None:
    with pytest.raises(GrammarError) as caught:
        parse_fault(text.split())
    message = str(caught.value)
    assert says in message
    assert "\n" not in message
    assert isinstance(caught.value, ValueError)


def test_one_fault_from_a_pattern_is_refused_with_the_way_out() -> None:
    with pytest.raises(GrammarError, match="names several instances"):
        parse_fault("latency api_*->redis ms=100".split())
