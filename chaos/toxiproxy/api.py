"""The HTTP API: every route on one screen, and one writer for every error.

Handlers that change state hold the server's lock, so two API calls never
interleave their awaits (binding a port) and see a half-made proxy. Bodies are
written as the Go server writes them (``wire``).
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.http_exceptions import LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from chaos.toxiproxy import VERSION
from chaos.toxiproxy.errors import TOXIC_ALREADY_EXISTS, ApiError, bad_body
from chaos.toxiproxy.inputs import (parse_json, parse_populate, parse_proxy, parse_proxy_changes, parse_toxic,
                                    parse_toxic_changes)
from chaos.toxiproxy.proxy import Proxy
from chaos.toxiproxy.toxic_collection import ToxicEntry
from chaos.toxiproxy.toxics import TOXIC_TYPES, InvalidAttribute, build_toxic
from chaos.toxiproxy.wire import (ERROR_CONTENT_TYPE, JSON_CONTENT_TYPE, REQUEST_ID_HEADER, RequestIds,
                                  encode)

if TYPE_CHECKING:
    from chaos.toxiproxy.server import ToxiproxyServer

log = logging.getLogger("chaos.toxiproxy.api")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_BODY_BYTES = 16 * 1024 * 1024
"""Go reads bodies without a limit; this one is far above any real /populate (5 MB and more) and still bounded."""


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
        """Hand-written by the Go server too: a space after the colon, a newline, a charset."""
        response = web.Response(body=f'{{"version": "{VERSION}"}}\n'.encode())
        response.headers["Content-Type"] = "application/json;charset=utf-8"
        return response

    async def reset(self, request: web.Request) -> web.Response:
        async with self.server.lock:
            for proxy in self.server.proxies.all():
                await proxy.start()
                proxy.toxics.reset()
        return web.Response(status=204)

    async def proxy_index(self, request: web.Request) -> web.Response:
        """A Go map: keys sorted."""
        proxies = sorted(self.server.proxies.all(), key=lambda proxy: proxy.name)
        return _json({proxy.name: proxy.to_json() for proxy in proxies})

    async def proxy_create(self, request: web.Request) -> web.Response:
        wanted = parse_proxy(parse_json(await request.read()))
        async with self.server.lock:
            proxy = self.server.new_proxy(wanted.name, wanted.listen, wanted.upstream)
            await self.server.proxies.add(proxy, start=wanted.enabled)
        return _json(proxy.to_json(), status=201)

    async def populate(self, request: web.Request) -> web.Response:
        """Errors, too, carry ``proxies`` (those applied before the error), as Toxiproxy's do.

        As in Go, an error here is ``application/json`` without a newline (not the
        error writer's), and no proxies is ``null``.
        """
        raw = await request.read()
        applied: list[Proxy] = []
        async with self.server.lock:
            try:
                for item in parse_populate(parse_json(raw)):
                    proxy = self.server.new_proxy(item.name, item.listen, item.upstream)
                    applied.append(await self.server.proxies.add_or_replace(proxy, start=item.enabled))
            except ApiError as exc:
                return _json({**exc.to_json(), "proxies": [p.to_json() for p in applied] or None},
                             status=exc.status)
        return _json({"proxies": [proxy.to_json() for proxy in applied] or None}, status=201)

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
            if proxy.toxics.has(wanted.name):
                raise TOXIC_ALREADY_EXISTS()  # before the attributes are read, as in Go
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
    response = web.Response(body=encode(data), status=status)
    response.headers["Content-Type"] = JSON_CONTENT_TYPE  # bare, as Go sets it: no charset
    return response


def error_response(message: str, status: int) -> web.Response:
    """The one error writer, as Go's ``http.Error`` writes ``{"error", "status"}``: plain text, a newline."""
    response = web.Response(body=encode({"error": message, "status": status}) + b"\n", status=status)
    response.headers["Content-Type"] = ERROR_CONTENT_TYPE
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def error_middleware(request_ids: RequestIds) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        """Every failure becomes Toxiproxy's error body; routed answers carry a request id."""
        routed = request.match_info.http_exception is None
        response = await _answer(request, handler)
        if routed:
            response.headers[REQUEST_ID_HEADER] = request_ids.next()
        return response

    return middleware


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.headers.get("User-Agent", "").startswith("Mozilla/"):
        response = web.Response(status=403, body=b"User agent not allowed\n")  # as Toxiproxy: no browsers (CSRF)
        response.headers["Content-Type"] = ERROR_CONTENT_TYPE
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.message, exc.status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response((exc.reason or "error").lower(), exc.status)
    except Exception as exc:
        log.exception("%s %s failed", request.method, request.path)
        return error_response(f"internal error: {exc}", 500)


def build_app(server: ToxiproxyServer, *, extra_routes: list[web.RouteDef] | None = None) -> web.Application:
    app = web.Application(middlewares=[error_middleware(RequestIds())], client_max_size=MAX_BODY_BYTES)
    app.add_routes(ToxiproxyApi(server).routes() + (extra_routes or []))
    return app


MAX_REQUEST_LINE_BYTES = 1024 * 1024
"""Go's ``http.DefaultMaxHeaderBytes``: a request line or header up to 1 MiB is served, not refused at 8 KiB."""


class _JsonErrorRequestHandler(RequestHandler):
    """What aiohttp's HTTP parser refuses (a line too long, a method that is not a token) answers
    through the one error writer too, instead of aiohttp's plain-text page."""

    def handle_error(self, request: BaseRequest, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        if request.writer.output_size > 0:
            return super().handle_error(request, status, exc, message)  # too late for any body
        if isinstance(exc, LineTooLong):
            status, text = 431, "request header fields too large"  # what Go answers past its header limit
        elif status == 500:
            text = "internal error"
        else:
            detail = str(getattr(exc, "message", None) or message or "malformed HTTP request")
            text = f"bad request: {detail.splitlines()[0].rstrip(': ')}"
        log.debug("refused a malformed request from %s: %s", request.remote, exc)
        response = error_response(text, status)
        response.force_close()
        return response


class _JsonErrorServer(web.Server):
    def __call__(self) -> RequestHandler:
        return _JsonErrorRequestHandler(self, loop=self._loop, **self._kwargs)


class ApiRunner(web.AppRunner):
    """An ``AppRunner`` whose connections use the JSON error writer for parser errors as well."""

    def __init__(self, app: web.Application, **kwargs: Any) -> None:
        super().__init__(app, max_line_size=MAX_REQUEST_LINE_BYTES, max_field_size=MAX_REQUEST_LINE_BYTES,
                         **kwargs)

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _JsonErrorServer  # same state, one method more: the handler class it builds
        return server
