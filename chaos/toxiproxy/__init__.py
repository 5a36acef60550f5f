"""A Toxiproxy-compatible fault proxy: Toxiproxy 2.x's HTTP API and toxics, in asyncio.

The official server cannot be installed where this suite runs, so this package
speaks the same API (toxiproxy-python, the Go and Ruby clients and existing
scripts work unchanged) and proxies TCP through the same toxics.

What's here, one job per module:

- ``server``: the server object; it owns every proxy and the API site.
- ``api``: every route on one screen, and the one error writer (also for what the HTTP parser refuses).
- ``wire``: answers byte for byte as the Go server writes them (JSON layout, float32 toxicity, request ids).
- ``metrics``: ``/metrics`` with the Go server's metric names (when enabled).
- ``inputs``: JSON bodies parsed into typed inputs; errors name the field.
- ``errors``: the API's errors as values.
- ``addresses``: ``host:port`` parsing and listener binding.
- ``proxy`` / ``collection``: a proxy (listener and its connections) and the set of them.
- ``toxic_collection``: a proxy's toxic chains, pushed to its live links.
- ``connection`` / ``link`` / ``stage``: one client connection, its two directions
  (a fast path when a direction has no toxic), one toxic running on one direction.
- ``endpoint``: one socket of a connection, as the asyncio protocol the links run on.
- ``stream`` / ``stub``: chunks, the queues between stages, what a toxic sees.
- ``toxics/``: one module per toxic behind one small interface.
- ``testing``: the server in a background thread for tests; ``client``: a typed
  ``requests`` client for what toxiproxy-python 0.1.1 lacks.

Only the standard library and aiohttp are imported by the server, because the
runtime image ships this folder alone (``client`` needs ``requests`` and is
never imported by the server). Two optional packages are used when present:
uvloop (the process's event loop, faster) and prometheus_client (only when
``--proxy-metrics`` or ``--runtime-metrics`` asks for ``/metrics``).
"""

VERSION = "2.9.0+billing-chaos"
"""The Toxiproxy API version this server answers for, marked as not the Go build."""
