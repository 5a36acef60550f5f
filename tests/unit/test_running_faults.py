"""An already-running target's dependency links and process faults, on real local processes (no Docker).

The "service" is a tiny HTTP server in a child process that, on each request, asks its "redis" (a tiny TCP
server in this process) for PONG through the address its environment names: the environment
``Running.environment`` gives, so it is started before the links exist, as a user would start theirs.
"""
from __future__ import annotations

import os
import random
import signal
import socket
import socketserver
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from chaos.cluster.controller import ClusterError
from chaos.cluster.running import RunningTarget, UnsupportedFault
from chaos.nemesis.heal import active_faults, heal
from chaos.nemesis.link_faults import Partition, latency
from chaos.nemesis.process_faults import Kill, Pause
from chaos.nemesis.runner import Nemesis
from chaos.target.errors import ProfileError
from chaos.target.model import Running, RunningDependency, RunningProcess
from chaos.target.needs import Needs, faults_missing, unmet
from chaos.target.profile import parse_profile

pytestmark = pytest.mark.unit

SERVICE = textwrap.dedent('''\
    import os, socket, sys
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    port, pid_file = int(sys.argv[1]), sys.argv[2]
    host, _, dep_port = os.environ["DEP_URL"].split("//")[1].split("/")[0].rpartition(":")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            try:
                with socket.create_connection((host, int(dep_port)), timeout=3) as s:
                    s.sendall(b"PING\\n")
                    body, code = s.recv(16) or b"closed", 200
            except OSError as exc:
                body, code = str(exc).encode(), 503
            code = 503 if body == b"closed" else code
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    with open(pid_file + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.replace(pid_file + ".tmp", pid_file)
    server.serve_forever()
    ''')


def free_ports(count: int) -> list[int]:
    """``count`` consecutive free loopback ports (a base for proxy_port_base)."""
    for _ in range(200):
        base = random.randint(30000, 45000)
        sockets = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                s.bind(("127.0.0.1", port))
                sockets.append(s)
            return list(range(base, base + count))
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free ports")


class Pong(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while self.request.recv(64):
            self.request.sendall(b"PONG")


@pytest.fixture
def redis() -> Iterator[str]:
    """A stand-in for Redis: answers PONG to whatever it gets."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Pong)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def wait_port(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


class Services:
    """Child processes of the service, stopped at the end by the pids they wrote (never by name)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.script = folder / "service.py"
        self.script.write_text(SERVICE)
        self.pid_files: list[Path] = []

    def argv(self, port: int) -> list[str]:
        return [sys.executable, str(self.script), str(port), str(self.pid_file(port))]

    def pid_file(self, port: int) -> Path:
        return self.folder / f"service-{port}.pid"

    def start(self, port: int, environment: dict[str, str]) -> None:
        self.pid_files.append(self.pid_file(port))
        subprocess.Popen(self.argv(port), env={**os.environ, **environment}, start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(port)
        # the service binds before it writes its pid file: under load a connection gets in between
        deadline = time.monotonic() + 10.0
        while not self.pid_file(port).exists():
            assert time.monotonic() < deadline, f"the service on {port} wrote no pid file"
            time.sleep(0.01)

    def stop_all(self) -> None:
        for pid_file in self.pid_files:
            try:
                pid = int(pid_file.read_text())
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGKILL)
            except (OSError, ValueError):
                pass


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    started = Services(tmp_path)
    yield started
    started.stop_all()


def profile_text(instances: list[str], running: dict) -> str:
    return yaml.safe_dump({
        "name": "running-deps",
        "operations": {"health": {"method": "GET", "path": "/"},
                       "list_invoices": {"method": "GET", "path": "/u/{user_id}", "extract": {"invoices": "[*]"}}},
        "run": {"running": {"instances": instances, **running}}})


def get(url: str, timeout: float = 5.0) -> requests.Response:
    return requests.get(url + "/", timeout=timeout)


# the profile's keys and what they mean

def test_link_ports_are_derived_from_the_base_or_given_and_env_points_each_variable_at_its_link() -> None:
    run = parse_profile(profile_text(["http://127.0.0.1:5001", "http://127.0.0.1:5002"], {
        "proxy_port_base": 23000,
        "dependencies": {"redis": {"url": "redis://127.0.0.1:6379/0", "env": ["REDIS_URL", "BROKER_URL"]},
                         "postgres": {"url": "postgresql://app:pw@127.0.0.1:5432/app", "env": ["DATABASE_URL"],
                                      "listen": [25432, 25433]}}})).run
    assert isinstance(run, Running) and run.names == ("api_1", "api_2")
    assert [run.link_port(i, "redis") for i in run.names] == [23001, 23003]
    assert [run.link_port(i, "postgres") for i in run.names] == [25432, 25433]
    assert run.environment("api_2") == {"DATABASE_URL": "postgresql://app:pw@127.0.0.1:25433/app",
                                        "REDIS_URL": "redis://127.0.0.1:23003/0",
                                        "BROKER_URL": "redis://127.0.0.1:23003/0"}
    short = parse_profile(profile_text(["http://127.0.0.1:5001"], {"dependencies": {"redis": "127.0.0.1:6379"}})).run
    assert short.dependencies == {"redis": RunningDependency("127.0.0.1:6379")}  # type: ignore[union-attr]
    assert short.link_port("api_1", "redis") == 21001 and short.environment("api_1") == {}  # type: ignore[union-attr]
    assert RunningDependency("h:1", env=("ADDR",)).value_for("127.0.0.1:9") == "127.0.0.1:9"


def test_bad_running_keys_are_each_reported_with_their_field(tmp_path: Path) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile(profile_text(["http://127.0.0.1:5001", "http://127.0.0.1:5002"], {
            "proxy_port_base": 80,
            "dependencies": {"redis": {"url": "redis://127.0.0.1/0", "listen": [1]},
                             "postgres": {"address": "127.0.0.1:5432", "url": "postgresql://h:1/x"},
                             "mongo": "127.0.0.1:27017"},
            "processes": {"api_3": {"pid_file": "x"}, "api_1": {"pid_file": "a", "pid_command": ["cat", "a"]},
                          "api_2": {"pid_command": "cat a", "restart": [], "tree": "yes"}}}))
    text = str(caught.value)
    for expected in ("run.running.proxy_port_base: must be a port number 1024-65535",
                     "run.running.dependencies.redis.url: 'redis://127.0.0.1/0' is not a URL with a host and a port",
                     "run.running.dependencies.postgres: give exactly one of url",
                     "run.running.dependencies.mongo: unknown key",
                     "run.running.processes.api_3: no such process: the instances are api_1, api_2",
                     "run.running.processes.api_1: give exactly one of pid_file",
                     "run.running.processes.api_2.pid_command: must be a non-empty list",
                     "run.running.processes.api_2.restart: must be a non-empty list",
                     "run.running.processes.api_2.tree: must be true or false"):
        assert expected in text, text
    with pytest.raises(ProfileError, match=r"listen: must be a list of 2 port number"):
        parse_profile(profile_text(["http://127.0.0.1:5001", "http://127.0.0.1:5002"],
                                   {"dependencies": {"redis": {"address": "127.0.0.1:6379", "listen": [30001]}}}))
    with pytest.raises(ProfileError, match=r"api_1->redis and instance api_1 would both listen on 21001"):
        parse_profile(profile_text(["http://127.0.0.1:21001"], {"dependencies": {"redis": "127.0.0.1:6379"}}))
    relative = parse_profile(profile_text(["http://127.0.0.1:5001"], {"processes": {"api_1": {
        "pid_file": "run/api.pid", "restart": ["./start.sh"]}}}), tmp_path / "p.yaml").run
    assert relative.processes["api_1"] == RunningProcess(tmp_path / "run/api.pid", (), ("./start.sh",))  # type: ignore[union-attr]


def test_needs_allow_dependency_links_and_process_faults_only_where_the_profile_names_them() -> None:
    urls = ["http://127.0.0.1:5001", "http://127.0.0.1:5002"]
    bare = parse_profile(profile_text(urls, {}))
    reasons = faults_missing(bare, ["redis_link", "pause", "kill", "client_link", "disconnect"])
    assert set(reasons) == {"redis_link", "pause", "kill", "disconnect"}
    assert "names no redis to put links in front of (run.running.dependencies.redis)" in reasons["redis_link"]
    assert "does not say how to find the process of api_1, api_2" in reasons["pause"]
    given = parse_profile(profile_text(urls, {
        "dependencies": {"redis": "127.0.0.1:6379"},
        "processes": {"api_1": {"pid_file": "/tmp/a.pid", "restart": ["a"]}, "api_2": {"pid_file": "/tmp/b.pid"}}}))
    reasons = faults_missing(given, ["redis_link", "postgres_link", "pause", "kill", "scale"])
    assert set(reasons) == {"postgres_link", "kill", "scale"}
    assert "no restart command for api_2" in reasons["kill"]
    assert unmet(given, Needs(faults={"redis_link", "pause", "client_link"})) == []


# dependency links: the service is started first, with the addresses `chaos target env` gives

def test_a_service_started_with_the_env_reaches_its_dependency_through_a_link_that_can_be_faulted(
        redis: str, services: Services) -> None:
    port, base, _ = free_ports(3)
    run = parse_profile(profile_text([f"http://127.0.0.1:{port}"], {
        "proxy_port_base": base, "dependencies": {"redis": {"url": f"redis://{redis}/0", "env": ["DEP_URL"]}}})).run
    assert isinstance(run, Running)
    services.start(port, run.environment("api_1"))   # before any link exists
    assert get(f"http://127.0.0.1:{port}").status_code == 503
    with RunningTarget(run) as target:
        assert target.instances["api_1"].links == {"redis": "api_1->redis"}
        assert target.toxiproxy.proxy("api_1->redis")["listen"] == f"127.0.0.1:{base + 1}"  # type: ignore[union-attr]
        url = target.api_urls()["api_1"]
        assert (get(url).status_code, get(url).text) == (200, "PONG")
        nemesis = Nemesis(target, lambda *_: None)  # type: ignore[arg-type]
        nemesis.start_fault(Partition("api_1->redis"))
        assert get(url).status_code == 503
        nemesis.stop_fault(nemesis.active[0])
        assert get(url).status_code == 200
        slow = latency("api_1->redis", 400)
        nemesis.start_fault(slow)
        started = time.monotonic()
        assert get(url).status_code == 200 and time.monotonic() - started >= 0.35
        with pytest.raises(UnsupportedFault, match=r"no link 'api_1->postgres': the target is already running "
                                                   r"\(run.running\) and its profile names no postgres"):
            nemesis.start_fault(Partition("api_1->postgres"))
        assert [str(f) for f in active_faults(target)] == [  # type: ignore[arg-type]
            "latency api_1->redis (downstream, jitter=0, latency=400)"]
        nemesis.heal()
        assert active_faults(target) == []  # type: ignore[arg-type]


def test_a_link_port_already_taken_is_refused_naming_the_link_and_what_to_do(redis: str) -> None:
    (base,) = free_ports(1)
    taken = socket.socket()
    taken.bind(("127.0.0.1", base + 1))
    taken.listen()
    try:
        run = Running(("http://127.0.0.1:1",), {"redis": RunningDependency(redis)}, proxy_port_base=base)
        target = RunningTarget(run)
        with pytest.raises(ClusterError, match=rf"cannot open the link api_1->redis on 127.0.0.1:{base + 1}.*"
                                               "proxy_port_base"):
            target.start()
        assert target.toxiproxy is None  # what was started is gone
    finally:
        taken.close()


# process faults, by the pids the profile names

def test_pause_kill_and_restart_act_on_the_named_process_and_healing_brings_it_back(
        redis: str, services: Services) -> None:
    port, other = free_ports(2)
    pid_file = services.pid_file(port)
    run = Running((f"http://127.0.0.1:{port}", f"http://127.0.0.1:{other}"),
                  {"redis": RunningDependency(redis, f"tcp://{redis}/0", ("DEP_URL",))},
                  {"api_1": RunningProcess(pid_file, restart=tuple(services.argv(port)))},
                  proxy_port_base=free_ports(4)[0])
    environment = run.environment("api_1")
    with RunningTarget(run) as target:
        services.start(port, environment)
        url, process = target.api_urls()["api_1"], target.container("api_1")
        first = int(pid_file.read_text())
        assert process.pids() == [first] and get(url).status_code == 200
        nemesis = Nemesis(target, lambda *_: None)  # type: ignore[arg-type]
        nemesis.start_fault(Pause("api_1"))
        process.reload()
        assert process.status == "paused"
        with pytest.raises(requests.Timeout):
            get(url, timeout=0.5)
        assert [str(f) for f in active_faults(target)] == ["paused api_1"]  # type: ignore[arg-type]
        nemesis.heal()   # SIGCONT
        assert get(url).status_code == 200
        kill = Kill("api_1")
        nemesis.start_fault(kill)
        deadline = time.monotonic() + 5
        while process.pids() and time.monotonic() < deadline:
            time.sleep(0.05)
        process.reload()
        assert process.status == "exited"
        with pytest.raises(requests.ConnectionError):
            get(url)
        nemesis.stop_fault(kill)   # the restart command, then until its port answers
        second = int(pid_file.read_text())
        assert second != first and get(url).status_code == 200
        assert f"DEP_URL={environment['DEP_URL']}".encode() in Path(f"/proc/{second}/environ").read_bytes()
        target.restart("api_1")
        assert int(pid_file.read_text()) not in (first, second) and get(url).status_code == 200
        with pytest.raises(UnsupportedFault, match=r"cannot pause api_2: .*run.running.processes.api_2"):
            target.pause("api_2")
        target.unpause("api_2")   # healing every instance leaves one it cannot find alone
        with pytest.raises(UnsupportedFault, match="cannot disconnect api_1"):
            target.disconnect("api_1")


def test_heal_finds_a_paused_instance_of_a_running_target_and_resumes_it(redis: str, services: Services) -> None:
    port, base = free_ports(1)[0], free_ports(4)[0]
    pid_file = services.pid_file(port)
    dependency = RunningDependency(redis, f"tcp://{redis}/0", ("DEP_URL",))
    run = Running((f"http://127.0.0.1:{port}",), {"redis": dependency},
                  {"api_1": RunningProcess(pid_command=("cat", str(pid_file)))}, proxy_port_base=base)
    with RunningTarget(run) as target:
        services.start(port, run.environment("api_1"))
        target.pause("api_1")
        assert [f.target for f in heal(target)] == ["api_1"]  # type: ignore[arg-type]
        assert get(target.api_urls()["api_1"]).status_code == 200
        target.kill("api_1")
        with pytest.raises(UnsupportedFault, match=r"cannot start api_1 again: .*no restart command"):
            target.start_again("api_1")


def test_a_pid_source_that_names_no_real_pid_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.pid").write_text("1\n")
    run = Running(("http://127.0.0.1:1",), processes={"api_1": RunningProcess(tmp_path / "bad.pid"),
                                                      "redis": RunningProcess(tmp_path / "none.pid")})
    target = RunningTarget(run)
    with pytest.raises(ClusterError, match="gave '1': not the pid of api_1"):
        target.pause("api_1")
    with pytest.raises(ClusterError, match="redis is not running"):
        target.pause("redis")
    target.container("redis").reload()
    assert target.container("redis").status == "exited"
    with pytest.raises(UnsupportedFault, match="cannot reach worker_1"):
        target.container("worker_1")


def test_tree_signals_the_named_process_and_its_descendants(tmp_path: Path) -> None:
    parent = subprocess.Popen([sys.executable, "-c", "import subprocess, sys, time; "
                               "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
                               "time.sleep(60)"], start_new_session=True)
    try:
        (tmp_path / "p.pid").write_text(str(parent.pid))
        target = RunningTarget(Running(("http://127.0.0.1:1",), processes={
            "api_1": RunningProcess(tmp_path / "p.pid")}))
        deadline = time.monotonic() + 5
        while len(target.container("api_1").pids()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        pids = target.container("api_1").pids()
        assert pids[0] == parent.pid and len(pids) == 2
        target.pause("api_1")
        time.sleep(0.1)
        target.container("api_1").reload()
        assert target.container("api_1").status == "paused"
        target.kill("api_1")
        parent.wait(5)
        deadline = time.monotonic() + 5
        while os.path.exists(f"/proc/{pids[1]}") and time.monotonic() < deadline:
            time.sleep(0.05)
        state = Path(f"/proc/{pids[1]}/stat").read_text().rpartition(")")[2].split()[0] \
            if os.path.exists(f"/proc/{pids[1]}") else "gone"
        assert state in ("gone", "Z")
    finally:
        os.killpg(parent.pid, signal.SIGKILL) if parent.poll() is None else None
