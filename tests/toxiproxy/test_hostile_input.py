"""No input crashes the server or stops it proxying: after any of it, it still answers and still carries bytes."""
from __future__ import annotations

import json
import socket
import threading
import time

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chaos.toxiproxy.client import StreamName, ToxiproxyClient
from chaos.toxiproxy.testing import RunningServer
from tests.toxiproxy.tcp import EchoServer, connect, parse_listen, round_trip

pytestmark = pytest.mark.unit

SAFE_STATUSES = {200, 201, 204, 400, 404, 405, 409}
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
NAMES = st.sampled_from(["fuzz", "fuzz2", "", "a b", "ünï", "x" * 300])
# Never a bindable non-loopback listen address, nor a resolvable host name: no traffic leaves loopback.
LISTENS = st.sampled_from(["127.0.0.1:0", "", ":0", "127.0.0.1", "127.0.0.1:-1", "127.0.0.1:70000", "[::1]:x",
                           "[zz]:1", "1.2.3.4.5:1", "127.0.0.1:0:0", "\x00:1"]) | st.text(max_size=12).filter(
    lambda text: ":" not in text)
UPSTREAMS = st.sampled_from(["127.0.0.1:1", "127.0.0.1:0", ":1", "", "nohost"]) | st.text(max_size=12)
TOXIC_TYPES = st.sampled_from(["latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer",
                               "limit_data", "noop", "nope", ""])
ATTRIBUTE_VALUES = st.integers(min_value=-5, max_value=2**65) | st.floats() | st.text(max_size=3) | st.booleans() \
    | st.none()
ATTRIBUTES = st.dictionaries(st.sampled_from(["latency", "jitter", "rate", "delay", "timeout", "bytes",
                                              "average_size", "size_variation", "other"]),
                             ATTRIBUTE_VALUES, max_size=4) | JSON
PROXY_BODIES = st.fixed_dictionaries({}, optional={"name": NAMES | JSON, "listen": LISTENS | JSON,
                                                   "upstream": UPSTREAMS | JSON, "enabled": st.booleans() | JSON})
TOXIC_BODIES = st.fixed_dictionaries({}, optional={
    "name": st.sampled_from(["t1", "t2", ""]) | JSON, "type": TOXIC_TYPES | JSON,
    "stream": st.sampled_from(["upstream", "downstream", "UPSTREAM", "sideways", ""]) | JSON,
    "toxicity": st.floats() | st.integers() | JSON, "attributes": ATTRIBUTES})
REQUESTS = st.one_of(
    st.tuples(st.just("POST"), st.just("/proxies"), PROXY_BODIES | JSON),
    st.tuples(st.sampled_from(["POST", "PATCH"]), st.just("/proxies/fuzz"), PROXY_BODIES | JSON),
    st.tuples(st.just("POST"), st.just("/populate"), st.lists(PROXY_BODIES, max_size=3) | JSON),
    st.tuples(st.just("POST"), st.just("/proxies/fuzz/toxics"), TOXIC_BODIES | JSON),
    st.tuples(st.sampled_from(["POST", "PATCH"]), st.sampled_from(["/proxies/fuzz/toxics/t1",
                                                                  "/proxies/fuzz/toxics/t2"]), TOXIC_BODIES | JSON),
    st.tuples(st.sampled_from(["DELETE", "GET"]), st.sampled_from(["/proxies/fuzz", "/proxies/fuzz/toxics/t1",
                                                                  "/proxies/fuzz/toxics"]), st.none()),
)


def is_bind_failure(response: requests.Response) -> bool:
    """A listen address that cannot be bound is the Go server's 500 with its ``net.Listen`` error, not a crash."""
    return response.status_code == 500 and response.json()["error"].startswith("listen tcp")


@pytest.fixture
def canary(client: ToxiproxyClient, echo: EchoServer) -> str:
    """A proxy the fuzzing never names, whose traffic must keep flowing."""
    return client.create_proxy("canary", str(echo.address))["listen"]


def assert_still_serving(client: ToxiproxyClient, canary: str) -> None:
    assert client.version().startswith("2.")
    with connect(parse_listen(canary)) as sock:
        assert round_trip(sock, b"still proxying")[0] == b"still proxying"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(calls=st.lists(REQUESTS, min_size=1, max_size=6))
def test_fuzzed_api_calls_get_answers_never_crashes(toxiproxy_server: RunningServer, client: ToxiproxyClient,
                                                   canary: str, calls: list[tuple[str, str, object]]) -> None:
    for method, path, body in calls:
        data = None if body is None else json.dumps(body)  # NaN and Infinity included, as JSON5-ish senders do
        response = requests.request(method, toxiproxy_server.url + path, data=data, timeout=5)
        assert response.status_code in SAFE_STATUSES or is_bind_failure(response), (method, path, body, response.text)
        if response.status_code >= 400:
            error = response.json()
            assert error["status"] == response.status_code and error["error"]
    assert_still_serving(client, canary)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_raw_bytes_as_a_body_are_a_400_naming_the_body(toxiproxy_server: RunningServer, client: ToxiproxyClient,
                                                       canary: str, raw: bytes) -> None:
    for path in ("/proxies", "/populate", "/proxies/canary/toxics", "/proxies/canary"):
        response = requests.post(toxiproxy_server.url + path, data=raw, timeout=5)
        assert response.status_code in SAFE_STATUSES, (path, raw, response.text)
    client.reset()
    assert_still_serving(client, canary)


PATHOLOGICAL = {
    "deep array": b"[" * 100_000,
    "deep object": b'{"a":' * 50_000,
    "not utf-8": b"\xff\xfe\x00",
    "lone surrogate": b'{"name": "\\ud800", "upstream": 5}',
    "huge exponent": b"1e999999",
    "long string": b'"' + b"x" * 900_000 + b'"',
}


@pytest.mark.parametrize("raw", list(PATHOLOGICAL.values()), ids=list(PATHOLOGICAL))
def test_pathological_bodies_are_refused_cleanly(toxiproxy_server: RunningServer, client: ToxiproxyClient,
                                                 canary: str, raw: bytes) -> None:
    response = requests.post(toxiproxy_server.url + "/proxies", data=raw, timeout=5)
    assert response.status_code == 400
    assert "bad request body" in response.json()["error"]
    assert_still_serving(client, canary)


def test_an_oversized_body_is_refused_and_the_server_goes_on(toxiproxy_server: RunningServer,
                                                             client: ToxiproxyClient, canary: str) -> None:
    response = requests.post(toxiproxy_server.url + "/proxies", data=b" " * (17 * 1024 * 1024), timeout=10)
    assert response.status_code == 413
    assert response.json()["status"] == 413
    assert_still_serving(client, canary)


def test_garbage_on_the_api_socket_does_not_stop_the_server(toxiproxy_server: RunningServer,
                                                            client: ToxiproxyClient, canary: str) -> None:
    with socket.create_connection((toxiproxy_server.host, toxiproxy_server.port), timeout=5) as sock:
        sock.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
        sock.recv(1024)
    assert_still_serving(client, canary)


def test_toxic_churn_during_traffic_loses_no_bytes(client: ToxiproxyClient, canary: str) -> None:
    """Adding, updating and removing toxics on both streams while bytes flow: every byte arrives, in order, once."""
    sent = bytearray()
    received = bytearray()
    sending = threading.Event()
    sending.set()
    with connect(parse_listen(canary), timeout_s=0.2) as sock:
        def send() -> None:
            for counter in range(100_000):
                if not sending.is_set():
                    return
                piece = bytes((counter + offset) % 251 for offset in range(2048))
                sock.sendall(piece)
                sent.extend(piece)
                time.sleep(0.001)

        def read() -> None:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and (sending.is_set() or len(received) < len(sent)):
                try:
                    data = sock.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    return
                received.extend(data)

        threads = [threading.Thread(target=send), threading.Thread(target=read)]
        for thread in threads:
            thread.start()
        try:
            for round_number in range(40):
                stream: StreamName = "upstream" if round_number % 2 else "downstream"
                client.add_toxic("canary", "latency", name="l", stream=stream, attributes={"latency": 5})
                client.add_toxic("canary", "slicer", name="s", stream=stream,
                                 attributes={"average_size": 512, "size_variation": 100})
                client.add_toxic("canary", "bandwidth", name="b", stream=stream, attributes={"rate": 2000})
                client.update_toxic("canary", "l", attributes={"latency": 1, "jitter": 1})
                client.remove_toxic("canary", "s")
                client.update_toxic("canary", "b", attributes={"rate": 0})
                client.remove_toxic("canary", "b")
                client.remove_toxic("canary", "l")
        finally:
            sending.clear()
            for thread in threads:
                thread.join(25)
    assert len(sent) > 100_000, "traffic flowed during the churn"
    assert bytes(received) == bytes(sent)
