"""The provisioning steps in order; each reuses what an earlier run built."""
from __future__ import annotations

from pathlib import Path

import docker

from chaos.provision.base_image import ensure_base_image
from chaos.provision.engine import ensure_engine
from chaos.provision.images import ensure_runtime_image
from chaos.provision.wheelhouse import ensure_wheelhouse

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache"


def provision(root: Path = ROOT, cache: Path = CACHE) -> str:
    """Make the runtime image exist; return its tag."""
    client = ensure_engine(cache)
    return build_images(client, root, cache)


def build_images(client: docker.DockerClient, root: Path = ROOT, cache: Path = CACHE) -> str:
    ensure_base_image(client)
    wheelhouse, requirements = ensure_wheelhouse(root / "pyproject.toml", cache)
    return ensure_runtime_image(client, root, wheelhouse, requirements)
