"""Every endpoint answers with Toxiproxy 2.x's status codes, field names, defaults and error bodies."""
from __future__ import annotations

import socket

import pytest

from tests.toxiproxy.conftest import Http
from tests.toxiproxy.tcp import EchoServer

pytestmark = pytest.mark.unit

PROXY_FIELDS = {"name", "listen", "upstream", "enabled", "Logger", "toxics"}
TOXIC_FIELDS = {"name", "type", "stream", "toxicity", "attributes"}


def create(http: Http, name: str = "redis", upstream: str = "127.0.0.1:6379", **fields: object) -> dict:
    response = http("POST", "/proxies", json={"name": name, "upstream": upstream, "listen": "127.0.0.1:0", **fields})
    assert response.status_code == 201, response.text
    return response.json()


def assert_error(response, status: int, *fragments: str) -> None:
    """Toxiproxy's error body: {"error": message, "status": code}, the message naming what was wrong."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"error", "status"} and body["status"] == status
    for fragment in fragments:
        assert fragment in body["error"]


def test_version_answers_a_2x_version_as_json(http: Http) -> None:
    response = http("GET", "/version")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["version"].startswith("2.")


def test_creating_a_proxy_answers_201_with_its_fields_and_the_real_port(http: Http) -> None:
    proxy = create(http)
    assert set(proxy) == PROXY_FIELDS
    assert proxy["name"] == "redis" and proxy["upstream"] == "127.0.0.1:6379"
    assert proxy["enabled"] is True and proxy["toxics"] == []
    host, _, port = proxy["listen"].rpartition(":")
    assert host == "127.0.0.1" and int(port) > 0
    socket.create_connection((host, int(port)), timeout=2).close()  # really listening


def test_a_proxy_created_disabled_does_not_listen_and_keeps_its_listen_field(http: Http) -> None:
    proxy = create(http, enabled=False)
    assert proxy["enabled"] is False and proxy["listen"] == "127.0.0.1:0"


def test_a_taken_proxy_name_answers_409(http: Http) -> None:
    create(http)
    assert_error(http("POST", "/proxies", json={"name": "redis", "upstream": "127.0.0.1:1"}), 409,
                 "proxy already exists")


def test_proxy_index_maps_names_to_proxies_with_their_toxics(http: Http) -> None:
    create(http, "a")
    create(http, "b")
    http("POST", "/proxies/a/toxics", json={"type": "latency", "attributes": {"latency": 10}})
    index = http("GET", "/proxies").json()
    assert set(index) == {"a", "b"}
    assert all(set(proxy) == PROXY_FIELDS for proxy in index.values())
    assert [toxic["name"] for toxic in index["a"]["toxics"]] == ["latency_downstream"]


def test_showing_a_proxy_answers_its_fields_and_a_missing_one_404(http: Http) -> None:
    created = create(http)
    assert http("GET", "/proxies/redis").json() == created
    assert_error(http("GET", "/proxies/nope"), 404, "proxy not found")


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_updating_a_proxy_by_post_or_patch_answers_the_updated_proxy(http: Http, method: str) -> None:
    create(http)
    disabled = http(method, "/proxies/redis", json={"enabled": False})
    assert disabled.status_code == 200 and disabled.json()["enabled"] is False
    enabled = http(method, "/proxies/redis", json={"enabled": True})
    assert enabled.status_code == 200 and enabled.json()["enabled"] is True
    assert set(enabled.json()) == PROXY_FIELDS
    assert_error(http(method, "/proxies/nope", json={"enabled": True}), 404, "proxy not found")


def test_changing_the_upstream_keeps_the_proxy_enabled(http: Http) -> None:
    create(http)
    updated = http("PATCH", "/proxies/redis", json={"upstream": "127.0.0.1:6380"}).json()
    assert updated["upstream"] == "127.0.0.1:6380" and updated["enabled"] is True


def test_deleting_a_proxy_answers_204_and_then_404(http: Http) -> None:
    listen = create(http)["listen"]
    deleted = http("DELETE", "/proxies/redis")
    assert deleted.status_code == 204 and deleted.content == b""
    assert_error(http("DELETE", "/proxies/redis"), 404, "proxy not found")
    host, _, port = listen.rpartition(":")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, int(port)), timeout=2)


def test_a_new_toxic_gets_toxiproxys_defaults_and_answers_200(http: Http) -> None:
    create(http)
    response = http("POST", "/proxies/redis/toxics", json={"type": "latency", "attributes": {"latency": 100}})
    assert response.status_code == 200
    assert response.json() == {"name": "latency_downstream", "type": "latency", "stream": "downstream",
                                "toxicity": 1.0, "attributes": {"latency": 100, "jitter": 0}}


def test_each_toxic_type_shows_its_attributes_with_zero_defaults(http: Http) -> None:
    create(http)
    expected = {"latency": {"latency": 0, "jitter": 0}, "bandwidth": {"rate": 0},
                "slow_close": {"delay": 0}, "timeout": {"timeout": 0}, "reset_peer": {"timeout": 0},
                "limit_data": {"bytes": 0}, "noop": {},
                "slicer": {"average_size": 1, "size_variation": 0, "delay": 0}}
    for toxic_type, attributes in expected.items():
        body = {"type": toxic_type, "stream": "upstream", "attributes": {"average_size": 1}}
        toxic = http("POST", "/proxies/redis/toxics", json=body).json()
        assert set(toxic) == TOXIC_FIELDS and toxic["attributes"] == attributes, toxic_type
        assert toxic["name"] == f"{toxic_type}_upstream"


def test_toxics_are_listed_upstream_chain_first_each_in_order(http: Http) -> None:
    create(http)
    for name, stream in [("d1", "downstream"), ("u1", "upstream"), ("d2", "downstream"), ("u2", "upstream")]:
        http("POST", "/proxies/redis/toxics", json={"name": name, "type": "noop", "stream": stream})
    listed = http("GET", "/proxies/redis/toxics")
    assert listed.status_code == 200
    assert [toxic["name"] for toxic in listed.json()] == ["u1", "u2", "d1", "d2"]


def test_showing_a_toxic_answers_it_and_missing_ones_404(http: Http) -> None:
    create(http)
    added = http("POST", "/proxies/redis/toxics", json={"type": "timeout", "stream": "upstream"}).json()
    assert http("GET", "/proxies/redis/toxics/timeout_upstream").json() == added
    assert_error(http("GET", "/proxies/redis/toxics/nope"), 404, "toxic not found")
    assert_error(http("GET", "/proxies/nope/toxics/timeout_upstream"), 404, "proxy not found")
    assert_error(http("GET", "/proxies/nope/toxics"), 404, "proxy not found")
    assert_error(http("POST", "/proxies/nope/toxics", json={"type": "noop"}), 404, "proxy not found")


def test_a_taken_toxic_name_answers_409_whatever_the_stream(http: Http) -> None:
    create(http)
    http("POST", "/proxies/redis/toxics", json={"name": "slow", "type": "latency"})
    again = http("POST", "/proxies/redis/toxics", json={"name": "slow", "type": "latency", "stream": "upstream"})
    assert_error(again, 409, "toxic already exists")


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_updating_a_toxic_merges_attributes_and_may_change_only_toxicity(http: Http, method: str) -> None:
    create(http)
    http("POST", "/proxies/redis/toxics", json={"type": "latency", "attributes": {"latency": 100, "jitter": 5}})
    response = http(method, "/proxies/redis/toxics/latency_downstream",
                    json={"attributes": {"latency": 300}, "toxicity": 0.5, "stream": "upstream", "type": "noop"})
    assert response.status_code == 200
    assert response.json() == {"name": "latency_downstream", "type": "latency", "stream": "downstream",
                                "toxicity": 0.5, "attributes": {"latency": 300, "jitter": 5}}
    assert_error(http(method, "/proxies/redis/toxics/nope", json={}), 404, "toxic not found")


def test_deleting_a_toxic_answers_204_and_then_404(http: Http) -> None:
    create(http)
    http("POST", "/proxies/redis/toxics", json={"type": "noop"})
    deleted = http("DELETE", "/proxies/redis/toxics/noop_downstream")
    assert deleted.status_code == 204 and deleted.content == b""
    assert_error(http("DELETE", "/proxies/redis/toxics/noop_downstream"), 404, "toxic not found")
    assert http("GET", "/proxies/redis/toxics").json() == []


def test_reset_answers_204_enables_every_proxy_and_removes_every_toxic(http: Http) -> None:
    create(http, "a")
    create(http, "b")
    http("POST", "/proxies/a/toxics", json={"type": "latency"})
    http("POST", "/proxies/b", json={"enabled": False})
    reset = http("POST", "/reset")
    assert reset.status_code == 204 and reset.content == b""
    for proxy in http("GET", "/proxies").json().values():
        assert proxy["enabled"] is True and proxy["toxics"] == []


def test_populate_creates_keeps_matching_and_replaces_changed_proxies(http: Http) -> None:
    kept = create(http, "kept", "127.0.0.1:1000")
    create(http, "changed", "127.0.0.1:2000")
    http("POST", "/proxies/kept/toxics", json={"type": "noop"})
    response = http("POST", "/populate", json=[
        {"name": "kept", "upstream": "127.0.0.1:1000", "listen": kept["listen"]},
        {"name": "changed", "upstream": "127.0.0.1:2001", "listen": "127.0.0.1:0"},
        {"name": "new", "upstream": "127.0.0.1:3000", "listen": "127.0.0.1:0", "enabled": False},
    ])
    assert response.status_code == 201
    proxies = {proxy["name"]: proxy for proxy in response.json()["proxies"]}
    assert set(proxies) == {"kept", "changed", "new"}
    assert proxies["kept"]["toxics"] != [], "a matching proxy is kept, toxics and all"
    assert proxies["changed"]["upstream"] == "127.0.0.1:2001"
    assert proxies["new"]["enabled"] is False


def test_a_listen_address_already_in_use_answers_500_as_toxiproxy_does(http: Http, echo: EchoServer) -> None:
    response = http("POST", "/proxies", json={"name": "clash", "upstream": "127.0.0.1:1", "listen": str(echo.address)})
    assert_error(response, 500, "listen", str(echo.address))
    assert_error(http("GET", "/proxies/clash"), 404)


BAD_PROXY_BODIES = [
    (b"{not json", "bad request body"),
    (b"", "bad request body"),
    (b"[1, 2]", "expected a JSON object"),
    (b'{"upstream": "127.0.0.1:1"}', "missing required field: name"),
    (b'{"name": "x"}', "missing required field: upstream"),
    (b'{"name": 7, "upstream": "127.0.0.1:1"}', "name: expected a string"),
    (b'{"name": "x", "upstream": "127.0.0.1:1", "enabled": "yes"}', "enabled: expected true or false"),
    (b'{"name": "x", "upstream": "127.0.0.1:1", "listen": "127.0.0.1"}', "listen: missing port"),
    (b'{"name": "x", "upstream": "127.0.0.1:1", "listen": "127.0.0.1:99999"}', "listen: port 99999 out of range"),
    (b'{"name": "x", "upstream": "no port"}', "upstream: missing port"),
    (b'{"name": "x", "upstream": ":6379"}', "upstream: missing host"),
    (b'{"name": "x", "upstream": "bad host!:6379"}', "upstream: invalid host"),
    (b'{"name": "x", "upstream": "127.0.0.1:0"}', "upstream: port 0 out of range"),
]


@pytest.mark.parametrize(("body", "message"), BAD_PROXY_BODIES)
def test_a_bad_proxy_body_answers_400_naming_the_field(http: Http, body: bytes, message: str) -> None:
    assert_error(http("POST", "/proxies", data=body), 400, message)
    assert http("GET", "/proxies").json() == {}


BAD_TOXIC_BODIES = [
    ({"type": "lag"}, "invalid toxic type"),
    ({"attributes": {}}, "invalid toxic type"),
    ({"type": "latency", "stream": "sideways"}, "stream was invalid"),
    ({"type": "latency", "toxicity": "all"},
     "bad request body: json: cannot unmarshal string into Go struct field ToxicWrapper.toxicity of type float32"),
    ({"type": "latency", "toxicity": 10**400}, "cannot unmarshal number 1" + "0" * 400 + " into Go struct field"),
    ({"type": "latency", "attributes": {"latency": -5}}, "attributes.latency: must not be negative"),
    ({"type": "latency", "attributes": {"latency": "100"}}, "attributes.latency: expected a non-negative integer"),
    ({"type": "latency", "attributes": {"jitter": 1.5}}, "attributes.jitter: expected a non-negative integer"),
    ({"type": "latency", "attributes": {"latency": True}}, "attributes.latency"),
    ({"type": "bandwidth", "attributes": {"rate": 2**64}}, "attributes.rate: out of range"),
    ({"type": "latency", "attributes": [100]}, "attributes: expected an object"),
    ({"type": "slicer", "attributes": {"average_size": 10, "size_variation": 10}}, "attributes.size_variation"),
    ({"type": "latency", "name": ["x"]}, "name: expected a string"),
]


@pytest.mark.parametrize(("body", "message"), BAD_TOXIC_BODIES)
def test_a_bad_toxic_body_answers_400_naming_the_field(http: Http, body: dict, message: str) -> None:
    create(http)
    assert_error(http("POST", "/proxies/redis/toxics", json=body), 400, message)
    assert http("GET", "/proxies/redis/toxics").json() == []


def test_a_bad_toxic_update_answers_400_and_changes_nothing(http: Http) -> None:
    create(http)
    added = http("POST", "/proxies/redis/toxics", json={"type": "latency", "attributes": {"latency": 100}}).json()
    assert_error(http("PATCH", "/proxies/redis/toxics/latency_downstream",
                      json={"attributes": {"latency": -1}}), 400, "attributes.latency")
    assert_error(http("PATCH", "/proxies/redis/toxics/latency_downstream", json={"toxicity": 10**400}), 400,
                 "bad request body: json: cannot unmarshal number 1000")
    assert http("GET", "/proxies/redis/toxics/latency_downstream").json() == added


@pytest.mark.parametrize(("body", "message"), [
    ({"name": "x", "upstream": "127.0.0.1:1"}, "expected a JSON array"),
    ([{"name": "a", "upstream": "127.0.0.1:1"}, {"name": "b"}], "missing required field: upstream at proxy 2"),
    ([{"name": "a", "upstream": "127.0.0.1:1"}, {"name": "a", "upstream": "127.0.0.1:2"}], "duplicate proxy name"),
])
def test_a_bad_populate_body_answers_400_and_creates_nothing(http: Http, body: object, message: str) -> None:
    response = http("POST", "/populate", json=body)
    assert_error(response, 400, message)
    assert response.json()["proxies"] is None
    assert http("GET", "/proxies").json() == {}


def test_unknown_routes_answer_404_and_wrong_methods_405_with_error_bodies(http: Http) -> None:
    assert_error(http("GET", "/nowhere"), 404)
    assert_error(http("PUT", "/proxies"), 405)


def test_browsers_are_refused_as_toxiproxy_refuses_them(http: Http) -> None:
    response = http("GET", "/proxies", headers={"User-Agent": "Mozilla/5.0"})
    assert response.status_code == 403
