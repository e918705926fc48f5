"""Rate limits at the edge (SPEC 3.2): a burst past the tenant's plan is
refused with 429, Retry-After and the RateLimit headers, a retry after
Retry-After passes, and other tenants are not affected; a single API key is
limited on its own too, and so is a client address trying keys the edge
does not know; dry-run mode refuses nothing but logs.  (Widget sessions
and client addresses: test_edge_widget.py.)"""

import time

import pytest
import requests

from conftest import (EDGE_OVERRIDES, auth, client_from, engine_log_events,
                      make_tenant)
from test_edge_auth import random_key

SECURITY_HEADERS = ("X-Content-Type-Options", "Referrer-Policy",
                    "Permissions-Policy", "Cross-Origin-Resource-Policy",
                    "Content-Security-Policy")


def models(stack, key):
    return requests.get(f"{stack.url}/v1/models", headers=auth(key),
                        timeout=10)


def rate_limit(r):
    """The RateLimit header as {"r": remaining, "t": seconds}."""
    name, *params = r.headers["RateLimit"].split(";")
    assert name == '"tenant"'
    return {k: int(v) for k, v in (p.split("=") for p in params)}


def test_burst_past_the_plan_is_refused_with_429(stack):
    # 30 requests a minute: one every 2 s, plus a burst of 1
    tenant = make_tenant(stack, rpm=30, burst=1)

    allowed = [models(stack, tenant.key) for _ in range(2)]
    refused = models(stack, tenant.key)

    for r in allowed:
        assert r.status_code != 429
        assert r.headers["RateLimit-Policy"] == '"tenant";q=30;w=60'
    assert [rate_limit(r)["r"] for r in allowed] == [1, 0]

    assert refused.status_code == 429
    assert refused.headers["Content-Type"] == "application/json"
    assert refused.json() == {"error": {
        "message": refused.json()["error"]["message"],
        "type": "rate_limit_error", "code": "rate_limited"}}
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 2
    assert refused.headers["RateLimit-Policy"] == '"tenant";q=30;w=60'
    assert rate_limit(refused) == {"r": 0, "t": retry_after}
    for name in SECURITY_HEADERS:
        assert name in refused.headers

    # Retry-After is never too early: a retry after it passes
    time.sleep(retry_after)
    assert models(stack, tenant.key).status_code != 429


def test_other_tenants_are_not_affected(stack):
    busy = make_tenant(stack, rpm=30, burst=1)
    calm = make_tenant(stack, rpm=30, burst=1)

    statuses = [models(stack, busy.key).status_code for _ in range(4)]
    assert statuses.count(429) >= 2

    r = models(stack, calm.key)
    assert r.status_code != 429
    assert rate_limit(r)["r"] == 1


def test_tenants_without_a_plan_get_the_edge_defaults(stack):
    tenant = make_tenant(stack)
    r = models(stack, tenant.key)
    assert r.status_code != 429
    # parley-locations.conf: parley_limit tenant ... rate=600r/m burst=50
    assert r.headers["RateLimit-Policy"] == '"tenant";q=600;w=60'
    assert rate_limit(r)["r"] == 50


def test_limits_survive_a_reload(stack):
    # one request every 10 s plus a burst of 1: a third within 10 s is over
    tenant = make_tenant(stack, rpm=6, burst=1)
    for _ in range(2):
        assert models(stack, tenant.key).status_code != 429
    stack.reload_nginx()
    time.sleep(1)   # the old workers have stopped accepting by now
    r = models(stack, tenant.key)
    assert r.status_code == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 10


def test_a_single_key_is_limited_on_its_own(stack):
    # a plan far above the key limit of parley-locations.conf:
    # parley_limit key rate=1200r/m burst=100
    tenant = make_tenant(stack, rpm=100000, burst=10000)
    second = stack.parley("key", "create", "--tenant", tenant.slug,
                          "--kind", "secret", "--json")["key"]
    with requests.Session() as s:
        statuses = []
        for _ in range(300):
            r = s.get(f"{stack.url}/v1/models", headers=auth(tenant.key),
                      timeout=10)
            statuses.append(r.status_code)
            if r.status_code == 429:
                break
    assert statuses[-1] == 429, statuses
    assert len(statuses) > 101
    assert r.headers["RateLimit-Policy"] == '"key";q=1200;w=60'
    assert r.headers["RateLimit"] == '"key";r=0;t=1'
    assert r.headers["Retry-After"] == "1"
    assert r.json()["error"]["code"] == "rate_limited"

    # the tenant's other key is not limited by the first one's use
    other = models(stack, second)
    assert other.status_code == 200
    assert other.headers["RateLimit-Policy"] == '"key";q=1200;w=60'
    assert other.headers["RateLimit"].startswith('"key";r=100;')


def test_dry_run_refuses_nothing_but_logs(stack):
    tenant = make_tenant(stack, rpm=6, burst=1)
    stack.edge_overrides = {**EDGE_OVERRIDES, "parley_limit_dry_run": "on"}
    stack.reload_nginx()
    time.sleep(1)
    try:
        log = stack.log_dir / "nginx-error.log"
        line = f"dry run, by tenant, tenant {tenant.id}"
        logged = log.read_text().count(line)
        responses = [models(stack, tenant.key) for _ in range(4)]
        assert [r.status_code for r in responses] == [200] * 4
        # the headers say what would have happened
        assert rate_limit(responses[-1])["r"] == 0
        assert "Retry-After" not in responses[-1].headers
        time.sleep(0.2)
        assert log.read_text().count(line) - logged == 2
    finally:
        stack.edge_overrides = dict(EDGE_OVERRIDES)
        stack.reload_nginx()
        time.sleep(1)
    # without dry run, the tenant's exhausted limit refuses again
    assert models(stack, tenant.key).status_code == 429


def test_made_up_keys_are_limited_per_address_before_the_engine_is_asked(
        stack):
    # parley-locations.conf: parley_limit lookup rate=120r/m burst=60
    tenant = make_tenant(stack)

    def key_lookups():
        return len([e for e in engine_log_events(stack, "introspect")
                    if "origin" not in e])

    before = key_lookups()
    with client_from("127.0.0.31") as client:
        statuses = []
        started = time.monotonic()
        for _ in range(100):
            r = client.get(f"{stack.url}/v1/models",
                           headers=auth(random_key()), timeout=10)
            statuses.append(r.status_code)
            if r.status_code == 429:
                break
        elapsed = time.monotonic() - started
        assert statuses[-1] == 429, statuses
        assert set(statuses[:-1]) == {401}
        # the burst plus one, and what the rate (2/s) gave back meanwhile
        assert 61 <= len(statuses) <= 62 + 2 * elapsed
        assert r.headers["RateLimit-Policy"] == '"lookup";q=120;w=60'
        assert int(r.headers["Retry-After"]) >= 1
        assert r.json()["error"]["code"] == "rate_limited"
        time.sleep(0.5)   # the engine's log may trail its answers
        assert key_lookups() - before == len(statuses) - 1

        # a key the edge knows asks nothing: it still passes from the same
        # address, with its own limits in the headers (cached again from
        # elsewhere first, in case its TTL ran out meanwhile)
        assert models(stack, tenant.key).status_code == 200
        ok = client.get(f"{stack.url}/v1/models", headers=auth(tenant.key),
                        timeout=10)
        assert ok.status_code == 200
        assert ok.headers["RateLimit-Policy"].startswith('"tenant"')

    # another address is not affected
    with client_from("127.0.0.32") as client:
        r = client.get(f"{stack.url}/v1/models", headers=auth(random_key()),
                       timeout=10)
        assert r.status_code == 401


@pytest.mark.parametrize("auth_kind, limit, error", [
    ("widget", "lookup", '"parley_limit lookup" needs "parley_auth secret"'),
    ("admin", "key", '"parley_limit key" needs "parley_auth secret"'),
    ("secret", "session", '"parley_limit session" needs "parley_auth widget"'
                          ' or "widget_stream"'),
    ("admin", "tenant", '"parley_limit tenant" needs "parley_auth secret", '
                        '"widget" or "widget_stream"'),
    ("secret", "everyone", 'unknown limit key "everyone"'),
])
def test_a_limit_without_its_credential_is_a_configuration_error(
        nginx_check, auth_kind, limit, error):
    ok, output = nginx_check(
        "parley_limit_zone zone=check:1m;\n"
        "server { listen 127.0.0.1:8; location /x/ {"
        f" parley_auth {auth_kind}; parley_limit {limit} zone=check"
        " rate=60r/m burst=1; } }")
    assert not ok
    assert error in output
