#!/usr/bin/env bash
# Everything the README's two commands need, reused when already there:
# a virtual environment with the project installed, a Docker engine (installed
# and started when we are root and none answers), the base image, the
# wheelhouse and the runtime image.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "[bootstrap] creating .venv" >&2
    "$python" -m venv .venv
fi
stamp=".venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    echo "[bootstrap] installing billing-chaos and its test dependencies into .venv" >&2
    .venv/bin/pip install --quiet --disable-pip-version-check -e '.[service,test]'
    rm -f .venv/.installed-* && touch "$stamp"
fi
.venv/bin/python -m chaos.provision >/dev/null
