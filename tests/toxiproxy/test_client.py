"""The typed client covers what toxiproxy-python 0.1.1 lacks, and says clearly what went wrong."""
from __future__ import annotations

import socket
import threading

import pytest
import requests

from chaos.toxiproxy.client import ToxiproxyClient, ToxiproxyError
from tests.toxiproxy.tcp import EchoServer, connect, parse_listen, round_trip

pytestmark = pytest.mark.unit


def test_it_creates_lists_updates_and_deletes_proxies(client: ToxiproxyClient, echo: EchoServer) -> None:
    created = client.create_proxy("echo", str(echo.address))
    assert client.proxies() == {"echo": created}
    assert client.proxy("echo") == created
    assert client.disable("echo")["enabled"] is False
    assert client.enable("echo")["enabled"] is True
    client.delete_proxy("echo")
    assert client.proxies() == {}


def test_errors_name_the_call_the_status_and_the_servers_message(client: ToxiproxyClient) -> None:
    with pytest.raises(ToxiproxyError) as missing:
        client.proxy("nope")
    assert (missing.value.status, missing.value.message) == (404, "proxy not found")
    assert "GET /proxies/nope -> 404: proxy not found" in str(missing.value)

    client.create_proxy("a", "127.0.0.1:1")
    with pytest.raises(ToxiproxyError) as taken:
        client.create_proxy("a", "127.0.0.1:1")
    assert taken.value.status == 409

    with pytest.raises(ToxiproxyError) as bad:
        client.add_toxic("a", "latency", attributes={"latency": -1})
    assert bad.value.status == 400 and "attributes.latency" in bad.value.message


def test_it_adds_updates_lists_and_removes_toxics(client: ToxiproxyClient, echo: EchoServer) -> None:
    client.create_proxy("echo", str(echo.address))
    added = client.add_toxic("echo", "latency", stream="upstream", attributes={"latency": 100, "jitter": 10})
    assert added["name"] == "latency_upstream"
    updated = client.update_toxic("echo", "latency_upstream", attributes={"latency": 50}, toxicity=0.5)
    assert updated["attributes"] == {"latency": 50, "jitter": 10} and updated["toxicity"] == 0.5
    assert client.toxics("echo") == [updated]
    assert client.toxic("echo", "latency_upstream") == updated
    client.remove_toxic("echo", "latency_upstream")
    assert client.toxics("echo") == []


def test_a_toxic_applied_for_a_block_is_removed_even_if_the_block_fails(client: ToxiproxyClient,
                                                                        echo: EchoServer) -> None:
    address = parse_listen(client.create_proxy("echo", str(echo.address))["listen"])
    with pytest.raises(RuntimeError):
        with client.toxic_applied("echo", "latency", attributes={"latency": 200}):
            with connect(address) as sock:
                assert round_trip(sock, b"slow")[1] >= 0.19
            raise RuntimeError("the block failed")
    assert client.toxics("echo") == []


def test_populate_and_reset(client: ToxiproxyClient, echo: EchoServer) -> None:
    proxies = client.populate([{"name": "one", "upstream": str(echo.address), "listen": "127.0.0.1:0"},
                               {"name": "two", "upstream": str(echo.address), "enabled": False}])
    assert [proxy["name"] for proxy in proxies] == ["one", "two"]
    client.add_toxic("one", "timeout")
    client.reset()
    assert all(proxy["enabled"] and not proxy["toxics"] for proxy in client.proxies().values())


def test_names_are_quoted_so_they_cannot_reach_another_route(client: ToxiproxyClient) -> None:
    client.create_proxy("a/toxics", "127.0.0.1:1")
    assert client.proxy("a/toxics")["name"] == "a/toxics"
    client.delete_proxy("a/toxics")


def test_a_server_that_never_answers_times_out_instead_of_hanging() -> None:
    silent = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    acceptor = threading.Thread(target=lambda: accepted.append(silent.accept()[0]))
    acceptor.start()
    try:
        with ToxiproxyClient(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout_s=0.3) as client:
            with pytest.raises(requests.Timeout):
                client.version()
    finally:
        acceptor.join(5)
        for sock in accepted:
            sock.close()
        silent.close()


def test_an_empty_populate_is_an_empty_list_although_the_server_answers_null(client: ToxiproxyClient) -> None:
    assert client.populate([]) == []
