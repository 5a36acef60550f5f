"""Instances of the test service in threads of this process, on ephemeral loopback ports.

Real HTTP through werkzeug's threaded server (not Flask's test client): the
clients under test use their own sessions and race for real.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, make_server

from tests.target_service.app import create_app


@contextmanager
def serving(db_path: Path | str, name: str) -> Iterator[str]:
    """One instance; its base URL while the block runs."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request would drown a failure
    server: BaseWSGIServer = make_server("127.0.0.1", 0, create_app(str(db_path), name), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"target-{name}",
                              daemon=True)  # a short poll: shutdown waits for one
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def running_instances(db_path: Path | str, count: int = 2) -> Iterator[list[str]]:
    """``count`` instances sharing one database file (svc-1, svc-2, ...)."""
    with ExitStack() as stack:
        yield [stack.enter_context(serving(db_path, f"svc-{i + 1}")) for i in range(count)]
