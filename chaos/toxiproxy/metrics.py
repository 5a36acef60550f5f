"""``/metrics``: the Go server's Prometheus metrics, with its names and labels.

As in Toxiproxy, nothing is exported unless asked for: ``--proxy-metrics`` gives
``toxiproxy_proxy_received_bytes_total`` and ``toxiproxy_proxy_sent_bytes_total``
labelled ``direction``, ``proxy``, ``listener``, ``upstream``; ``--runtime-metrics``
gives the process's ``process_*`` metrics (and Python's ``python_*`` where Go has
``go_*``). The byte counts grow as bytes flow, where Go adds a link's bytes
only when the link closes, so a long-lived connection is visible while it lives.

``prometheus_client`` is imported only when metrics are enabled, so the server
still runs where only aiohttp is installed.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""What Go's promhttp answers for the text format."""
LABELS = ("direction", "proxy", "listener", "upstream")


@dataclass
class LinkBytes:
    """The counts of one label set; a link holds it and adds to it (a ``link.ByteMeter``)."""

    received_total: int = 0
    sent_total: int = 0

    def received(self, nbytes: int) -> None:
        self.received_total += nbytes

    def sent(self, nbytes: int) -> None:
        self.sent_total += nbytes


class ProxyMetrics:
    def __init__(self, *, proxy: bool, runtime: bool) -> None:
        try:
            from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
        except ImportError:
            raise RuntimeError("--proxy-metrics and --runtime-metrics need prometheus_client installed") from None

        self.proxy_enabled = proxy
        self.registry = CollectorRegistry(auto_describe=False)
        self._links: dict[tuple[str, str, str, str], LinkBytes] = {}
        if proxy:
            self.registry.register(_ByteCollector(self._links))
        if runtime:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)

    def meter(self, direction: str, proxy: str, listener: str, upstream: str) -> LinkBytes | None:
        if not self.proxy_enabled:
            return None
        return self._links.setdefault((direction, proxy, listener, upstream), LinkBytes())

    def render(self) -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


class _ByteCollector:
    """A custom collector, so the counters carry no ``_created`` series (Go's have none)."""

    def __init__(self, links: dict[tuple[str, str, str, str], LinkBytes]) -> None:
        self._links = links

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily

        received = CounterMetricFamily("toxiproxy_proxy_received_bytes", "", labels=LABELS)
        sent = CounterMetricFamily("toxiproxy_proxy_sent_bytes", "", labels=LABELS)
        for labels, counts in sorted(self._links.items()):
            received.add_metric(labels, counts.received_total)
            sent.add_metric(labels, counts.sent_total)
        yield received
        yield sent
