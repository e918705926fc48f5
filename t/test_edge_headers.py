"""Security headers (SPEC 3.3) on every response of the API, the edge's own
refusals included, and every edge refusal in the OpenAI error shape."""

import pytest
import requests

from conftest import auth, chat, make_tenant

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
