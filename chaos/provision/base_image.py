"""The base image ``debian:bookworm-slim``, pulled or built with debootstrap.

No container registry answers on these machines, so the pull usually fails
fast and we build the same distribution from Debian's own mirror (taken from
the host's apt configuration, never written into the code) and import it.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import docker
from docker.errors import APIError, ImageNotFound

from chaos.provision.engine import install_debian_packages
from chaos.provision.errors import ProvisionError
from chaos.provision.progress import say, step

BASE_IMAGE = "debian:bookworm-slim"
SUITE = "bookworm"
APT_SOURCES = (Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list"))


def ensure_base_image(client: docker.DockerClient, tag: str = BASE_IMAGE) -> str:
    try:
        client.images.get(tag)
        say(f"base image {tag}: present")
        return tag
    except ImageNotFound:
        pass
    try:
        with step(f"pulling {tag}"):
            repository, _, version = tag.partition(":")
            client.images.pull(repository, tag=version or "latest")
        return tag
    except APIError as exc:
        say(f"pull failed ({str(exc).splitlines()[0][:120]}); building it with debootstrap")
    debootstrap_import(client, tag, apt_mirror())
    return tag


def apt_mirror(sources: tuple[Path, ...] = APT_SOURCES) -> str:
    """The first Debian archive URI the host's apt uses (not the security archive)."""
    for path in sources:
        if not path.exists():
            continue
        text = path.read_text()
        uris = re.findall(r"^URIs:\s*(\S+)", text, flags=re.M)
        uris += re.findall(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s", text, flags=re.M)
        for uri in uris:
            if "security" not in uri:
                return uri
    raise ProvisionError(
        "cannot find a Debian mirror in the host's apt sources "
        f"({', '.join(map(str, sources))}); pass one with CHAOS_DEBIAN_MIRROR")


def debootstrap_import(client: docker.DockerClient, tag: str, mirror: str) -> None:
    if shutil.which("debootstrap") is None:
        install_debian_packages(("debootstrap",))
    with tempfile.TemporaryDirectory(prefix="chaos-rootfs-") as tmp:
        root = Path(tmp) / "rootfs"
        with step(f"debootstrap --variant=minbase {SUITE} (from the host's mirror)"):
            done = subprocess.run(
                ["debootstrap", "--variant=minbase", SUITE, str(root), mirror],
                capture_output=True, text=True)
            if done.returncode != 0:
                raise ProvisionError(
                    f"debootstrap failed (exit {done.returncode}): "
                    f"{done.stderr.strip().splitlines()[-1:] or done.stdout.strip().splitlines()[-1:]}")
        # Slim like the official image: no apt lists, no docs.
        for sub in ("var/lib/apt/lists", "var/cache/apt/archives", "usr/share/doc", "usr/share/man"):
            shutil.rmtree(root / sub, ignore_errors=True)
        tarball = Path(tmp) / "rootfs.tar"
        with step(f"importing the root filesystem as {tag}"):
            subprocess.run(["tar", "-C", str(root), "-cf", str(tarball), "."], check=True)
            repository, _, version = tag.partition(":")
            client.api.import_image_from_file(str(tarball), repository=repository, tag=version)
