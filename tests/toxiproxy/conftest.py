"""Fixtures for the fault proxy's tests: a fresh server per test, an echo upstream, the clients."""
from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import toxiproxy as toxiproxy_python

from chaos.toxiproxy.client import ToxiproxyClient
from chaos.toxiproxy.testing import RunningServer, running_server
from tests.toxiproxy.tcp import EchoServer, echo_server

SEED = 20240601
LOOP = os.environ.get("TOXIPROXY_TEST_LOOP", "asyncio")
"""``TOXIPROXY_TEST_LOOP=uvloop`` runs every in-process server on uvloop, the loop the server process prefers."""


@pytest.fixture
def toxiproxy_server() -> Iterator[RunningServer]:
    """A server of its own for each test, so no test sees another's proxies or connections."""
    with running_server(seed=SEED, loop=LOOP) as server:
        yield server


@pytest.fixture
def client(toxiproxy_server: RunningServer) -> Iterator[ToxiproxyClient]:
    with ToxiproxyClient(toxiproxy_server.url) as client:
        yield client


@pytest.fixture
def http(toxiproxy_server: RunningServer) -> Iterator[Http]:
    with requests.Session() as session:
        yield Http(toxiproxy_server.url, session)


@pytest.fixture
def legacy(toxiproxy_server: RunningServer) -> toxiproxy_python.Toxiproxy:
    """toxiproxy-python 0.1.1, unmodified, pointed at this test's server (its address is class state)."""
    server = toxiproxy_python.Toxiproxy()
    server.update_api_consumer(toxiproxy_server.host, toxiproxy_server.port)
    return server


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    with echo_server() as server:
        yield server


class Http:
    """Raw API calls, for asserting status codes and bodies exactly."""

    def __init__(self, url: str, session: requests.Session) -> None:
        self.url = url
        self.session = session

    def __call__(self, method: str, path: str, *, json: Any = None, data: bytes | str | None = None,
                 headers: dict[str, str] | None = None) -> requests.Response:
        return self.session.request(method, self.url + path, json=json, data=data, headers=headers, timeout=5)
