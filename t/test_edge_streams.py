"""Concurrent stream slots per tenant (SPEC 3.2, 3.6): a chat completion
holds one of its tenant's slots for its whole life; past the plan's maximum
the edge refuses with 429 and the RateLimit headers of a concurrency quota;
slots come back however a request ends (client abort, completion, an error
answer), so N aborted streams leave room for N new ones.

Streams are held open two ways: by the engine generating, with the mock
upstream gated so that an answer waits after its first token; and by the
client itself, since a request holds its slot from the access phase on,
before nginx has read its body: a client that sends the head and part of
the body keeps the request, and its slot, alive for as long as it
likes."""

import json
import socket
import time

import pytest
import requests

from conftest import (REPO, auth, chat, extra_site, make_tenant, open_stream,
                      sse_events)
from parley_stack import free_port, port_open

STATUS = "/_parley/status"


class HeldRequest:
    """A streamed chat completion whose body is not fully sent yet."""

    def __init__(self, stack, key):
        body = json.dumps({"model": "support", "stream": True,
                           "messages": [{"role": "user",
                                         "content": "Hello?"}]}).encode()
        self.rest = body[10:]
        self.sock = socket.create_connection(("127.0.0.1", stack.port))
        self.sock.sendall(
            (f"POST /v1/chat/completions HTTP/1.1\r\n"
             f"Host: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
             f"Content-Type: application/json\r\n"
             f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
            .encode() + body[:10])

    def answered_early(self, wait=0.5):
        """What nginx answered before the body was complete, if anything."""
        self.sock.settimeout(wait)
        try:
            return self.sock.recv(65536)
        except socket.timeout:
            return b""

    def finish(self):
        """Sends the rest of the body; the whole response."""
        self.sock.sendall(self.rest)
        self.sock.settimeout(30)
        data = b""
        while chunk := self.sock.recv(65536):
            data += chunk
        self.sock.close()
        return data

    def abort(self):
        self.sock.close()


def tenant_streams(stack, tenant):
    text = requests.get(f"{stack.url}{STATUS}", timeout=10).text
    for line in text.splitlines():
        if f'tenant="{tenant.id}"' in line:
            return int(line.rsplit(" ", 1)[1])
    return 0


def wait_for_streams(stack, tenant, count, timeout=3.0):
    """nginx frees a request a moment after the client has all of it."""
    deadline = time.monotonic() + timeout
    while (tenant_streams(stack, tenant) != count
           and time.monotonic() < deadline):
        time.sleep(0.05)
    return tenant_streams(stack, tenant)


def assert_too_many_streams(r, max_streams):
    assert r.status_code == 429, r.text
    assert r.json()["error"]["type"] == "rate_limit_error"
    assert r.headers["Retry-After"] == "1"
    assert r.headers["RateLimit-Policy"] == (
        f'"streams";q={max_streams};qu="concurrent-requests"')
    assert r.headers["RateLimit"] == '"streams";r=0;t=1'


def test_aborted_streams_give_their_slots_back(stack):
    tenant = make_tenant(stack, max_streams=2)

    held = [HeldRequest(stack, tenant.key) for _ in range(2)]
    assert [h.answered_early() for h in held] == [b"", b""]
    assert tenant_streams(stack, tenant) == 2

    assert_too_many_streams(chat(stack, tenant.key, "Hello?"), 2)

    for h in held:
        h.abort()
    assert wait_for_streams(stack, tenant, 0) == 0

    # N aborted, N again: each of them gets a slot and its whole stream
    held = [HeldRequest(stack, tenant.key) for _ in range(2)]
    assert [h.answered_early() for h in held] == [b"", b""]
    assert_too_many_streams(chat(stack, tenant.key, "Hello?"), 2)
    for h in held:
        response = h.finish()
        assert response.startswith(b"HTTP/1.1 200"), response[:200]
        assert b"data: [DONE]" in response
    assert wait_for_streams(stack, tenant, 0) == 0


def test_completed_and_failed_requests_give_their_slots_back(stack):
    # the client may have all of a response a moment before nginx is done
    # with its request: each next one waits for the slot to be given back
    tenant = make_tenant(stack, max_streams=1)
    for _ in range(3):
        assert chat(stack, tenant.key, "Hello?").status_code == 200
        assert wait_for_streams(stack, tenant, 0) == 0
    for _ in range(3):
        r = requests.post(f"{stack.url}/v1/chat/completions",
                          data=b"{not json", timeout=10,
                          headers={**auth(tenant.key),
                                   "Content-Type": "application/json"})
        assert r.status_code == 400, r.text
        assert wait_for_streams(stack, tenant, 0) == 0
    # the one slot is free: a held request takes it, the next is refused
    held = HeldRequest(stack, tenant.key)
    try:
        assert held.answered_early() == b""
        assert_too_many_streams(chat(stack, tenant.key, "Hello?"), 1)
    finally:
        held.abort()
    assert wait_for_streams(stack, tenant, 0) == 0


def test_tenants_without_a_plan_get_the_default_and_others_are_apart(stack):
    # parley-locations.conf: parley_streams zone=parley_streams max=20
    busy = make_tenant(stack, max_streams=1)
    calm = make_tenant(stack)
    held = HeldRequest(stack, busy.key)
    try:
        assert held.answered_early() == b""
        assert_too_many_streams(chat(stack, busy.key, "Hello?"), 1)
        assert chat(stack, calm.key, "Hello?").status_code == 200
    finally:
        held.abort()


def test_other_routes_hold_no_slot(stack):
    tenant = make_tenant(stack, max_streams=1)
    held = HeldRequest(stack, tenant.key)
    try:
        assert held.answered_early() == b""
        r = requests.get(f"{stack.url}/v1/models", headers=auth(tenant.key),
                         timeout=10)
        assert r.status_code == 200
    finally:
        held.abort()


# -- real streams, held by a gated upstream ----------------------------------

def test_streams_aborted_mid_answer_give_their_slots_back(stack,
                                                          openai_engine):
    mock = openai_engine
    mock.reset(mode="gated")
    tenant = make_tenant(stack, REPO / "demo" / "handbook", max_streams=2)

    streams = [open_stream(stack, tenant) for _ in range(2)]
    assert tenant_streams(stack, tenant) == 2
    assert_too_many_streams(chat(stack, tenant.key, "Hello?"), 2)

    # the clients go away while the engine is still answering
    for r, _ in streams:
        r.close()
    assert wait_for_streams(stack, tenant, 0) == 0

    streams = [open_stream(stack, tenant) for _ in range(2)]
    assert_too_many_streams(chat(stack, tenant.key, "Hello?"), 2)
    mock.gate.set()
    for _, events in streams:
        assert list(events)[-1] == "[DONE]"
    assert wait_for_streams(stack, tenant, 0) == 0


# -- every spelling of the route takes a slot ---------------------------------

def post_raw(stack, target, key):
    """A chat completion sent to `target` exactly as written (an HTTP
    library would normalize it): the status and the whole response."""
    body = json.dumps({"model": "support", "stream": True,
                       "messages": [{"role": "user",
                                     "content": "Hello?"}]}).encode()
    with socket.create_connection(("127.0.0.1", stack.port),
                                  timeout=30) as s:
        s.sendall((f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   f"Authorization: Bearer {key}\r\n"
                   f"Content-Type: application/json\r\n"
                   f"Content-Length: {len(body)}\r\n"
                   f"Connection: close\r\n\r\n").encode() + body)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1]), data


SPELLINGS = [
    "/v1/chat/completions",
    "/v1/chat/completions/",
    "/v1/chat/completions//",
    "/v1//chat/completions",
    "/v1/chat//completions/",
    "/v1/chat/completions?x",
    "/v1/chat/completions/?x=1",
    "/v1/./chat/completions",
    "/v1/chat/./completions/",
    "/v1/chat/completions/.",
    "/v1/chat/x/../completions",
    "/v1/chat/%63ompletions",
    "/v1/chat/completions%2F",
    "/v1/chat%2Fcompletions/",
    "/v1/%63hat/completions/",
]


def test_no_spelling_of_the_route_opens_a_stream_without_a_slot(stack):
    tenant = make_tenant(stack, max_streams=1)
    # the tenant's engine answers each of them when its slot is free
    assert post_raw(stack, "/v1/chat/completions", tenant.key)[0] == 200
    assert wait_for_streams(stack, tenant, 0) == 0

    held = HeldRequest(stack, tenant.key)
    try:
        assert held.answered_early() == b""
        assert tenant_streams(stack, tenant) == 1
        answers = {target: post_raw(stack, target, tenant.key)
                   for target in SPELLINGS}
        # refused for want of a slot, or unknown to the engine: never a
        # second stream beside the one the tenant may hold
        for target, (status, data) in answers.items():
            assert status in (404, 429), (target, data[:300])
            assert b"text/event-stream" not in data, target
        assert answers["/v1/chat/completions/"][0] == 429
        assert tenant_streams(stack, tenant) == 1
    finally:
        held.abort()
    assert wait_for_streams(stack, tenant, 0) == 0


# -- internal redirects: one slot, released once ------------------------------

# A site whose chat location meets an engine that is not there (502), and
# goes on in a named location that takes a slot too and reaches the real
# engine: the request is internally redirected while it holds its slot.
REDIRECT_SITE = """
server {{
    listen 127.0.0.1:{port};

    location /v1/ {{
        parley_auth secret;
        parley_introspect /_parley/introspect;
        parley_streams zone=parley_streams max=20;
        parley_headers api;

        proxy_pass http://unix:{dead}:;
        error_page 502 = @engine;
    }}

    location @engine {{
        parley_auth secret;
        parley_introspect /_parley/introspect;
        parley_streams zone=parley_streams max=20;
        parley_headers api;

        proxy_pass http://parley_engine;
        proxy_set_header X-Parley-Context $parley_context;
        proxy_set_header Authorization "";
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_buffering off;
    }}

    location = /_parley/introspect {{
        internal;
        proxy_pass http://parley_engine/internal/v1/introspect;
        proxy_set_header X-Parley-Context $parley_context;
        proxy_pass_request_headers off;
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
        proxy_http_version 1.1;
        proxy_set_header Connection "";
    }}
}}
"""


@pytest.fixture
def redirect_site(stack):
    port = free_port()
    text = REDIRECT_SITE.format(port=port, dead=stack.run_dir / "no-engine.sock")
    with extra_site(stack, text, "the redirect site", lambda: port_open(port)):
        yield f"http://127.0.0.1:{port}"


def active_streams(stack):
    text = requests.get(f"{stack.url}{STATUS}", timeout=10).text
    for line in text.splitlines():
        if line.startswith("parley_active_streams "):
            return int(line.split()[1])
    raise AssertionError("no parley_active_streams gauge")


def test_a_redirected_stream_holds_one_slot_and_gives_it_back_once(
        stack, openai_engine, redirect_site):
    mock = openai_engine
    mock.reset(mode="gated")
    tenant = make_tenant(stack, REPO / "demo" / "handbook", max_streams=1)
    active = active_streams(stack)

    r = requests.post(f"{redirect_site}/v1/chat/completions", timeout=30,
                      headers=auth(tenant.key), stream=True,
                      json={"model": "support", "stream": True,
                            "messages": [{"role": "user", "content":
                                          "How many vacation days do new "
                                          "employees get?"}]})
    # the request took its tenant's one slot before the 502 and keeps it
    # in the named location: it is not refused for its own slot
    assert r.status_code == 200, r.text
    events = sse_events(r)
    for event in events:
        if (isinstance(event, dict) and event.get("choices")
                and event["choices"][0]["delta"].get("content")):
            break

    assert tenant_streams(stack, tenant) == 1
    assert active_streams(stack) == active + 1
    assert_too_many_streams(chat(stack, tenant.key, "Hello?"), 1)

    mock.gate.set()
    assert list(events)[-1] == "[DONE]"

    # given back once: the one slot is free again, and only one
    assert wait_for_streams(stack, tenant, 0) == 0
    assert active_streams(stack) == active
    held = HeldRequest(stack, tenant.key)
    try:
        assert held.answered_early() == b""
        assert tenant_streams(stack, tenant) == 1
        assert_too_many_streams(chat(stack, tenant.key, "Hello?"), 1)
    finally:
        held.abort()
    assert wait_for_streams(stack, tenant, 0) == 0
    assert active_streams(stack) == active
