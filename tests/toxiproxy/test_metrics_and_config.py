"""``/metrics`` with the Go server's metric names, and ``--config FILE`` proxies created at start."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests

from chaos.toxiproxy.testing import running_server
from tests.toxiproxy.tcp import EchoServer, connect, parse_listen, round_trip, wait_until

pytestmark = pytest.mark.unit


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one series in Prometheus text format, or ``None`` if it is not there."""
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and dict(re.findall(r'(\w+)="([^"]*)"', match.group(1))) == labels:
            return float(match.group(2))
    return None


def test_metrics_are_off_unless_asked_for_as_in_go() -> None:
    with running_server() as server:
        assert requests.get(server.url + "/metrics", timeout=5).status_code == 404


def test_proxy_metrics_count_bytes_each_way_with_gos_names_and_labels(echo: EchoServer) -> None:
    with running_server(proxy_metrics=True) as server:
        proxy = requests.post(server.url + "/proxies", json={"name": "echo", "upstream": str(echo.address),
                                                             "listen": "127.0.0.1:0"}, timeout=5).json()
        labels = {"listener": proxy["listen"], "proxy": "echo", "upstream": str(echo.address)}
        with connect(parse_listen(proxy["listen"])) as sock:
            assert round_trip(sock, b"x" * 1000)[0] == b"x" * 1000

            def counted() -> bool:
                text = requests.get(server.url + "/metrics", timeout=5).text
                return all(sample(text, f"toxiproxy_proxy_{kind}_bytes_total", direction=direction, **labels) == 1000
                           for kind in ("received", "sent") for direction in ("upstream", "downstream"))

            assert wait_until(counted)
        response = requests.get(server.url + "/metrics", timeout=5)
        assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        assert "# TYPE toxiproxy_proxy_received_bytes_total counter" in response.text
        assert "_created" not in response.text
        assert "process_" not in response.text, "runtime metrics are a separate switch"


def test_runtime_metrics_export_the_process(echo: EchoServer) -> None:
    with running_server(runtime_metrics=True) as server:
        text = requests.get(server.url + "/metrics", timeout=5).text
        assert "process_resident_memory_bytes" in text and "toxiproxy_proxy_" not in text


def test_a_config_file_creates_its_proxies_before_the_api_answers(tmp_path: Path, echo: EchoServer) -> None:
    config = tmp_path / "toxiproxy.json"
    config.write_text(json.dumps([{"name": "echo", "upstream": str(echo.address), "listen": "127.0.0.1:0"},
                                  {"name": "off", "upstream": "127.0.0.1:1", "enabled": False}]))
    with running_server(config_file=str(config)) as server:
        proxies = requests.get(server.url + "/proxies", timeout=5).json()
        assert set(proxies) == {"echo", "off"} and proxies["off"]["enabled"] is False
        with connect(parse_listen(proxies["echo"]["listen"])) as sock:
            assert round_trip(sock, b"from the config")[0] == b"from the config"


@pytest.mark.parametrize("content", [None, "{not json", '[{"name": "no upstream"}]'])
def test_a_missing_or_bad_config_file_is_logged_and_the_server_starts_empty(tmp_path: Path, content: str | None,
                                                                            caplog: pytest.LogCaptureFixture) -> None:
    config = tmp_path / "toxiproxy.json"
    if content is not None:
        config.write_text(content)
    with running_server(config_file=str(config)) as server:
        assert requests.get(server.url + "/proxies", timeout=5).json() == {}
    assert any(str(config) in record.getMessage() for record in caplog.records if record.levelname == "ERROR")
