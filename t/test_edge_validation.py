"""Validation at the edge (SPEC 3.4): a method a route does not have is
refused with 405 and Allow, a body that is not JSON with 415, a body over
the route's limit with 413, and an internal location from outside with
404; each with an OpenAI-shaped JSON error, and none reaches the engine."""

import pytest
import requests

from conftest import auth, make_tenant
from test_edge_context import EngineTap


@pytest.fixture(scope="module")
def tenant(stack):
    return make_tenant(stack)


def assert_json_error(r, status, code):
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == "application/json"
    error = r.json()["error"]
    assert (error["type"], error["code"]) == ("invalid_request_error", code)
    assert error["message"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def refused(stack, tenant):
    """(method, path, keyword arguments of requests, status, code, Allow)
    of requests the edge must refuse by itself."""
    admin = auth(stack.secret("admin.token"))
    return [
        # wrong methods, with or without a credential: 405 comes first
        ("DELETE", "/v1/models", {}, 405, "method_not_allowed",
         "GET, POST"),
        ("PUT", "/v1/models", {"headers": auth(tenant.key)}, 405,
         "method_not_allowed", "GET, POST"),
        ("GET", "/v1/chat/completions", {"headers": auth(tenant.key)}, 405,
         "method_not_allowed", "POST"),
        ("BREW", "/v1/chat/completions", {}, 405, "method_not_allowed",
         "POST"),
        ("DELETE", "/widget/v1/history", {}, 405, "method_not_allowed",
         "GET, POST"),
        ("POST", "/widget/v1/streams/x", {}, 405, "method_not_allowed",
         "GET"),
        ("PUT", "/widget.js", {}, 405, "method_not_allowed", "GET, HEAD"),
        ("DELETE", "/widget/v1/assets/x.css", {}, 405, "method_not_allowed",
         "GET, HEAD"),
        ("GET", "/widget/v1/session", {}, 405, "method_not_allowed", "POST"),
        ("DELETE", "/widget/v1/frame", {}, 405, "method_not_allowed",
         "GET"),
        ("OPTIONS", "/admin/v1/tenants", {"headers": admin}, 405,
         "method_not_allowed", "GET, POST, PUT, PATCH, DELETE"),
        # bodies that are not JSON, once the credential passed
        ("POST", "/v1/chat/completions",
         {"headers": {**auth(tenant.key), "Content-Type": "text/plain"},
          "data": b'{"model": "support"}'}, 415, "unsupported_media_type",
         None),
        ("POST", "/v1/chat/completions",
         {"headers": auth(tenant.key), "data": b'{"model": "support"}'},
         415, "unsupported_media_type", None),
        ("POST", "/v1/chat/completions",
         {"headers": {**auth(tenant.key),
                      "Content-Type": "application/jsonx"},
          "data": b"{}"}, 415, "unsupported_media_type", None),
        ("POST", "/widget/v1/session",
         {"headers": {"Content-Type": "application/x-www-form-urlencoded",
                      "X-Parley-Site-Key": "pk_x"},
          "data": b"a=b"}, 415, "unsupported_media_type", None),
        ("POST", "/admin/v1/tenants",
         {"headers": {**admin, "Content-Type": "multipart/form-data"},
          "data": b"--x--"}, 415, "unsupported_media_type", None),
        # bodies over the route's limit
        ("POST", "/widget/v1/session",
         {"headers": {"Content-Type": "application/json"},
          "data": b"{" + b" " * 8192 + b"}"}, 413, "request_too_large",
         None),
        # internal locations
        ("GET", "/_parley/introspect?key_hash=" + "0" * 64, {}, 404,
         "not_found", None),
        ("GET", "/internal/v1/introspect?origin=https://a.example", {}, 404,
         "not_found", None),
    ]


def test_the_edge_refuses_invalid_requests_by_itself(stack, tenant):
    cases = refused(stack, tenant)
    # the key is cached: its introspection is not part of what is counted
    assert requests.get(f"{stack.url}/v1/models", headers=auth(tenant.key),
                        timeout=10).status_code == 200
    with EngineTap(stack) as tap:
        tap.clear()
        for method, path, kw, status, code, allow in cases:
            r = requests.request(method, f"{stack.url}{path}", timeout=10,
                                 **kw)
            assert_json_error(r, status, code)
            assert r.headers.get("Allow") == allow, (method, path)
        reached = [t for t, _ in tap.requests()
                   if not t.startswith("/internal/v1/introspect?key_hash=")]
    assert reached == []


def test_json_bodies_and_allowed_methods_pass(stack, tenant):
    r = requests.post(f"{stack.url}/v1/chat/completions",
                      data=b'{"model": "support", "messages": '
                           b'[{"role": "user", "content": "Hello?"}]}',
                      headers={**auth(tenant.key), "Content-Type":
                               "Application/JSON; charset=utf-8"},
                      timeout=30)
    assert r.status_code == 200, r.text
    r = requests.head(f"{stack.url}/v1/models", headers=auth(tenant.key),
                      timeout=10)
    assert r.status_code == 405
    assert r.headers["Allow"] == "GET, POST"
    # no body, no media type needed
    r = requests.get(f"{stack.url}/v1/models", headers=auth(tenant.key),
                     timeout=10)
    assert r.status_code == 200


def test_refusals_are_counted_by_reason(stack, tenant):
    def sample(reason):
        text = requests.get(f"{stack.url}/_parley/status", timeout=10).text
        line = f'parley_requests_refused_total{{reason="{reason}"}} '
        return int(next(x for x in text.splitlines()
                        if x.startswith(line))[len(line):])

    before = (sample("method_not_allowed"), sample("unsupported_media_type"))
    requests.delete(f"{stack.url}/v1/models", timeout=10)
    requests.post(f"{stack.url}/v1/chat/completions", data=b"x",
                  headers=auth(tenant.key), timeout=10)
    after = (sample("method_not_allowed"), sample("unsupported_media_type"))
    assert (after[0] - before[0], after[1] - before[1]) == (1, 1)
