"""The admin token at the edge (SPEC 3.1): /admin/v1/ refuses everything
but the exact token with 401 JSON, and the token passes to the engine as an
admin context with the nil tenant; the engine is never asked about it."""

import socket

import pytest
import requests

from conftest import (REPO, client_from, engine_log_events, extra_site,
                      make_tenant)
from parley_stack import free_port
from parley_context import NIL_TENANT, verify_context
from test_edge_context import EngineTap, headers_named, now_ms, sent_to


def admin_token(stack):
    return stack.secret("admin.token")


def assert_invalid_admin_token(r):
    assert r.status_code == 401
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert r.json()["error"]["code"] == "invalid_admin_token"
    assert r.json()["error"]["type"] == "invalid_request_error"


def wrong_tokens(token, tenant_key):
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    return {
        "none": None,
        "empty bearer": "Bearer ",
        "basic": "Basic " + token,
        "one character changed": f"Bearer {flipped}",
        "prefix": f"Bearer {token[:-1]}",
        "longer": f"Bearer {token}x",
        "secret key": f"Bearer {tenant_key}",
    }


def test_everything_but_the_token_is_refused(stack):
    token = admin_token(stack)
    tenant = make_tenant(stack)
    for name, value in wrong_tokens(token, tenant.key).items():
        headers = {} if value is None else {"Authorization": value}
        for method in ("GET", "POST", "DELETE"):
            r = requests.request(method, f"{stack.url}/admin/v1/tenants",
                                 headers=headers, timeout=10)
            assert r.status_code == 401, (name, method)
            assert_invalid_admin_token(r)


def test_the_token_passes_the_edge_as_an_admin_context(stack):
    token = admin_token(stack)
    before = len(engine_log_events(stack, "introspect"))
    with EngineTap(stack) as tap:
        tap.clear()
        r = requests.get(f"{stack.url}/admin/v1/tenants",
                         headers={"Authorization": f"Bearer {token}"},
                         timeout=10)
        sent = sent_to(tap, "/admin/v1/tenants")
    # the engine answered as it answers an admin
    assert r.status_code == 200, r.text
    assert r.json()["object"] == "list"
    assert len(sent) == 1
    _, headers = sent[0]
    assert headers_named(headers, "Authorization") == []
    [context] = headers_named(headers, "X-Parley-Context")
    fields = verify_context(stack.secret("edge.secret"), context, now_ms())
    assert fields["tenant"] == NIL_TENANT
    assert (fields["kind"], fields["principal"]) == ("admin", "token")
    assert fields["session"] == "-"
    assert len(engine_log_events(stack, "introspect")) == before


@pytest.mark.parametrize("content, error", [
    ("short-token\n", "shorter than 32 characters"),
    ("   \n", "shorter than 32 characters"),
])
def test_a_short_admin_token_is_a_configuration_error(
        nginx_check, tmp_path, content, error):
    path = tmp_path / "admin.token"
    path.write_text(content)
    path.chmod(0o600)
    ok, output = nginx_check(f"parley_admin_token_file {path};")
    assert not ok
    assert error in output


# -- the admin network and the admin limit -----------------------------------

@pytest.mark.parametrize("where", ["location", "server"])
def test_satisfy_any_cannot_open_an_authenticated_location(
        nginx_check, tmp_path, where):
    """Under "satisfy any" an "allow" alone would grant access and skip the
    credential check: refused at configuration."""
    secrets = ""
    for name, text in (("admin_token", "a" * 40), ("edge_secret", "e" * 40)):
        path = tmp_path / name
        path.write_text(text + "\n")
        path.chmod(0o600)
        secrets += f"parley_{name}_file {path};\n"
    satisfy = "satisfy any; allow 127.0.0.1; deny all;"
    location = ("location /admin/ { parley_auth admin; "
                + (satisfy if where == "location" else "") + " }")
    server = ("server { listen 127.0.0.1:8; "
              + (satisfy if where == "server" else "") + f" {location} }}")
    ok, output = nginx_check(secrets + server)
    assert not ok
    assert '"parley_auth" needs "satisfy all"' in output
    ok, output = nginx_check(secrets + server.replace("satisfy any;", ""))
    assert ok, output


def assert_json_error(r, status, code):
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["error"]["code"] == code


def test_addresses_outside_the_admin_network_are_refused_first(stack):
    # parley-locations.conf allows 127.0.0.1 and ::1 only; anyone else gets
    # 403 JSON, with the right token or without one: nothing to learn
    token = admin_token(stack)
    with client_from("127.0.0.2") as client:
        for headers in ({"Authorization": f"Bearer {token}"},
                        {"Authorization": "Bearer " + "x" * 40}, {}):
            r = client.get(f"{stack.url}/admin/v1/tenants", headers=headers,
                           timeout=10)
            assert_json_error(r, 403, "forbidden")
            assert "WWW-Authenticate" not in r.headers
    r = requests.get(f"{stack.url}/admin/v1/tenants", timeout=10,
                     headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text


def ipv6_loopback_port_open(port):
    with socket.socket(socket.AF_INET6) as s:
        s.settimeout(0.2)
        return s.connect_ex(("::1", port)) == 0


@pytest.fixture
def ipv6_site(stack):
    """The example locations on ::1 as well, the other allowed admin
    address: its admin limit is its own, apart from 127.0.0.1's."""
    port = free_port()
    text = f"""
    server {{
        listen [::1]:{port};
        include {REPO / 'conf.examples' / 'parley-locations.conf'};
    }}
"""
    with extra_site(stack, text, "nginx on [::1]", lambda: ipv6_loopback_port_open(port)):
        yield f"http://[::1]:{port}"


def test_admin_requests_beyond_the_limit_get_429_json(stack, ipv6_site):
    # parley-locations.conf: parley_limit ip rate=120r/m burst=60
    headers = {"Authorization": f"Bearer {admin_token(stack)}"}
    statuses = []
    with requests.Session() as client:
        for _ in range(200):
            r = client.get(f"{ipv6_site}/admin/v1/tenants", headers=headers,
                           timeout=10)
            statuses.append(r.status_code)
            if r.status_code != 200:
                break
    assert_json_error(r, 429, "rate_limited")
    assert r.json()["error"]["type"] == "rate_limit_error"
    assert int(r.headers["Retry-After"]) >= 1
    assert r.headers["RateLimit-Policy"] == '"ip";q=120;w=60'
    # the burst and what the rate added while it was spent
    assert 61 <= statuses.count(200) < 100, statuses.count(200)

    # another admin address is not limited by this one's requests
    r = requests.get(f"{stack.url}/admin/v1/tenants", headers=headers,
                     timeout=10)
    assert r.status_code == 200, r.text
