"""A run's seed replays the containerised fault proxy's randomness: which connections a toxic picks, and
its jitter.

The cluster's proxy (a container, given the seed through the compose file)
and a proxy of this process seeded alike see the same traffic: ten
connections one after another, each one request, through a latency toxic
(1.5 s, jitter 1 s) and toxicity 0.5 on the upstream side (one chunk per
connection, so one draw for the pick and one for the jitter). Each
connection's delay must be the same on both, within the noise of a shared
machine; a proxy seeded otherwise must pick other connections, so the
comparison can fail.
"""
from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from chaos.cluster.controller import Cluster
from chaos.provision.pipeline import provision
from chaos.toxiproxy.client import ToxiproxyClient
from chaos.toxiproxy.testing import running_server
from tests.toxiproxy.tcp import echo_server, parse_listen

pytestmark = pytest.mark.docker
SEED = 424242
CONNECTIONS = 10
# Delays far above the service's own time: in a busy CI run an instance took up to 160 ms to answer.
TOXIC = dict(type="latency", stream="upstream", toxicity=0.5, attributes={"latency": 1500, "jitter": 1000})
AFFECTED_S = 0.4         # the least an affected connection is held (1500 - 1000 ms), less the noise
TOLERANCE_S = 0.35       # one connection's delay on the two proxies, on a busy two-core machine
REQUEST = b"GET /no/such/route HTTP/1.1\r\nHost: chaos\r\nConnection: close\r\n\r\n"  # a 404: no database


def delays(address: tuple[str, int]) -> list[float]:
    """Seconds from sending one request to its first answering byte, a new connection each."""
    found = []
    for _ in range(CONNECTIONS):
        with socket.create_connection(address, timeout=10) as sock:
            started = time.monotonic()
            sock.sendall(REQUEST)
            assert sock.recv(1), "the upstream answered nothing"
            found.append(time.monotonic() - started)
    return found


def local_delays(seed: int) -> list[float]:
    with echo_server() as echo, running_server(seed=seed) as server, ToxiproxyClient(server.url) as client:
        address = parse_listen(client.create_proxy("echo", str(echo.address))["listen"])
        client.add_toxic("echo", **TOXIC)
        return delays((address.host, address.port))


@pytest.fixture(scope="module")
def seeded_cluster() -> Iterator[Cluster]:
    provision()
    cluster = Cluster(seed=SEED)
    try:
        cluster.start(api=1, workers=1)
        yield cluster
    finally:
        cluster.remove()


def test_the_containerised_proxy_replays_the_runs_seed(seeded_cluster: Cluster) -> None:
    assert seeded_cluster.toxiproxy is not None
    seeded_cluster.toxiproxy.add_toxic("client->api_1", **TOXIC)
    url = seeded_cluster.api_urls()["api_1"]
    host, port = url.removeprefix("http://").split(":")
    in_the_cluster = delays((host, int(port)))
    here = local_delays(SEED)

    picked = [d > AFFECTED_S for d in here]
    assert True in picked and False in picked, here
    assert [d > AFFECTED_S for d in in_the_cluster] == picked, (in_the_cluster, here)
    assert all(abs(a - b) < TOLERANCE_S for a, b in zip(in_the_cluster, here)), (in_the_cluster, here)
    held = [d for d, p in zip(here, picked) if p]
    assert max(held) - min(held) > 2 * TOLERANCE_S or len(held) < 3, f"no jitter to compare: {held}"
    assert [d > AFFECTED_S for d in local_delays(SEED + 1)] != picked, "another seed picks the same connections"
