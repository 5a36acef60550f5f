"""An HTTP outcome is fail only when nothing can have happened; a write that may have happened is info."""
from __future__ import annotations

import socket

import pytest
import requests
import urllib3.exceptions

from chaos.history import classify

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("status, method, outcome", [
    (200, "POST", "ok"), (201, "POST", "ok"), (202, "POST", "ok"), (204, "DELETE", "ok"), (200, "GET", "ok"),
    (400, "POST", "fail"), (401, "POST", "fail"), (403, "POST", "fail"), (404, "POST", "fail"),
    (409, "POST", "fail"), (422, "POST", "fail"), (429, "POST", "fail"), (404, "GET", "fail"),
    # a 5xx after a write was sent: the write may have happened (conservative even for redis_unavailable)
    (500, "POST", "info"), (502, "POST", "info"), (503, "POST", "info"), (504, "PUT", "info"),
    (503, "GET", "fail"), (500, "HEAD", "fail"),
    (302, "POST", "info"), (302, "GET", "fail"),
    (None, "POST", "info"), (None, "GET", "fail"),
])
def test_statuses(status: int | None, method: str, outcome: str) -> None:
    assert classify(status, None, method) == outcome


@pytest.mark.parametrize("exc, method, outcome", [
    (requests.ReadTimeout("read timed out"), "POST", "info"),
    (requests.ConnectionError("('Connection aborted.', RemoteDisconnected('Remote end closed connection'))"),
     "POST", "info"),
    (requests.ConnectionError("('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))"),
     "POST", "info"),
    (requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead"), "POST", "info"),
    (TimeoutError("timed out"), "POST", "info"),
    (socket.timeout("timed out"), "PATCH", "info"),
    (RuntimeError("anything unforeseen"), "POST", "info"),
    # nothing left the client: certainly not done
    (requests.ConnectTimeout("connect timed out"), "POST", "fail"),
    (requests.ConnectionError("HTTPConnectionPool: Max retries exceeded (Caused by NewConnectionError("
                              "'Failed to establish a new connection: [Errno 111] Connection refused'))"),
     "POST", "fail"),
    (ConnectionRefusedError(111, "Connection refused"), "POST", "fail"),
    (urllib3.exceptions.NewConnectionError(None, "Failed to establish a new connection"), "POST", "fail"),
    (requests.exceptions.InvalidURL("bad"), "POST", "fail"),
    # a read changes nothing, whatever happened to it
    (requests.ReadTimeout("read timed out"), "GET", "fail"),
])
def test_exceptions(exc: BaseException, method: str, outcome: str) -> None:
    assert classify(None, exc, method) == outcome


def test_exceptions_may_be_given_by_class_name_as_a_history_stores_them() -> None:
    assert classify(None, "ReadTimeout", "POST") == "info"
    assert classify(None, "ConnectTimeout", "POST") == "fail"
    assert classify(None, "ReadTimeout", "GET") == "fail"


def test_the_write_flag_overrides_the_method() -> None:
    assert classify(503, None, "POST", write=False) == "fail"
    assert classify(None, "ReadTimeout", "GET", write=True) == "info"


def test_history_does_not_import_an_http_client() -> None:
    import subprocess
    import sys

    code = "import sys, chaos.history; print('requests' in sys.modules, 'urllib3' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
