"""Stack benchmark: set-up times, and read/write baselines on 1 vs 5 api instances.

Everything is measured in one run, side by side, because these machines are
noisy: compare the ratios, not the absolute figures across runs.

    python benchmarks/stack.py            # warm provisioning, up, baselines
    python benchmarks/stack.py --cold     # first removes the images and wheelhouse (several minutes)
"""
from __future__ import annotations

import argparse
import concurrent.futures
import shutil
import statistics
import time
import uuid
from collections.abc import Callable

import docker

from chaos.compose import ComposeStack
from chaos.provision.base_image import BASE_IMAGE
from chaos.provision.pipeline import CACHE, provision
from chaos.workload.client import BillingClient

CLIENTS = 50
CALLS_PER_CLIENT = 20


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def remove_built_artifacts() -> None:
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


def percentile(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1]


def load(url: str, call: Callable[[BillingClient, int], int]) -> dict[str, float]:
    """``CLIENTS`` concurrent clients, each with its own session, ``CALLS_PER_CLIENT`` calls each."""
    def client_run(i: int) -> list[tuple[float, int]]:
        with BillingClient(url) as client:
            out = []
            for j in range(CALLS_PER_CLIENT):
                started = time.perf_counter()
                status = call(client, i * CALLS_PER_CLIENT + j)
                out.append((time.perf_counter() - started, status))
            return out

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        results = [r for batch in pool.map(client_run, range(CLIENTS)) for r in batch]
    elapsed = time.perf_counter() - started
    latencies = [lat for lat, _ in results]
    errors = sum(1 for _, status in results if status >= 400)
    return {"p50": percentile(latencies, 50) * 1000, "p95": percentile(latencies, 95) * 1000,
            "p99": percentile(latencies, 99) * 1000, "rps": len(results) / elapsed, "errors": errors}


def read(client: BillingClient, _: int) -> int:
    return client.tariff_plans().status_code


def make_writer(run: str) -> Callable[[BillingClient, int], int]:
    def write(client: BillingClient, n: int) -> int:
        if client.token is None:
            email = f"bench-{run}-{n}@example.test"
            client.register(email, "password-1")
            client.login(email, "password-1")
        return client.subscribe(1, "card").status_code
    return write


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold", action="store_true", help="remove images and wheelhouse first")
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    if args.cold:
        remove_built_artifacts()
        rows.append(("provisioning, cold (base image, wheelhouse, image)", f"{timed(provision):.1f} s"))
    rows.append(("provisioning, warm (everything reused)", f"{timed(provision):.2f} s"))

    stack = ComposeStack.with_free_ports(f"billing-chaos-bench-{uuid.uuid4().hex[:6]}")
    try:
        rows.append(("up to healthy, 5 api + 3 workers", f"{timed(lambda: stack.up(api=5, workers=3)):.1f} s"))
        figures = {}
        for api in (1, 5):
            stack.scale("api", api)
            figures[api] = {"read": load(stack.lb_url, read),
                            "write": load(stack.lb_url, make_writer(f"{api}-{uuid.uuid4().hex[:6]}"))}
    finally:
        stack.down()

    print("\n| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    print(f"\n{CLIENTS} clients x {CALLS_PER_CLIENT} calls through the lb (read: GET /api/tariff_plans; "
          "write: POST /api/subscriptions)\n")
    print("| kind | api | p50 ms | p95 ms | p99 ms | req/s | errors |\n|---|---|---|---|---|---|---|")
    for kind in ("read", "write"):
        for api in (1, 5):
            f = figures[api][kind]
            print(f"| {kind} | {api} | {f['p50']:.0f} | {f['p95']:.0f} | {f['p99']:.0f} | {f['rps']:.0f} | {f['errors']:.0f} |")
        print(f"| {kind} | 5 vs 1 | x{figures[5][kind]['p50'] / figures[1][kind]['p50']:.2f} | "
              f"x{figures[5][kind]['p95'] / figures[1][kind]['p95']:.2f} | "
              f"x{figures[5][kind]['p99'] / figures[1][kind]['p99']:.2f} | "
              f"x{figures[5][kind]['rps'] / figures[1][kind]['rps']:.2f} | |")


if __name__ == "__main__":
    main()
