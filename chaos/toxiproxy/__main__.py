"""``python -m chaos.toxiproxy``: the server as a process (also the compose service's command).

SIGTERM and SIGINT close it gracefully: proxies stop, connections close, the API
finishes the requests it has.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from chaos.toxiproxy import VERSION
from chaos.toxiproxy.server import ServerConfig, serve_until


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m chaos.toxiproxy",
        description=f"Toxiproxy-compatible fault proxy (HTTP API {VERSION}).")
    parser.add_argument("--host", default="127.0.0.1", help="interface for the HTTP API (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8474, help="port for the HTTP API (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed for toxicity, jitter and slicing (default: random)")
    parser.add_argument("--log-level", default="INFO",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="(default: %(default)s)")
    return parser.parse_args(argv)


async def _main(config: ServerConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await serve_until(stop, config)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = ServerConfig(host=args.host, port=args.port, seed=args.seed, access_log=args.log_level == "DEBUG")
    asyncio.run(_main(config))


if __name__ == "__main__":
    main()
