"""The reset between scenarios tells a stuck instance (runs, never answers) from one that answers 503."""
from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chaos.cluster import reset

pytestmark = pytest.mark.unit


class Degraded(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


class FakeCluster:
    def __init__(self, urls: dict[str, str]) -> None:
        self.urls = urls

    def api_urls(self) -> dict[str, str]:
        return self.urls


def test_an_instance_that_accepts_but_never_answers_is_stuck_and_a_503_is_not(monkeypatch) -> None:
    monkeypatch.setattr(reset, "ANSWER_S", 0.5)
    answering = ThreadingHTTPServer(("127.0.0.1", 0), Degraded)
    threading.Thread(target=answering.serve_forever, daemon=True).start()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel accepts; nobody ever reads or answers
    try:
        cluster = FakeCluster({"api_1": f"http://127.0.0.1:{answering.server_port}",
                               "api_2": f"http://127.0.0.1:{silent.getsockname()[1]}"})
        assert reset.stuck_instances(cluster) == ["api_2"]  # type: ignore[arg-type]
    finally:
        answering.shutdown()
        silent.close()
