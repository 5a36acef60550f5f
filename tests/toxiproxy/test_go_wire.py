"""Byte for byte what the Go server (Toxiproxy 2.x) answers, where a client, a script or a diff can see it.

Written from what the Go server's source does (api.go, toxic_collection.go,
toxics/toxic.go) and what its API tests check, in our own words.
"""
from __future__ import annotations

import json
import re
import socket

import pytest

from tests.toxiproxy.conftest import Http
from tests.toxiproxy.tcp import EchoServer, connect, parse_listen, round_trip

pytestmark = pytest.mark.unit

REQUEST_ID = re.compile(r"^[0-9a-v]{20}$")


def create(http: Http, name: str = "redis", upstream: str = "127.0.0.1:6379") -> dict:
    response = http("POST", "/proxies", json={"name": name, "upstream": upstream, "listen": "127.0.0.1:0"})
    assert response.status_code == 201, response.text
    return response.json()


def assert_go_error(response, status: int, message: str) -> None:
    """Go's http.Error: plain text content type, nosniff, compact JSON and a newline."""
    assert response.status_code == status
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.content == json.dumps({"error": message, "status": status}, separators=(",", ":")).encode() + b"\n"


def test_a_created_proxy_is_compact_json_in_gos_field_order_without_a_newline(http: Http) -> None:
    response = http("POST", "/proxies", json={"name": "redis", "upstream": "127.0.0.1:6379", "listen": "127.0.0.1:0"})
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json"
    listen = response.json()["listen"]
    assert response.content == (b'{"name":"redis","listen":"' + listen.encode() + b'","upstream":"127.0.0.1:6379",'
                                b'"enabled":true,"Logger":{},"toxics":[]}')


def test_a_toxic_is_attributes_first_and_its_toxicity_prints_as_a_go_float32(http: Http) -> None:
    create(http)
    body = {"type": "latency", "attributes": {"latency": 100}}
    assert http("POST", "/proxies/redis/toxics", json=body).content == (
        b'{"attributes":{"latency":100,"jitter":0},"name":"latency_downstream","type":"latency",'
        b'"stream":"downstream","toxicity":1}')
    for sent, printed in [(0.5, b"0.5"), (0.1, b"0.1"), (0.123456789, b"0.12345679"), (0, b"0")]:
        toxic = http("PATCH", "/proxies/redis/toxics/latency_downstream", json={"toxicity": sent}).content
        assert toxic.endswith(b'"toxicity":' + printed + b"}"), toxic


def test_toxicity_outside_0_to_1_is_taken_as_the_go_server_takes_it(http: Http, echo: EchoServer) -> None:
    listen = create(http, "echo", str(echo.address))["listen"]
    above = http("POST", "/proxies/echo/toxics", json={"name": "a", "type": "noop", "toxicity": 2})
    below = http("POST", "/proxies/echo/toxics", json={"name": "b", "type": "noop", "toxicity": -0.5})
    assert (above.status_code, above.json()["toxicity"]) == (200, 2)
    assert (below.status_code, below.json()["toxicity"]) == (200, -0.5)
    with connect(parse_listen(listen)) as sock:
        assert round_trip(sock, b"still flows")[0] == b"still flows"


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_toxicity_too_large_for_a_float_is_a_400_on_create_and_update(http: Http, method: str) -> None:
    create(http)
    huge = "1" + "0" * 400
    created = http("POST", "/proxies/redis/toxics", data='{"type": "latency", "toxicity": %s}' % huge)
    assert_go_error(created, 400, f"bad request body: json: cannot unmarshal number {huge} into Go struct field "
                                  "ToxicWrapper.toxicity of type float32")
    http("POST", "/proxies/redis/toxics", json={"type": "latency"})
    updated = http(method, "/proxies/redis/toxics/latency_downstream", data='{"toxicity": 1e400}')
    assert_go_error(updated, 400, "bad request body: json: cannot unmarshal number 1e400 into Go struct field "
                                  ".toxicity of type float32")
    assert http("GET", "/proxies/redis/toxics/latency_downstream").json()["toxicity"] == 1


def test_the_named_errors_are_the_go_servers_words(http: Http) -> None:
    assert_go_error(http("GET", "/proxies/nope"), 404, "proxy not found")
    assert_go_error(http("POST", "/proxies", json={"upstream": "127.0.0.1:1"}), 400, "missing required field: name")
    assert_go_error(http("POST", "/proxies", json={"name": "x"}), 400, "missing required field: upstream")
    assert_go_error(http("POST", "/proxies", data=b""), 400, "bad request body: EOF")
    create(http)
    assert_go_error(http("POST", "/proxies", json={"name": "redis", "upstream": "127.0.0.1:1"}), 409,
                    "proxy already exists")
    assert_go_error(http("GET", "/proxies/redis/toxics/nope"), 404, "toxic not found")
    assert_go_error(http("POST", "/proxies/redis/toxics", json={"type": "lag"}), 400, "invalid toxic type")
    assert_go_error(http("POST", "/proxies/redis/toxics", json={"type": "latency", "stream": "sideways"}), 400,
                    "stream was invalid, can be either upstream or downstream")
    http("POST", "/proxies/redis/toxics", json={"type": "latency"})
    assert_go_error(http("POST", "/proxies/redis/toxics", json={"type": "latency"}), 409, "toxic already exists")


def test_default_toxic_names_let_one_type_live_on_both_streams(http: Http) -> None:
    create(http)
    assert http("POST", "/proxies/redis/toxics", json={"type": "latency"}).json()["name"] == "latency_downstream"
    upstream = http("POST", "/proxies/redis/toxics", json={"type": "latency", "stream": "upstream"})
    assert upstream.status_code == 200 and upstream.json()["name"] == "latency_upstream"


def test_a_taken_listen_address_is_gos_bind_error(http: Http, echo: EchoServer) -> None:
    response = http("POST", "/proxies", json={"name": "clash", "upstream": "127.0.0.1:1", "listen": str(echo.address)})
    assert_go_error(response, 500, f"listen tcp {echo.address}: bind: address already in use")


def test_an_empty_populate_answers_proxies_null(http: Http) -> None:
    response = http("POST", "/populate", json=[])
    assert (response.status_code, response.content) == (201, b'{"proxies":null}')
    assert response.headers["Content-Type"] == "application/json"


def test_a_populate_error_is_json_with_proxies_null_and_no_newline(http: Http) -> None:
    response = http("POST", "/populate", json=[{"name": "a", "upstream": "127.0.0.1:1"}, {"upstream": "127.0.0.1:2"}])
    assert response.status_code == 400 and response.headers["Content-Type"] == "application/json"
    assert response.content == b'{"error":"missing required field: name at proxy 2","status":400,"proxies":null}'
    assert http("GET", "/proxies").json() == {}, "nothing is created when one proxy is bad"


def test_a_populate_of_several_megabytes_is_accepted(http: Http) -> None:
    proxies = [{"name": f"p{index}", "upstream": "127.0.0.1:1", "listen": "127.0.0.1:0", "enabled": False,
                "padding": "x" * 5000} for index in range(1100)]
    body = json.dumps(proxies).encode()
    assert len(body) > 5_000_000
    response = http("POST", "/populate", data=body)
    assert response.status_code == 201, response.text[:200]
    assert len(response.json()["proxies"]) == 1100


def test_the_proxy_index_is_a_go_map_with_sorted_names(http: Http) -> None:
    for name in ("zeta", "alpha", "Mid"):
        create(http, name)
    assert list(json.loads(http("GET", "/proxies").content)) == ["Mid", "alpha", "zeta"]
    assert http("GET", "/proxies").content.startswith(b'{"Mid":{"name":"Mid",')


def test_html_characters_are_escaped_as_go_escapes_them(http: Http) -> None:
    response = http("POST", "/proxies", json={"name": "<a&b>", "upstream": "127.0.0.1:1", "listen": "127.0.0.1:0"})
    assert response.content.startswith(b'{"name":"\\u003ca\\u0026b\\u003e",')


def test_version_is_the_go_servers_hand_written_line(http: Http) -> None:
    response = http("GET", "/version")
    assert response.headers["Content-Type"] == "application/json;charset=utf-8"
    assert re.fullmatch(rb'\{"version": "2\.[^"]+"\}\n', response.content)


def test_every_routed_answer_carries_a_fresh_request_id(http: Http) -> None:
    ids = [http("GET", path).headers["X-Toxiproxy-Request-Id"] for path in ("/version", "/proxies", "/proxies/x")]
    assert all(REQUEST_ID.match(request_id) for request_id in ids) and len(set(ids)) == 3


def test_browsers_are_refused_in_plain_text(http: Http) -> None:
    response = http("GET", "/proxies", headers={"User-Agent": "Mozilla/5.0"})
    assert (response.status_code, response.content) == (403, b"User agent not allowed\n")
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_a_slicer_with_default_attributes_is_accepted_and_never_crashes(http: Http, echo: EchoServer) -> None:
    listen = create(http, "echo", str(echo.address))["listen"]
    added = http("POST", "/proxies/echo/toxics", json={"type": "slicer"})
    assert added.status_code == 200
    assert added.json()["attributes"] == {"average_size": 0, "size_variation": 0, "delay": 0}
    with connect(parse_listen(listen)) as sock:
        payload = bytes(range(256)) * 64
        assert round_trip(sock, payload)[0] == payload


def raw_exchange(address: tuple[str, int], request: bytes) -> bytes:
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(request)
        answer = b""
        while data := sock.recv(65536):
            answer += data
            if b"\r\n\r\n" in answer and answer.endswith(b"}\n"):
                break
        return answer


def test_what_the_http_parser_refuses_still_answers_a_json_error(toxiproxy_server) -> None:
    address = (toxiproxy_server.host, toxiproxy_server.port)
    bad_method = raw_exchange(address, b"G(T /proxies HTTP/1.1\r\nHost: x\r\n\r\n")
    assert bad_method.startswith(b"HTTP/1.") and b" 400 " in bad_method.split(b"\r\n")[0]
    assert b"Content-Type: text/plain; charset=utf-8" in bad_method
    assert json.loads(bad_method.split(b"\r\n\r\n", 1)[1])["status"] == 400
    too_long = raw_exchange(address, b"GET /" + b"x" * (2 << 20) + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert b" 431 " in too_long.split(b"\r\n")[0]
    assert json.loads(too_long.split(b"\r\n\r\n", 1)[1]) == {"error": "request header fields too large", "status": 431}


def test_a_request_line_over_8_kb_is_served_as_go_serves_it(http: Http) -> None:
    """Go reads up to 1 MiB of request line and headers; aiohttp's default would refuse at 8 KiB."""
    assert_go_error(http("GET", "/proxies/" + "x" * 9000), 404, "proxy not found")
