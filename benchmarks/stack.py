"""Stack benchmark: set-up times, and the seed's read/write baselines on 1 vs 5 api instances.

Everything is measured in one run, side by side, because these machines are
noisy: compare the ratios, not the absolute figures across runs. The load is
wrk (``benchmarks/wrk_load.py``), not the suite's Python client, which was
the bottleneck; each figure has the client's CPU share beside it, so a reader
can tell the service's limit from the load generator's.

    python benchmarks/stack.py            # warm provisioning, up, baselines (about 2 minutes of load)
    python benchmarks/stack.py --cold     # first removes the images and wheelhouse (several minutes)
    python benchmarks/stack.py --url http://127.0.0.1:8000   # baselines of an instance already running

Needs wrk (``apt-get install -y wrk``). Load goes only to 127.0.0.1.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import wrk_load  # noqa: E402
from benchmarks.baselines import LOADS, table  # noqa: E402
from benchmarks.wrk_load import Figures  # noqa: E402

CONNECTIONS = 50   # the 50 clients of the earlier benchmark, and of wrk's run in issue 17
DURATION_S = 15    # per load run; 2 counts x (warm-up + 3 loads) stay under MAX_LOAD_S
WARMUP_S = 2       # a discarded read first: connection pools and caches filled
MAX_LOAD_S = 180


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def remove_built_artifacts() -> None:
    import docker

    from chaos.provision.base_image import BASE_IMAGE
    from chaos.provision.pipeline import CACHE

    client = docker.from_env()
    # an interrupted build leaves its intermediate container, which pins the base image
    for container in client.containers.list(all=True, filters={"ancestor": BASE_IMAGE, "status": "exited"}):
        container.remove()
    for image in client.images.list(filters={"label": "billing-chaos.project=billing-chaos"}):
        client.images.remove(image.id, force=True)
    client.images.prune(filters={"dangling": True})
    for image in client.images.list(BASE_IMAGE):
        client.images.remove(image.id, force=True)
    shutil.rmtree(CACHE / "wheelhouse", ignore_errors=True)


def user_token(url: str, run: str) -> str:
    """A new user's token, for the checkout load (registered and logged in before the clock starts)."""
    from chaos.workload.client import BillingClient

    email = f"bench-{run}-checkout@example.test"
    with BillingClient(url) as client:
        client.register(email, "password-1")
        answer = client.login(email, "password-1")
        if client.token is None:
            raise SystemExit(f"the checkout user could not log in at {url}: {answer.status_code} {answer.text[:200]}")
        return client.token


def measure(url: str, run: str, duration_s: int, threads: int) -> dict[str, Figures]:
    """Each of ``LOADS`` for ``duration_s`` against ``url``, after a discarded warm-up read."""
    def load(kind: str, seconds: int, *args: str) -> Figures:
        return wrk_load.run(url, kind, duration_s=seconds, connections=CONNECTIONS, threads=threads, args=args)

    load("read", WARMUP_S)
    extra = {"read": (), "register": (f"bench-{run}",), "subscribe": (user_token(url, run),)}
    return {spec.kind: load(spec.kind, duration_s, *extra[spec.kind]) for spec in LOADS}


def stack_figures(cold: bool, duration_s: int, threads: int) -> tuple[list[tuple[str, str]], dict, str]:
    """Set-up timings, then the baselines through the lb on 1 and 5 api instances of one stack."""
    from chaos.compose import ComposeStack
    from chaos.provision.pipeline import provision

    rows: list[tuple[str, str]] = []
    if cold:
        remove_built_artifacts()
        rows.append(("provisioning, cold (base image, wheelhouse, image)", f"{timed(provision):.1f} s"))
    rows.append(("provisioning, warm (everything reused)", f"{timed(provision):.2f} s"))
    stack = ComposeStack.with_free_ports(f"billing-chaos-bench-{uuid.uuid4().hex[:6]}")
    figures: dict[str, dict[str, Figures]] = {}
    try:
        rows.append(("up to healthy, 5 api + 3 workers", f"{timed(lambda: stack.up(api=5, workers=3)):.1f} s"))
        for api in (1, 5):
            stack.scale("api", api)
            figures[str(api)] = measure(stack.lb_url, f"{api}-{uuid.uuid4().hex[:6]}", duration_s, threads)
    finally:
        stack.down()
    return rows, figures, f"through the lb ({stack.lb_url})"


def duration(text: str) -> int:
    seconds = int(text)
    if not 1 <= seconds or 2 * (WARMUP_S + len(LOADS) * seconds) > MAX_LOAD_S:
        raise argparse.ArgumentTypeError(f"keep the load under {MAX_LOAD_S} s: at most "
                                         f"{(MAX_LOAD_S // 2 - WARMUP_S) // len(LOADS)} s per run")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold", action="store_true", help="remove images and wheelhouse first")
    parser.add_argument("--url", help="measure an instance already running at this http://127.0.0.1:PORT "
                                      "instead of starting the stack (no set-up timings)")
    parser.add_argument("--duration", type=duration, default=DURATION_S, help="seconds per load run")
    args = parser.parse_args()
    wrk_load.require_wrk()  # before minutes of set-up: one line saying to install it
    if args.url and (problem := wrk_load.loopback_problem(args.url)):
        parser.error(problem)
    cores = os.cpu_count() or 1
    threads = min(cores, CONNECTIONS)
    if args.url:
        rows, figures, where = [], {"given": measure(args.url.rstrip("/"), uuid.uuid4().hex[:6], args.duration,
                                                     threads)}, f"against {args.url}"
    else:
        rows, figures, where = stack_figures(args.cold, args.duration, threads)

    if rows:
        print("\n| measure | value |\n|---|---|")
        for name, value in rows:
            print(f"| {name} | {value} |")
    routes = "; ".join(f"{load.kind}: `{load.route}`" for load in LOADS)
    print(f"\n{wrk_load.version()}, {threads} threads, {CONNECTIONS} connections, {args.duration} s per load after "
          f"a {WARMUP_S} s warm-up, {where} ({routes}). req/s and latencies are the service's as wrk saw "
          f"them; client CPU is wrk's user+system CPU over wall time, as a share of this machine's {cores} "
          "cores, which the service shares.\n")
    print(table(figures, cores))


if __name__ == "__main__":
    main()
