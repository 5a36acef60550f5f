"""``python -m chaos.provision``: engine, base image, wheelhouse, runtime image."""
from __future__ import annotations

import sys

from chaos.provision.errors import ProvisionError
from chaos.provision.pipeline import provision


def main() -> int:
    try:
        tag = provision()
    except ProvisionError as exc:
        print(f"chaos provision: {exc}", file=sys.stderr)
        return 1
    print(tag)
    return 0


if __name__ == "__main__":
    sys.exit(main())
