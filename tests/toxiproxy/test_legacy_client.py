"""toxiproxy-python 0.1.1, unmodified, drives this server end to end."""
from __future__ import annotations

import json

import pytest
import toxiproxy as toxiproxy_python
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists

from tests.toxiproxy.tcp import EchoServer, connect, is_closed_by_peer, parse_listen, round_trip

pytestmark = pytest.mark.unit


def test_it_sees_the_server_running_and_reads_its_version(legacy: toxiproxy_python.Toxiproxy) -> None:
    assert legacy.running() is True
    assert json.loads(legacy.version())["version"].startswith("2.")


def test_it_creates_lists_gets_and_destroys_proxies(legacy: toxiproxy_python.Toxiproxy, echo: EchoServer) -> None:
    proxy = legacy.create(upstream=str(echo.address), name="echo")
    assert proxy.enabled is True and parse_listen(proxy.listen).port > 0
    assert set(legacy.proxies()) == {"echo"}
    assert legacy.get_proxy("echo").listen == proxy.listen
    assert legacy.get_proxy("missing") is None

    with connect(parse_listen(proxy.listen)) as sock:
        assert round_trip(sock, b"ping")[0] == b"ping"

    assert legacy.destroy(proxy) is True
    assert legacy.proxies() == {}


def test_it_cannot_create_a_proxy_twice(legacy: toxiproxy_python.Toxiproxy, echo: EchoServer) -> None:
    legacy.create(upstream=str(echo.address), name="echo")
    with pytest.raises(ProxyExists):
        legacy.create(upstream=str(echo.address), name="echo")


def test_taking_a_proxy_down_refuses_clients_until_it_is_back_up(legacy: toxiproxy_python.Toxiproxy,
                                                                  echo: EchoServer) -> None:
    proxy = legacy.create(upstream=str(echo.address), name="echo")
    address = parse_listen(proxy.listen)
    with proxy.down():
        assert legacy.get_proxy("echo").enabled is False
        with pytest.raises(ConnectionRefusedError):
            connect(address)
    assert legacy.get_proxy("echo").enabled is True
    with connect(address) as sock:
        assert round_trip(sock, b"back")[0] == b"back"


def test_it_adds_lists_and_destroys_toxics(legacy: toxiproxy_python.Toxiproxy, echo: EchoServer) -> None:
    proxy = legacy.create(upstream=str(echo.address), name="echo")
    proxy.add_toxic(type="latency", attributes={"latency": 200})
    proxy.add_toxic(type="limit_data", stream="upstream", name="cap", toxicity=0.5, attributes={"bytes": 10})
    toxics = proxy.toxics()
    assert set(toxics) == {"latency_downstream", "cap"}
    cap = proxy.get_toxic("cap")
    assert (cap.type, cap.stream, cap.toxicity, cap.attributes) == ("limit_data", "upstream", 0.5, {"bytes": 10})

    with connect(parse_listen(proxy.listen)) as sock:
        proxy.destroy_toxic("cap")
        assert round_trip(sock, b"slow")[1] >= 0.15
        assert proxy.destroy_toxic("latency_downstream") is True
        assert round_trip(sock, b"fast")[1] < 0.15
    assert proxy.toxics() == {}


def test_its_errors_map_to_its_exceptions(legacy: toxiproxy_python.Toxiproxy, echo: EchoServer) -> None:
    proxy = legacy.create(upstream=str(echo.address), name="echo")
    with pytest.raises(InvalidToxic):
        proxy.add_toxic(type="not-a-toxic")
    with pytest.raises(NotFound):
        proxy.destroy_toxic("missing")


def test_reset_and_destroy_all(legacy: toxiproxy_python.Toxiproxy, echo: EchoServer) -> None:
    proxy = legacy.create(upstream=str(echo.address), name="echo")
    proxy.add_toxic(type="timeout", attributes={"timeout": 0})
    proxy.disable()
    assert legacy.reset() is True
    restored = legacy.get_proxy("echo")
    assert restored.enabled is True and restored.toxics() == {}
    legacy.destroy_all()
    assert legacy.proxies() == {}


def test_its_populate_creates_what_is_missing(legacy: toxiproxy_python.Toxiproxy, echo: EchoServer) -> None:
    created = legacy.populate([{"name": "one", "upstream": str(echo.address), "listen": "127.0.0.1:0"},
                               {"name": "two", "upstream": str(echo.address), "listen": "127.0.0.1:0"}])
    assert sorted(proxy.name for proxy in created) == ["one", "two"]
    assert set(legacy.proxies()) == {"one", "two"}


def test_a_live_connection_is_closed_when_the_proxy_is_disabled(legacy: toxiproxy_python.Toxiproxy,
                                                                echo: EchoServer) -> None:
    proxy = legacy.create(upstream=str(echo.address), name="echo")
    with connect(parse_listen(proxy.listen)) as sock:
        assert round_trip(sock, b"before")[0] == b"before"
        proxy.disable()
        assert is_closed_by_peer(sock)
