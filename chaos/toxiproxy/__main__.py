"""``python -m chaos.toxiproxy``: the server as a process (also the compose service's command).

SIGTERM and SIGINT close it gracefully: proxies stop, connections close, the API
finishes the requests it has.

``--seed`` defaults to ``CHAOS_TOXIPROXY_SEED`` when it is set and not empty:
the compose service gets a run's seed that way (a command line cannot take an
optional flag from compose), so a ``--chaos-seed`` run's toxicity and jitter
replay. An explicit ``--seed`` wins; a variable that is not a whole number
ends the process with one line saying so.

The event loop is uvloop's when it is installed (``--loop auto``): it roughly
halves the time each forwarded chunk and each API call spends in the loop. The
standard loop is the fallback, so the runtime image needs nothing but aiohttp.
"""
from __future__ import annotations

import argparse
import asyncio
import importlib.util
import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping

from chaos.toxiproxy import VERSION
from chaos.toxiproxy.server import ServerConfig, serve_until

SEED_VARIABLE = "CHAOS_TOXIPROXY_SEED"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m chaos.toxiproxy",
        description=f"Toxiproxy-compatible fault proxy (HTTP API {VERSION}).")
    # Each option also answers to the Go server's single-dash spelling, so its command lines work unchanged.
    parser.add_argument("--host", "-host", default="127.0.0.1",
                        help="interface for the HTTP API (default: %(default)s)")
    parser.add_argument("--port", "-port", type=int, default=8474,
                        help="port for the HTTP API (default: %(default)s)")
    parser.add_argument("--seed", "-seed", type=int, default=None,
                        help=f"seed for toxicity, jitter and slicing (default: ${SEED_VARIABLE}, else random)")
    parser.add_argument("--config", "-config", default=None, metavar="FILE",
                        help="JSON file of proxies (a /populate body) to create on startup")
    parser.add_argument("--proxy-metrics", "-proxy-metrics", action="store_true",
                        help="export toxiproxy_proxy_* byte counters on /metrics (needs prometheus_client)")
    parser.add_argument("--runtime-metrics", "-runtime-metrics", action="store_true",
                        help="export process and interpreter metrics on /metrics (needs prometheus_client)")
    parser.add_argument("--loop", choices=["auto", "asyncio", "uvloop"], default="auto",
                        help="event loop: uvloop if installed (auto), or the standard one (default: %(default)s)")
    parser.add_argument("--log-level", default="INFO",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="(default: %(default)s)")
    args = parser.parse_args(argv)
    if args.seed is None:
        try:
            args.seed = seed_from(os.environ)
        except ValueError as exc:
            sys.exit(f"{parser.prog}: {exc}")
    return args


def seed_from(environ: Mapping[str, str]) -> int | None:
    """The seed ``CHAOS_TOXIPROXY_SEED`` gives: None when unset or empty; ValueError when not a whole number."""
    value = environ.get(SEED_VARIABLE, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{SEED_VARIABLE}={value!r} is not a whole number (a run's --chaos-seed)") from None


async def _main(config: ServerConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await serve_until(stop, config)


def loop_factory(choice: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """``None`` means the standard loop."""
    if choice == "asyncio" or (choice == "auto" and importlib.util.find_spec("uvloop") is None):
        return None
    import uvloop

    return uvloop.new_event_loop


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = ServerConfig(host=args.host, port=args.port, seed=args.seed, access_log=args.log_level == "DEBUG",
                          config_file=args.config, proxy_metrics=args.proxy_metrics,
                          runtime_metrics=args.runtime_metrics)
    with asyncio.Runner(loop_factory=loop_factory(args.loop)) as runner:
        runner.run(_main(config))


if __name__ == "__main__":
    main()
