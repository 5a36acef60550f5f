"""The toxics this server knows, by Toxiproxy type name: an explicit registry, no import side effects."""
from __future__ import annotations

from chaos.toxiproxy.toxics.bandwidth import BandwidthToxic
from chaos.toxiproxy.toxics.base import InvalidAttribute, Toxic, attributes_json, build_toxic
from chaos.toxiproxy.toxics.latency import LatencyToxic
from chaos.toxiproxy.toxics.limit_data import LimitDataToxic
from chaos.toxiproxy.toxics.noop import NoopToxic
from chaos.toxiproxy.toxics.reset_peer import ResetPeerToxic
from chaos.toxiproxy.toxics.slicer import SlicerToxic
from chaos.toxiproxy.toxics.slow_close import SlowCloseToxic
from chaos.toxiproxy.toxics.timeout import TimeoutToxic

TOXIC_TYPES: dict[str, type] = {
    "bandwidth": BandwidthToxic,
    "latency": LatencyToxic,
    "limit_data": LimitDataToxic,
    "noop": NoopToxic,
    "reset_peer": ResetPeerToxic,
    "slicer": SlicerToxic,
    "slow_close": SlowCloseToxic,
    "timeout": TimeoutToxic,
}

__all__ = ["TOXIC_TYPES", "InvalidAttribute", "Toxic", "attributes_json", "build_toxic"]
