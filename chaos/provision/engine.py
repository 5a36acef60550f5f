"""Find a Docker engine that answers, or start one.

Fresh machines of this kind have only the Docker client: the engine comes from
Debian's ``docker.io`` and is started by hand as root (there is no init
system to do it). We never assume an engine; we ask it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import docker
from docker.errors import DockerException

from chaos.provision.errors import ProvisionError
from chaos.provision.progress import say, step

DEBIAN_PACKAGES = ("docker.io", "docker-compose")
START_TIMEOUT_S = 60.0


def connect() -> docker.DockerClient | None:
    """A client whose engine answered a ping, or None."""
    try:
        client = docker.from_env(timeout=120)
        client.ping()
        return client
    except DockerException:
        return None


def ensure_engine(log_dir: Path) -> docker.DockerClient:
    """Return a client for a running engine, installing and starting one if we may."""
    client = connect()
    if client is not None:
        ensure_compose()
        return client
    if os.environ.get("DOCKER_HOST"):
        raise ProvisionError(
            f"the Docker engine at DOCKER_HOST={os.environ['DOCKER_HOST']} does not answer; "
            "start it, or unset DOCKER_HOST to use a local engine")
    if os.geteuid() != 0:
        raise ProvisionError(
            "no Docker engine answers and we are not root: start dockerd "
            "(sudo dockerd &) or add yourself to the docker group, then run again")
    if shutil.which("dockerd") is None or shutil.which("docker-compose") is None:
        install_debian_packages(DEBIAN_PACKAGES)
    return start_dockerd(log_dir)


def ensure_compose() -> None:
    """The compose CLI runs the stack by hand and in the stack tests; v2 or v1 will do."""
    if shutil.which("docker-compose") or (shutil.which("docker") and subprocess.run(
            ["docker", "compose", "version"], capture_output=True).returncode == 0):
        return
    if os.geteuid() != 0:
        raise ProvisionError("neither `docker compose` nor `docker-compose` is installed; "
                             "run `sudo apt-get install docker-compose`")
    install_debian_packages(("docker-compose",))


def install_debian_packages(packages: tuple[str, ...]) -> None:
    with step(f"installing {' '.join(packages)} with apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for argv in (["apt-get", "update", "-q"],
                     ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]):
            done = subprocess.run(argv, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise ProvisionError(
                    f"`{' '.join(argv)}` failed (exit {done.returncode}): "
                    f"{done.stderr.strip().splitlines()[-1:] or ['no output']}")


def start_dockerd(log_dir: Path) -> docker.DockerClient:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / "dockerd.log"
    with step(f"starting dockerd (log: {log_path})"):
        with open(log_path, "ab") as log:
            subprocess.Popen(["dockerd"], stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            client = connect()
            if client is not None:
                say(f"engine {client.version().get('Version')} answers")
                return client
            time.sleep(0.5)
    tail = log_path.read_text(errors="replace").splitlines()[-5:]
    raise ProvisionError(f"dockerd did not answer within {START_TIMEOUT_S:.0f}s; last log lines: {tail}")
