"""`chaos doctor`: everything a chaos run needs, checked without changing anything, with what to fix.

On-call engineers run the suite rarely and on machines that drift; the
first thing a drill should not have to teach them is that dockerd is not
running. Each check answers yes or no and, when no, says what to type.
"""
from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import docker
import requests

from chaos.cluster.controller import (OWNER_LABEL, PROJECT_LABEL, Cluster, ClusterError,
                                      _owner_alive, ensure_local_engine)
from chaos.provision.base_image import BASE_IMAGE
from chaos.provision.engine import connect
from chaos.provision.images import REPOSITORY, content_hash
from chaos.provision.pipeline import CACHE, ROOT
from chaos.provision.wheelhouse import wheelhouse_folder

MIN_FREE_GIB = 3.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def checks() -> Iterator[Check]:
    client = connect()
    if client is None:
        yield Check("engine", False, "no Docker engine answers",
                    "run `chaos provision` (as root it installs and starts dockerd), or start dockerd yourself")
        return
    yield Check("engine", True, f"Docker {client.version().get('Version', '?')} at {client.api.base_url}")
    yield _guard("engine is local", lambda: ensure_local_engine(client, allow_remote=False),
                 "this machine's engine", "unset DOCKER_HOST, or pass --chaos-allow-remote if you mean it")
    yield _image(client, BASE_IMAGE, "base image")
    yield from _runtime_image(client)
    yield from _stacks(client)
    yield _free_disk(client)
    yield Check("compose CLI", bool(shutil.which("docker-compose")) or bool(shutil.which("docker")),
                "docker-compose or docker compose (for running the compose file by hand)",
                "apt-get install docker-compose")
    yield Check("locust", importlib.util.find_spec("locust") is not None, "for `chaos load`",
                "run scripts/bootstrap.sh (it installs the project with its dependencies)")


def _guard(name: str, action: Callable[[], object], detail: str, fix: str) -> Check:
    try:
        action()
    except ClusterError as exc:
        return Check(name, False, str(exc), fix)
    return Check(name, True, detail)


def _image(client: docker.DockerClient, tag: str, name: str) -> Check:
    try:
        client.images.get(tag)
        return Check(name, True, tag)
    except docker.errors.ImageNotFound:
        return Check(name, False, f"{tag} is missing", "run `chaos provision` (pulls it, else builds it with "
                                                      "debootstrap)")


def _runtime_image(client: docker.DockerClient) -> Iterator[Check]:
    folder, requirements = wheelhouse_folder(ROOT / "pyproject.toml", CACHE)
    if not (folder / ".complete").exists():
        yield Check("wheelhouse", False, f"{folder} is not built", "run `chaos provision`")
        return
    yield Check("wheelhouse", True, str(folder))
    check = _image(client, f"{REPOSITORY}:{content_hash(ROOT, folder, requirements)}", "runtime image")
    yield check if check.ok else Check(check.name, False, f"{check.detail} (billing/ or the Dockerfile "
                                                          "changed since the last build)", check.fix)


def _stacks(client: docker.DockerClient) -> Iterator[Check]:
    containers = client.containers.list(all=True, filters={"label": [PROJECT_LABEL, OWNER_LABEL]})
    orphans = [c for c in containers if not _owner_alive(c.labels[OWNER_LABEL])]
    yield Check("leftovers", not orphans, f"{len(orphans)} containers of killed runs" if orphans else
                "no containers of killed runs", "run `chaos down` (or any chaos run: it removes them first)")
    try:
        cluster = Cluster.attach(client=client)
    except ClusterError as exc:
        yield Check("stack of `chaos up`", False, str(exc), "run `chaos down`, then `chaos up`")
        return
    if cluster is None:
        yield Check("stack of `chaos up`", True, "none running (`chaos up` starts one)")
        return
    try:
        answered = requests.get(f"{cluster.lb_url}/healthz", timeout=5).status_code == 200
    except requests.RequestException:
        answered = False
    yield Check("stack of `chaos up`", answered, f"{cluster.run_id}: lb {cluster.lb_url} "
                + ("answers /healthz" if answered else "does not answer /healthz"),
                "" if answered else "look at `chaos status`; `chaos heal --all` or `chaos down && chaos up`")


def _free_disk(client: docker.DockerClient) -> Check:
    root = client.info().get("DockerRootDir", "/var/lib/docker")
    try:
        free_gib = shutil.disk_usage(root).free / 2**30
    except OSError:
        return Check("disk", True, f"cannot see {root} from here")
    return Check("disk", free_gib >= MIN_FREE_GIB, f"{free_gib:.1f} GiB free under {root}",
                 f"free at least {MIN_FREE_GIB:.0f} GiB (docker image prune)")
