"""The engine refuses tenant routes whose context is missing, forged or stale
(SPEC §1 trust rule 2): the signature must hold on its own, even for a caller
that reaches the Unix socket directly."""

import json
import time

import requests

from conftest import engine_call
from parley_context import sign_context

CHAT = "/v1/chat/completions"
BODY = {"model": "support", "messages": [
    {"role": "user", "content": "What is the launch codename?"}]}


def context_for(stack, tenant, age_ms=0, secret=None):
    return sign_context(secret or stack.secret("edge.secret"), tenant.id,
                        "key", tenant.key_id, "-", "r" * 32,
                        int(time.time() * 1000) - age_ms)


def test_a_valid_context_is_accepted(stack, tenant_a):
    status, _, payload = engine_call(stack, "POST", CHAT,
                                     context_for(stack, tenant_a), BODY)
    assert status == 200, payload
    assert "ZEPHYR-7781" in payload


def test_missing_context_is_refused(stack, tenant_a):
    status, _, payload = engine_call(stack, "POST", CHAT, None, BODY)
    assert status == 401
    assert json.loads(payload)["error"]["code"] == "invalid_context"


def test_forged_context_is_refused(stack, tenant_a):
    forged = context_for(stack, tenant_a, secret="x" * 48)
    status, _, payload = engine_call(stack, "POST", CHAT, forged, BODY)
    assert status == 401
    assert "ZEPHYR" not in payload


def test_tampered_context_is_refused(stack, tenant_a, tenant_b):
    valid = context_for(stack, tenant_b)
    tampered = valid.replace(tenant_b.id, tenant_a.id)
    status, _, payload = engine_call(stack, "POST", CHAT, tampered, BODY)
    assert status == 401
    assert "ZEPHYR" not in payload


def test_stale_context_is_refused(stack, tenant_a):
    stale = context_for(stack, tenant_a, age_ms=31_000)
    status, _, _ = engine_call(stack, "POST", CHAT, stale, BODY)
    assert status == 401


def test_introspection_needs_the_edge_context(stack, tenant_a):
    path = "/internal/v1/introspect?key_hash=" + "0" * 64
    status, _, _ = engine_call(stack, "GET", path, context_for(stack, tenant_a))
    assert status == 401
    status, _, _ = engine_call(stack, "GET", path)
    assert status == 401


def test_the_engine_metrics_are_on_its_socket_only(stack):
    status, headers, payload = engine_call(stack, "GET", "/metrics")
    assert status == 200
    assert headers["content-type"].startswith("text/plain")
    # this request's own connection is open while it is answered
    assert "parley_http_connections_open " in payload
    assert "\nparley_streams_open 0\n" in payload
    # nginx forwards no such path: the operator's metrics stay private
    r = requests.get(f"{stack.url}/metrics", timeout=10)
    assert r.status_code == 404
    assert "parley_streams_open" not in r.text
