"""The reset between scenarios tells a well instance from one a fault left stuck or degraded."""
from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chaos.cluster import reset
from chaos.target import DEFAULT_PROFILE, load_profile

pytestmark = pytest.mark.unit


def answering(status: int) -> type[BaseHTTPRequestHandler]:
    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            body = b'{"status": "ok", "instance": "api_1", "redis": "ok", "db": "ok"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    return Health


@contextmanager
def serving(status: int) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), answering(status))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


class FakeCluster:
    def __init__(self, urls: dict[str, str]) -> None:
        self.urls = urls

    def api_urls(self) -> dict[str, str]:
        return self.urls


def test_an_instance_silent_or_still_degraded_after_the_heal_is_unwell_and_a_healthy_one_is_not(monkeypatch) -> None:
    monkeypatch.setattr(reset, "WELL_S", 0.6)
    monkeypatch.setattr(reset, "CALL_S", 0.3)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel accepts; nobody ever reads or answers
    try:
        with serving(200) as well, serving(503) as degraded:
            cluster = FakeCluster({"api_1": well, "api_2": degraded,
                                   "api_3": f"http://127.0.0.1:{silent.getsockname()[1]}"})
            unwell = reset.unwell_instances(cluster, load_profile(DEFAULT_PROFILE))  # type: ignore[arg-type]
    finally:
        silent.close()
    assert sorted(unwell) == ["api_2", "api_3"]
    assert "503" in unwell["api_2"] and "no answer" in unwell["api_3"]


class Admin:
    """An admin whose reset answers ``statuses`` in turn (the last one for good)."""

    def __init__(self, *statuses: int) -> None:
        self.profile = load_profile(DEFAULT_PROFILE)
        self.statuses = list(statuses)
        self.calls = 0

    def offers(self, operation: str) -> bool:
        return operation == "reset"

    def call(self, operation: str):
        from chaos.target.reply import read

        self.calls += 1
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return read(self.profile, operation, status, {}, {} if status < 300 else {"error": "db_unavailable"})


def test_a_reset_without_a_definite_answer_is_tried_again_until_it_clears(monkeypatch) -> None:
    monkeypatch.setattr(reset.time, "sleep", lambda s: None)
    admin = Admin(503, 503, 200)
    assert reset.clear_data(admin) is None
    assert admin.calls == 3


def test_a_refused_reset_fails_at_once_and_one_that_never_answers_fails_at_the_deadline(monkeypatch) -> None:
    monkeypatch.setattr(reset.time, "sleep", lambda s: None)
    refused = Admin(400)
    with pytest.raises(AssertionError, match="reset failed: 400"):
        reset.clear_data(refused)
    assert refused.calls == 1
    clock = iter(range(0, 1000, 10))
    monkeypatch.setattr(reset.time, "monotonic", lambda: next(clock))
    silent = Admin(503)
    with pytest.raises(AssertionError, match="reset failed: 503"):
        reset.clear_data(silent)
    assert 2 <= silent.calls <= reset.RESET_S / 10 + 2
