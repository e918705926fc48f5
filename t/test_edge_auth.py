"""Secret key authentication at the edge (SPEC 3.1): refusals are 401 JSON,
answers of the engine's introspection are cached positively and negatively,
revocation takes effect within the positive TTL, and the edge fails closed
when the engine cannot answer."""

import base64
import http.client
import json
import secrets
import time

import pytest
import requests

from conftest import (NEGATIVE_TTL, POSITIVE_TTL, auth, chat, client_from,
                      engine_log_events, make_tenant)


def random_key():
    """A key of the right shape that no tenant has."""
    secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=")
    return f"sk_{secrets.token_hex(6)}_{secret.decode()}"


def introspections(stack):
    return len(engine_log_events(stack, "introspect"))


def wait_for_introspections(stack, count, timeout=3.0):
    """The engine's log may trail its answer by a moment."""
    deadline = time.monotonic() + timeout
    while introspections(stack) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return introspections(stack)


def models(stack, key):
    return requests.get(f"{stack.url}/v1/models", headers=auth(key),
                        timeout=10)


class KeptAlive:
    """Requests on one kept-alive connection, as an SDK's pool sends them:
    the edge remembers a connection's last key (and its hash)."""

    def __init__(self, stack):
        host, port = stack.url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=10)
        self.conn.connect()
        self.local = self.conn.sock.getsockname()

    def models(self, key):
        self.conn.request("GET", "/v1/models",
                          headers={"Authorization": f"Bearer {key}"})
        r = self.conn.getresponse()
        body = json.loads(r.read())
        # still the same connection: nothing was reopened behind our back
        assert self.conn.sock is not None
        assert self.conn.sock.getsockname() == self.local
        return r.status, body

    def close(self):
        self.conn.close()


def model_ids(body):
    return {m["id"] for m in body["data"]}


def assert_invalid_api_key(r):
    assert r.status_code == 401
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["WWW-Authenticate"] == "Bearer"
    error = r.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "invalid_api_key"
    assert error["message"]


def test_missing_key_is_refused(stack):
    r = requests.post(f"{stack.url}/v1/chat/completions",
                      json={"model": "support", "messages": []}, timeout=10)
    assert_invalid_api_key(r)
    assert "Authorization: Bearer" in r.json()["error"]["message"]


@pytest.mark.parametrize("value", [
    "Basic dXNlcjpwYXNz",
    "Bearer",
    "Bearer not-a-key",
    "Bearer pk_" + "a" * 12 + "_" + "b" * 43,
])
def test_malformed_credentials_are_refused(stack, value):
    r = requests.get(f"{stack.url}/v1/models",
                     headers={"Authorization": value}, timeout=10)
    assert_invalid_api_key(r)


def test_wrong_key_is_refused(stack):
    assert_invalid_api_key(chat(stack, random_key(), "Hello?"))


def test_a_key_with_one_character_changed_is_refused(stack):
    key = make_tenant(stack).key
    altered = key[:-1] + ("A" if key[-1] != "A" else "B")
    assert_invalid_api_key(models(stack, altered))


def test_wrong_key_repeated_within_negative_ttl_asks_the_engine_once(stack):
    key = random_key()
    before = introspections(stack)
    started = time.monotonic()
    for _ in range(5):
        assert_invalid_api_key(models(stack, key))
    assert time.monotonic() - started < NEGATIVE_TTL
    assert wait_for_introspections(stack, before + 1) == before + 1
    time.sleep(0.5)
    assert introspections(stack) == before + 1

    # past the negative TTL the engine is asked again: a key created
    # meanwhile would not stay refused
    time.sleep(NEGATIVE_TTL + 0.5 - (time.monotonic() - started))
    assert_invalid_api_key(models(stack, key))
    assert wait_for_introspections(stack, before + 2) == before + 2


def test_valid_key_is_cached_within_positive_ttl(stack):
    tenant = make_tenant(stack)
    before = introspections(stack)
    started = time.monotonic()
    for _ in range(3):
        assert models(stack, tenant.key).status_code != 401
    assert time.monotonic() - started < POSITIVE_TTL
    assert wait_for_introspections(stack, before + 1) == before + 1
    time.sleep(0.5)
    assert introspections(stack) == before + 1


def test_revoked_key_stops_working_within_positive_ttl(stack):
    tenant = make_tenant(stack)
    assert models(stack, tenant.key).status_code == 200

    stack.parley("key", "revoke", "--key-id", tenant.key_id, "--json")
    revoked = time.monotonic()
    while True:
        r = models(stack, tenant.key)
        if r.status_code == 401:
            break
        assert time.monotonic() - revoked < POSITIVE_TTL + 1, \
            "a revoked key still works after the positive TTL"
        time.sleep(0.2)
    assert_invalid_api_key(r)


def test_edge_fails_closed_when_the_engine_is_down(stack):
    tenant = make_tenant(stack)
    assert models(stack, tenant.key).status_code != 401
    stack.stop_engine()
    try:
        # a key the edge does not know cannot be checked: 503, not a pass
        r = models(stack, random_key())
        assert r.status_code == 503
        assert r.headers["Content-Type"] == "application/json"
        error = r.json()["error"]
        assert (error["type"], error["code"]) == \
            ("server_error", "auth_unavailable")

        # a key still cached passes the edge (502: no engine behind it)
        # or, once its TTL is over, cannot be checked either (503)
        r = models(stack, tenant.key)
        assert r.status_code in (502, 503)
        assert r.json()["error"]["type"] == "server_error"
    finally:
        stack.start_engine()
    assert models(stack, random_key()).status_code == 401


def test_keys_changing_on_one_connection_are_each_checked(stack):
    a = make_tenant(stack, agent="alpha")
    b = make_tenant(stack, agent="bravo")
    altered = a.key[:-1] + ("A" if a.key[-1] != "A" else "B")
    conn = KeptAlive(stack)
    try:
        for _ in range(2):
            status, body = conn.models(a.key)
            assert status == 200 and model_ids(body) == {"alpha"}
            status, body = conn.models(b.key)
            assert status == 200 and model_ids(body) == {"bravo"}
            status, body = conn.models(altered)
            assert status == 401
            assert body["error"]["code"] == "invalid_api_key"
            status, body = conn.models(random_key())
            assert status == 401
    finally:
        conn.close()


def test_revocation_reaches_a_kept_alive_connection(stack):
    tenant = make_tenant(stack)
    conn = KeptAlive(stack)
    try:
        assert conn.models(tenant.key)[0] == 200
        stack.parley("key", "revoke", "--key-id", tenant.key_id, "--json")
        revoked = time.monotonic()
        while conn.models(tenant.key)[0] != 401:
            assert time.monotonic() - revoked < POSITIVE_TTL + 1, \
                "a revoked key still works after the positive TTL"
            time.sleep(0.2)
    finally:
        conn.close()


def test_lookups_reuse_their_engine_connection(stack):
    """A lookup's answer has no body, so nginx keeps the connection to the
    engine for the next one instead of opening one per cache miss."""
    time.sleep(0.3)   # lines of the previous test's requests land first
    before = len(engine_log_events(stack, "request"))
    with client_from("127.0.0.33") as client:
        for _ in range(6):
            r = client.get(f"{stack.url}/v1/models",
                           headers=auth(random_key()), timeout=10)
            assert_invalid_api_key(r)
    time.sleep(0.3)   # the engine's log may trail its answers
    lookups = [e for e in engine_log_events(stack, "request")[before:]
               if e["path"] == "/internal/v1/introspect"]
    assert len(lookups) == 6
    # one client connection, so one nginx worker and its kept connection
    assert len({e["connection"] for e in lookups}) == 1


# -- credentials of one kind never pass as another ---------------------------

def crashed_workers(stack):
    log = stack.log_dir / "nginx-error.log"
    return [line for line in log.read_text(errors="replace").splitlines()
            if "exited on signal" in line]


def origin_of_length(length):
    """An allowed-origin spelling of exactly `length` bytes."""
    head = f"https://k{secrets.token_hex(4)}."
    return head + "a" * (length - len(head) - len(".example")) + ".example"


def test_an_origin_verdict_never_passes_for_a_secret_key(stack):
    # The edge caches "some tenant allows this origin" under the SHA-256 of
    # "origin <O>"; a bearer "origin <O>" of a secret key's length hashes
    # the same.  It must be refused as a key, and no worker may fall.
    tenant = make_tenant(stack)
    origin = origin_of_length(len(tenant.key) - len("origin "))
    bearer = f"origin {origin}"
    assert len(bearer) == len(tenant.key)
    stack.parley("tenant", "update", "--slug", tenant.slug,
                 "--allowed-origin", origin, "--json")
    crashed = crashed_workers(stack)

    r = requests.options(f"{stack.url}/widget/v1/history", headers={
        "Origin": origin, "Access-Control-Request-Method": "GET"},
        timeout=10)
    assert r.status_code == 204, r.text
    assert r.headers["Access-Control-Allow-Origin"] == origin

    for path in ("/v1/models", "/v1/chat/completions"):
        r = requests.request("GET" if path == "/v1/models" else "POST",
                             f"{stack.url}{path}", json={},
                             headers={"Authorization": f"Bearer {bearer}"},
                             timeout=10)
        assert_invalid_api_key(r)
    assert crashed_workers(stack) == crashed

    # the origin's verdict still stands, and the tenant's key still works
    r = models(stack, tenant.key)
    assert r.status_code == 200, r.text
    assert chat(stack, tenant.key, "Hello?").status_code == 200
    assert crashed_workers(stack) == crashed
