"""The wheelhouse: the service's Python dependencies, built on the host.

pip cannot reach the package index from inside containers here, so the host
(which can) builds every wheel once and the image installs them with
``--no-index``. The folder is keyed by the requirement list, so a second run
finds it and does nothing.
"""
from __future__ import annotations

import hashlib
import subprocess
import sys
import tomllib
from pathlib import Path

from chaos.provision.errors import ProvisionError
from chaos.provision.progress import say, step


# Debian bookworm's python3 is 3.11.2; some requirements pull extra packages
# under markers such as python_full_version < "3.11.3" that a newer host
# Python skips. Wheel them too so the image's resolver finds them.
IMAGE_PYTHON_EXTRAS = ["async-timeout>=4.0.3"]


def service_requirements(pyproject: Path) -> list[str]:
    data = tomllib.loads(pyproject.read_text())
    return sorted(data["project"]["optional-dependencies"]["service"])


def wheelhouse_folder(pyproject: Path, cache: Path) -> tuple[Path, list[str]]:
    """Where the wheelhouse of these requirements is (or will be): its name is their hash."""
    requirements = service_requirements(pyproject)
    key = hashlib.sha256("\n".join(requirements + IMAGE_PYTHON_EXTRAS).encode()).hexdigest()[:16]
    return cache / "wheelhouse" / key, requirements


def ensure_wheelhouse(pyproject: Path, cache: Path) -> tuple[Path, list[str]]:
    folder, requirements = wheelhouse_folder(pyproject, cache)
    done_marker = folder / ".complete"
    if done_marker.exists():
        say(f"wheelhouse {folder}: present ({len(list(folder.glob('*.whl')))} wheels)")
        return folder, requirements
    folder.mkdir(parents=True, exist_ok=True)
    with step(f"building the wheelhouse for {len(requirements)} service requirements"):
        done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--wheel-dir", str(folder),
                               *requirements, *IMAGE_PYTHON_EXTRAS],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise ProvisionError(
                "pip wheel failed; check that this machine reaches the Python package index "
                f"(pip config list): {done.stderr.strip().splitlines()[-1:]}")
    done_marker.write_text("\n".join(requirements) + "\n")
    return folder, requirements
