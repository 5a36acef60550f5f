"""The runtime image, tagged by a hash of everything that goes into it.

The tag is ``billing-chaos/runtime:<content hash>`` (and ``:latest`` for the
compose file), so an unchanged tree reuses the image without asking the
engine to build, and a changed one rebuilds only the layers that changed.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections import deque
from pathlib import Path

import docker
from docker.errors import BuildError, ImageNotFound

from chaos.provision.errors import ProvisionError
from chaos.provision.progress import say, step

REPOSITORY = "billing-chaos/runtime"
PROJECT_LABEL = {"billing-chaos.project": "billing-chaos"}
# What the image holds from the source tree: the service, and the fault proxy
# (standard library and aiohttp) that runs as the toxiproxy service.
APP_SOURCES = ("billing", "chaos/__init__.py", "chaos/toxiproxy")


def _files(root: Path, relative: str) -> list[Path]:
    path = root / relative
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def content_hash(root: Path, wheelhouse: Path, requirements: list[str]) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(requirements).encode())
    digest.update(wheelhouse.name.encode())
    for file in [root / "docker/runtime.Dockerfile", *_files(root, "docker/etc"),
                 *(f for src in APP_SOURCES for f in _files(root, src))]:
        digest.update(str(file.relative_to(root)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def ensure_runtime_image(client: docker.DockerClient, root: Path, wheelhouse: Path,
                         requirements: list[str]) -> str:
    tag = f"{REPOSITORY}:{content_hash(root, wheelhouse, requirements)}"
    try:
        image = client.images.get(tag)
        image.tag(REPOSITORY, "latest")
        say(f"runtime image {tag}: present")
        return tag
    except ImageNotFound:
        pass
    with tempfile.TemporaryDirectory(prefix="chaos-build-") as tmp:
        context = Path(tmp)
        shutil.copy(root / "docker/runtime.Dockerfile", context / "Dockerfile")
        shutil.copytree(root / "docker/etc", context / "etc")
        shutil.copytree(wheelhouse, context / "wheelhouse", ignore=shutil.ignore_patterns(".complete"))
        (context / "requirements.txt").write_text("\n".join(requirements) + "\n")
        for src in APP_SOURCES:
            for file in _files(root, src):
                target = context / "app" / file.relative_to(root)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(file, target)
        with step(f"building {tag} (apt-get in the image, then the wheelhouse)"):
            _build(client, context, tag)
    client.images.get(tag).tag(REPOSITORY, "latest")
    return tag


def _build(client: docker.DockerClient, context: Path, tag: str) -> None:
    last_step = ""
    recent: deque[str] = deque(maxlen=8)
    try:
        for chunk in client.api.build(path=str(context), tag=tag, labels=PROJECT_LABEL, rm=True,
                                      forcerm=True, decode=True):
            if "error" in chunk:
                output = " | ".join(recent)
                raise ProvisionError(f"image build failed at {last_step!r}: {chunk['error'].strip()}; "
                                     f"last output: {output}")
            line = chunk.get("stream", "").strip()
            if line:
                recent.append(line)
            if line.startswith("Step "):
                last_step = line
                say(f"  {line}")
    except BuildError as exc:
        raise ProvisionError(f"image build failed: {exc}") from exc
