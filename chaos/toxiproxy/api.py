"""The HTTP API: every route on one screen, and one writer for every error.

Handlers that change state hold the server's lock, so two API calls never
interleave their awaits (binding a port) and see a half-made proxy.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from chaos.toxiproxy import VERSION
from chaos.toxiproxy.errors import ApiError, bad_body
from chaos.toxiproxy.inputs import (parse_json, parse_populate, parse_proxy, parse_proxy_changes, parse_toxic,
                                    parse_toxic_changes)
from chaos.toxiproxy.proxy import Proxy
from chaos.toxiproxy.toxic_collection import ToxicEntry
from chaos.toxiproxy.toxics import TOXIC_TYPES, InvalidAttribute, build_toxic

if TYPE_CHECKING:
    from chaos.toxiproxy.server import ToxiproxyServer

log = logging.getLogger("chaos.toxiproxy.api")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ToxiproxyApi:
    def __init__(self, server: ToxiproxyServer) -> None:
        self.server = server

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/reset", self.reset),
            web.get("/proxies", self.proxy_index),
            web.post("/proxies", self.proxy_create),
            web.post("/populate", self.populate),
            web.get("/proxies/{proxy}", self.proxy_show),
            web.post("/proxies/{proxy}", self.proxy_update),
            web.patch("/proxies/{proxy}", self.proxy_update),
            web.delete("/proxies/{proxy}", self.proxy_delete),
            web.get("/proxies/{proxy}/toxics", self.toxic_index),
            web.post("/proxies/{proxy}/toxics", self.toxic_create),
            web.get("/proxies/{proxy}/toxics/{toxic}", self.toxic_show),
            web.post("/proxies/{proxy}/toxics/{toxic}", self.toxic_update),
            web.patch("/proxies/{proxy}/toxics/{toxic}", self.toxic_update),
            web.delete("/proxies/{proxy}/toxics/{toxic}", self.toxic_delete),
            web.get("/version", self.version),
        ]

    async def version(self, request: web.Request) -> web.Response:
        return web.Response(text=json.dumps({"version": VERSION}) + "\n",
                            content_type="application/json", charset="utf-8")

    async def reset(self, request: web.Request) -> web.Response:
        async with self.server.lock:
            for proxy in self.server.proxies.all():
                await proxy.start()
                proxy.toxics.reset()
        return web.Response(status=204)

    async def proxy_index(self, request: web.Request) -> web.Response:
        return _json({proxy.name: proxy.to_json() for proxy in self.server.proxies.all()})

    async def proxy_create(self, request: web.Request) -> web.Response:
        wanted = parse_proxy(parse_json(await request.read()))
        async with self.server.lock:
            proxy = self.server.new_proxy(wanted.name, wanted.listen, wanted.upstream)
            await self.server.proxies.add(proxy, start=wanted.enabled)
        return _json(proxy.to_json(), status=201)

    async def populate(self, request: web.Request) -> web.Response:
        """Errors, too, carry ``proxies`` (those applied before the error), as Toxiproxy's do."""
        raw = await request.read()
        applied: list[Proxy] = []
        async with self.server.lock:
            try:
                for item in parse_populate(parse_json(raw)):
                    proxy = self.server.new_proxy(item.name, item.listen, item.upstream)
                    applied.append(await self.server.proxies.add_or_replace(proxy, start=item.enabled))
            except ApiError as exc:
                return _json({**exc.to_json(), "proxies": [p.to_json() for p in applied]}, status=exc.status)
        return _json({"proxies": [proxy.to_json() for proxy in applied]}, status=201)

    async def proxy_show(self, request: web.Request) -> web.Response:
        return _json(self._proxy(request).to_json())

    async def proxy_update(self, request: web.Request) -> web.Response:
        raw = await request.read()
        async with self.server.lock:
            proxy = self._proxy(request)
            changes = parse_proxy_changes(parse_json(raw))
            await proxy.update(listen=changes.listen, upstream=changes.upstream, enabled=changes.enabled)
            return _json(proxy.to_json())

    async def proxy_delete(self, request: web.Request) -> web.Response:
        async with self.server.lock:
            self.server.proxies.remove(request.match_info["proxy"])
        return web.Response(status=204)

    async def toxic_index(self, request: web.Request) -> web.Response:
        return _json([entry.to_json() for entry in self._proxy(request).toxics.entries()])

    async def toxic_create(self, request: web.Request) -> web.Response:
        """200, not 201: Toxiproxy answers a new toxic with a plain OK."""
        raw = await request.read()
        async with self.server.lock:
            proxy = self._proxy(request)
            wanted = parse_toxic(parse_json(raw))
            toxic = _configured(TOXIC_TYPES[wanted.type], wanted.attributes)
            entry = ToxicEntry(name=wanted.name, type=wanted.type, stream=wanted.stream,
                               toxicity=wanted.toxicity, toxic=toxic)
            proxy.toxics.add(entry)
        return _json(entry.to_json())

    async def toxic_show(self, request: web.Request) -> web.Response:
        return _json(self._proxy(request).toxics.get(request.match_info["toxic"]).to_json())

    async def toxic_update(self, request: web.Request) -> web.Response:
        raw = await request.read()
        async with self.server.lock:
            proxy = self._proxy(request)
            current = proxy.toxics.get(request.match_info["toxic"])
            changes = parse_toxic_changes(parse_json(raw))
            toxic = _configured(type(current.toxic), changes.attributes, base=current.toxic)
            updated = proxy.toxics.update(current.name, toxicity=changes.toxicity, toxic=toxic)
        return _json(updated.to_json())

    async def toxic_delete(self, request: web.Request) -> web.Response:
        async with self.server.lock:
            self._proxy(request).toxics.remove(request.match_info["toxic"])
        return web.Response(status=204)

    def _proxy(self, request: web.Request) -> Proxy:
        return self.server.proxies.get(request.match_info["proxy"])


def _configured(toxic_type: type, attributes: Any, base: Any = None) -> Any:
    try:
        return build_toxic(toxic_type, attributes, base)
    except InvalidAttribute as exc:
        raise bad_body(str(exc)) from None


def _json(data: Any, *, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The one error writer: every failure becomes Toxiproxy's ``{"error", "status"}``."""
    if request.headers.get("User-Agent", "").startswith("Mozilla/"):
        return web.Response(status=403, text="User agent not allowed\n")  # as Toxiproxy: no browsers (CSRF)
    try:
        return await handler(request)
    except ApiError as exc:
        return _json(exc.to_json(), status=exc.status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _json({"error": (exc.reason or "error").lower(), "status": exc.status}, status=exc.status)
    except Exception as exc:
        log.exception("%s %s failed", request.method, request.path)
        return _json({"error": f"internal error: {exc}", "status": 500}, status=500)


def build_app(server: ToxiproxyServer) -> web.Application:
    app = web.Application(middlewares=[error_middleware])
    app.add_routes(ToxiproxyApi(server).routes())
    return app
