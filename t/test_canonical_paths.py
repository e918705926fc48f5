"""One spelling per route: the engine serves a route only at its canonical
path.  nginx picks a location by the normalised path but passes the path as
the client sent it, so another spelling of /v1/chat/completions (a trailing
slash, say) lands in the general /v1/ location, which holds no stream slot:
served as chat, it would bypass the tenant's cap on concurrent streams.  The
engine answers every other spelling with a 404 JSON error instead, whether
it comes through the edge or straight to its socket."""

import http.client
import json
import time

import pytest

from conftest import auth, engine_call, engine_log_events, make_tenant
from parley_context import sign_context

CHAT_BODY = {"model": "support",
             "messages": [{"role": "user", "content": "Hello?"}]}

# What the engine may receive: nginx passes each of these on as sent.
CHAT_SPELLINGS = [
    "/v1/chat/completions/",
    "/v1/chat/completions//",
    "/v1//chat/completions",
    "//v1/chat/completions",
    "/v1/./chat/completions",
    "/v1/chat/./completions",
    "/v1/x/../chat/completions",
    "/v1/chat/completions/.",
    "/v1/chat%2Fcompletions",
    "/v1/chat/completions%2F",
    "/v1/chat/%2E/completions",
]
MODELS_SPELLINGS = [
    "/v1/models/",
    "/v1//models",
    "/v1/./models",
    "/v1/models/.",
    "/v1/models%2F",
    "/v1/models/support/",
    "/v1/models/support%2F",
    "/v1/models/%2E%2E",
]
SPELLINGS = ([("POST", p) for p in CHAT_SPELLINGS]
             + [("GET", p) for p in MODELS_SPELLINGS])


@pytest.fixture(scope="module")
def tenant(stack):
    return make_tenant(stack)


def assert_engine_not_found(status, fields, payload, path):
    assert status == 404, f"{path} answered {status}: {payload[:200]}"
    assert fields["content-type"] == "application/json"
    error = json.loads(payload)["error"]
    assert (error["type"], error["code"]) == ("invalid_request_error",
                                              "not_found")
    # the engine's refusal, not one of nginx's
    assert error["message"].startswith("Unknown path"), error


def through_edge(stack, method, path, key):
    """One request to nginx with the path exactly as given (requests and
    urllib3 would normalise dot segments first)."""
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    try:
        body = json.dumps(CHAT_BODY) if method == "POST" else None
        headers = auth(key)
        if body is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        fields = {k.lower(): v for k, v in r.getheaders()}
        return r.status, fields, r.read().decode(errors="replace")
    finally:
        conn.close()


def engine_saw(stack, since, path):
    """Whether the engine's request log, past its first `since` entries,
    shows `path`.  The engine logs a request once it has answered it: the
    entry may come a moment after the answer."""
    deadline = time.monotonic() + 5
    while True:
        seen = [e["path"] for e in engine_log_events(stack, "request")[since:]]
        if path in seen or time.monotonic() > deadline:
            return path in seen
        time.sleep(0.05)


@pytest.mark.parametrize("method,path", SPELLINGS)
def test_the_engine_socket_serves_only_canonical_paths(stack, tenant, method,
                                                       path):
    context = sign_context(stack.secret("edge.secret"), tenant.id, "key",
                           tenant.key_id, "-", "c" * 32,
                           int(time.time() * 1000))
    body = CHAT_BODY if method == "POST" else None
    status, fields, payload = engine_call(stack, method, path, context, body)
    assert_engine_not_found(status, fields, payload, path)


@pytest.mark.parametrize("method,path", SPELLINGS)
def test_other_spellings_through_the_edge_are_404(stack, tenant, method,
                                                  path):
    seen = len(engine_log_events(stack, "request"))
    status, fields, payload = through_edge(stack, method, path, tenant.key)
    assert_engine_not_found(status, fields, payload, path)
    assert engine_saw(stack, seen, path), "nginx did not pass the path as sent"


def test_the_canonical_paths_are_served(stack, tenant):
    status, _, payload = through_edge(stack, "GET", "/v1/models", tenant.key)
    assert status == 200, payload
    assert json.loads(payload)["object"] == "list"
    status, _, payload = through_edge(stack, "POST", "/v1/chat/completions",
                                      tenant.key)
    assert status == 200, payload
    assert json.loads(payload)["object"] == "chat.completion"
