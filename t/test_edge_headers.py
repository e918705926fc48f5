"""Security headers (SPEC 3.3) on every response of the API, the edge's own
refusals included, and every edge refusal in the OpenAI error shape.  The
widget's static assets may be loaded from other origins, and keep the
engine's caching headers."""

import pytest
import requests

from conftest import auth, chat, client_from, make_tenant
from parley_context import NIL_TENANT, verify_context
from test_edge_bootstrap import fresh_origin
from test_edge_context import (FakeRoutesTap, canned, headers_named, now_ms,
                               sent_to)

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


def assert_security_headers(r):
    for name, value in EXPECTED.items():
        assert r.headers.get(name) == value, name
    assert "camera=()" in r.headers["Permissions-Policy"]
    # plain HTTP here: HSTS belongs to TLS responses only
    assert "Strict-Transport-Security" not in r.headers


@pytest.fixture(scope="module")
def tenant(stack):
    return make_tenant(stack)


def test_successful_answers_carry_the_headers(stack, tenant):
    r = chat(stack, tenant.key, "Hello?")
    assert r.status_code == 200
    assert_security_headers(r)


def test_streams_carry_the_headers(stack, tenant):
    with chat(stack, tenant.key, "Hello?", stream=True) as r:
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/event-stream")
        assert_security_headers(r)


def test_authentication_refusals_carry_the_headers(stack):
    r = requests.get(f"{stack.url}/v1/models", timeout=10)
    assert r.status_code == 401
    assert_security_headers(r)


def test_too_large_bodies_are_refused_in_json_with_the_headers(
        stack, tenant):
    r = requests.post(f"{stack.url}/v1/chat/completions",
                      data=b"{" + b" " * (2 << 20) + b"}",
                      headers={**auth(tenant.key),
                               "Content-Type": "application/json"},
                      timeout=30)
    assert r.status_code == 413
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["error"]["code"] == "request_too_large"
    assert_security_headers(r)


def test_health_carries_the_headers(stack):
    r = requests.get(f"{stack.url}/healthz", timeout=10)
    assert r.status_code == 200
    assert_security_headers(r)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_introspection_location_is_internal(stack, method):
    url = f"{stack.url}/_parley/introspect?key_hash=" + "0" * 64
    r = requests.request(method, url, timeout=10)
    assert r.status_code == 404


def test_refusals_keep_the_connection_alive(stack):
    with requests.Session() as s:
        for _ in range(3):
            r = s.post(f"{stack.url}/v1/chat/completions", data=b"x" * 4096,
                       timeout=10)
            assert r.status_code == 401
            assert r.headers.get("Connection", "keep-alive") == "keep-alive"
        r = s.get(f"{stack.url}/healthz", timeout=10)
        assert r.status_code == 200


# -- the widget's static assets -----------------------------------------------

ASSET = (b"(function(){/* the loader */})();\n")
ASSET_HEADERS = (("Content-Type", "text/javascript; charset=utf-8"),
                 ("Cache-Control", "public, max-age=300"),
                 ("ETag", '"w1-5d1c0a9e"'),
                 ("Cross-Origin-Resource-Policy", "same-origin"))


def asset_routes(target):
    if target == "/widget.js" or target.startswith("/widget/v1/assets/"):
        return canned("200 OK", ASSET, ASSET_HEADERS)
    return None


@pytest.fixture
def asset_tap(stack):
    with FakeRoutesTap(stack, asset_routes) as t:
        yield t


@pytest.mark.parametrize("path", ["/widget.js",
                                  "/widget/v1/assets/frame.css"])
def test_assets_may_be_loaded_from_any_origin_and_keep_their_caching(
        stack, asset_tap, path):
    asset_tap.clear()
    r = requests.get(f"{stack.url}{path}", timeout=10,
                     headers={"Origin": fresh_origin(),
                              "Referer": "https://shop.example/"})
    assert r.status_code == 200, r.text
    assert r.content == ASSET
    # <script src> from a tenant's page: the edge allows it
    assert r.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    # the upstream's caching, untouched
    assert r.headers["Cache-Control"] == "public, max-age=300"
    # (weakened by nginx when it compresses the answer, as browsers ask)
    assert r.headers["ETag"].removeprefix("W/") == '"w1-5d1c0a9e"'
    assert r.headers["Content-Type"] == "text/javascript; charset=utf-8"
    # and the rest of the security headers
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert "camera=()" in r.headers["Permissions-Policy"]
    assert "Access-Control-Allow-Origin" not in r.headers

    [(_, headers)] = sent_to(asset_tap, path)
    [context] = headers_named(headers, "X-Parley-Context")
    fields = verify_context(stack.secret("edge.secret"), context, now_ms())
    assert (fields["tenant"], fields["kind"], fields["principal"]) == \
        (NIL_TENANT, "edge", "public")

    # HEAD: the engine's GET, the head of it
    asset_tap.clear()
    h = requests.head(f"{stack.url}{path}", timeout=10)
    assert h.status_code == 200
    assert h.content == b""
    assert h.headers["ETag"].removeprefix("W/") == '"w1-5d1c0a9e"'
    assert h.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert [t for t, _ in asset_tap.requests() if t == path] == [path]

    r = requests.post(f"{stack.url}{path}", json={}, timeout=10)
    assert r.status_code == 405
    assert r.headers["Allow"] == "GET, HEAD"


def test_assets_have_no_per_address_limit(stack, asset_tap):
    # the bootstrap routes' (30r/m, burst 10) would refuse the 12th
    with client_from("127.0.0.82") as client:
        statuses = {client.get(f"{stack.url}/widget.js", timeout=10)
                    .status_code for _ in range(40)}
    assert statuses == {200}
