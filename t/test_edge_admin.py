"""The admin token at the edge (SPEC 3.1): /admin/v1/ refuses everything
but the exact token with 401 JSON, and the token passes to the engine as an
admin context with the nil tenant; the engine is never asked about it."""

import pytest
import requests

from conftest import engine_log_events, make_tenant
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
