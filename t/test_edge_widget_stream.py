"""The widget's event stream at the edge (SPEC 3.1, 3.2, 3.6): GET
/widget/v1/streams/<stream id>, opened by a browser's EventSource, carries
its credential in the URI.  nginx verifies the stream id alone (the same
key ring as widget tokens, its own audience) and passes the request on
with the widget identity of its claims; every other id, and every other
shape of the URI, is refused with 401 JSON before the engine hears of it;
tokens and stream ids never stand for each other; a stream holds one of
its tenant's stream slots for its whole life; no id reaches nginx's logs
through the module.

The engine's side of the stream route is not assumed: a tap on the
engine's socket answers it itself (a stream's headers, then nothing until
it is released), and records what nginx sends."""

import json
import re
import secrets
import socket
import time
import uuid
from types import SimpleNamespace

import pytest
import requests

from conftest import client_from, engine_log_events
from parley_context import verify_context
from test_edge_bootstrap import fresh_origin
from test_edge_context import FakeRoutesTap, headers_named, now_ms, sent_to
from test_edge_streams import tenant_streams, wait_for_streams
from test_edge_widget import (assert_invalid_widget_token, b64url,
                              claims_for, current_key, mint)

STREAMS = "/widget/v1/streams/"
STREAM_AUDIENCE = "parley-widget-stream"


def holding_streams(target):
    # "%73treams" is a spelling of it too
    return "hold" if "treams/" in target else None


@pytest.fixture
def tap(stack):
    with FakeRoutesTap(stack, holding_streams) as t:
        yield t


def stream_claims(tenant=None, session=None, stream=None, agent="support",
                  **overrides):
    """A stream id's claims (claims_for()'s and an "sti"); an override of
    None leaves that claim out."""
    claims = claims_for(tenant=tenant, session=session, agent=agent,
                        aud=STREAM_AUDIENCE,
                        sti=stream or secrets.token_urlsafe(16))
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def stream_id(stack, **claims):
    kid, secret = current_key(stack)
    return mint(kid, secret, stream_claims(**claims))


class OpenStream:
    """GET /widget/v1/streams/<id> on a connection of its own, read up to
    the end of the response's head; the connection stays open."""

    def __init__(self, stack, target, address="127.0.0.1", origin=None):
        self.sock = socket.create_connection(("127.0.0.1", stack.port),
                                             timeout=10,
                                             source_address=(address, 0))
        extra = f"Origin: {origin}\r\n" if origin else ""
        self.sock.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          f"Accept: text/event-stream\r\n{extra}\r\n"
                          .encode())
        data = b""
        while b"\r\n\r\n" not in data:
            more = self.sock.recv(65536)
            if not more:
                break
            data += more
        head, _, self.body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split(" ")[1])
        self.headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()

    def close(self):
        self.sock.close()


def stream_get(stack, target, client=requests, headers=None):
    return client.get(f"{stack.url}{target}", headers=headers or {},
                      timeout=10, stream=True)


def assert_invalid_widget_stream(r):
    assert r.status_code == 401, (r.status_code, r.text)
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {"error": {
        "message": "Invalid or expired widget stream.",
        "type": "invalid_request_error", "code": "invalid_widget_stream"}}


UPSTREAM = re.compile(r', upstream: "[^"]*"')


def logs(stack):
    return ((stack.log_dir / "nginx-error.log").read_text(errors="replace")
            + (stack.log_dir / "nginx-access.log").read_text(
                errors="replace"))


# -- the stream id as a credential --------------------------------------------

def test_a_valid_stream_id_reaches_the_engine_as_its_widget_session(
        stack, tap):
    tenant, session, sti = str(uuid.uuid4()), secrets.token_urlsafe(12), \
        secrets.token_urlsafe(16)
    sid = stream_id(stack, tenant=tenant, session=session, stream=sti,
                    agent="sales")
    lookups = len(engine_log_events(stack, "introspect"))
    tap.clear()

    s = OpenStream(stack, STREAMS + sid, address="127.0.0.71")
    try:
        assert s.status == 200, s.body
        assert s.headers["content-type"] == "text/event-stream"
        # SSE through the edge, unbuffered: the first event is there
        assert b": ping" in s.body or s.sock.recv(65536)
        [(target, headers)] = sent_to(tap, STREAMS)
    finally:
        s.close()

    # the client's spelling, the id in it, and the widget identity
    assert target == STREAMS + sid
    [context] = headers_named(headers, "X-Parley-Context")
    fields = verify_context(stack.secret("edge.secret"), context, now_ms())
    assert fields["tenant"] == tenant
    assert (fields["kind"], fields["principal"]) == ("widget", "sales")
    assert fields["session"] == session
    assert headers_named(headers, "Authorization") == []
    # the edge asked the engine nothing
    time.sleep(0.3)
    assert len(engine_log_events(stack, "introspect")) == lookups


def forged_stream_ids(stack):
    kid, secret = current_key(stack)
    now = int(time.time())
    good = mint(kid, secret, stream_claims())
    head, payload, sig = good.split(".")
    other = b64url(json_bytes(stream_claims(tenant=str(uuid.uuid4()))))
    none_header = b64url(json_bytes({"alg": "none", "kid": kid}))
    return {
        "alg none": f"{none_header}.{payload}.",
        "alg none with a signature": f"{none_header}.{payload}.{sig}",
        "alg HS512": mint(kid, secret, stream_claims(), alg="HS512"),
        "unknown kid": mint("nobody", secret, stream_claims()),
        "other secret": mint(kid, secrets.token_urlsafe(48),
                             stream_claims()),
        "changed payload": f"{head}.{other}.{sig}",
        "changed signature": f"{head}.{payload}.{b64url(bytes(32))}",
        "padded": good + "=",
        "expired": mint(kid, secret, stream_claims(
            iat=now - 700, nbf=now - 700, exp=now - 100)),
        "not yet valid": mint(kid, secret, stream_claims(
            iat=now, nbf=now + 300, exp=now + 600)),
        "lifetime over 15 minutes": mint(kid, secret, stream_claims(
            exp=now + 901)),
        "no sti": mint(kid, secret, stream_claims(sti=None)),
        "sti with a dot": mint(kid, secret, stream_claims(stream="a.b")),
        "sti of 65": mint(kid, secret, stream_claims(stream="s" * 65)),
        "no session": mint(kid, secret, stream_claims(sid=None)),
        "tenant not a uuid": mint(kid, secret, stream_claims(tenant="acme")),
        "another audience": mint(kid, secret, stream_claims(
            aud="parley-api")),
        "two parts": f"{head}.{payload}",
        "garbage": "not-a-stream",
    }


def json_bytes(obj):
    return json.dumps(obj).encode()


def test_every_forged_or_unfit_stream_id_is_refused_at_the_edge(stack, tap):
    tap.clear()
    with client_from("127.0.0.72") as client:
        for name, sid in forged_stream_ids(stack).items():
            r = stream_get(stack, STREAMS + sid, client=client)
            assert r.status_code == 401, name
            assert_invalid_widget_stream(r)
            assert r.headers["WWW-Authenticate"] == "Bearer"
    assert sent_to(tap, "/widget/") == []


def test_every_other_shape_of_the_uri_is_refused_at_the_edge(stack, tap):
    sid = stream_id(stack)
    tap.clear()
    with client_from("127.0.0.73") as client:
        for target in (STREAMS,                        # no id
                       f"{STREAMS}{sid}/",             # an empty last one
                       f"{STREAMS}x/{sid}",            # one more segment
                       f"{STREAMS}{sid}/x",
                       f"{STREAMS}{sid}%2Fx",          # decoded, the same
                       f"{STREAMS}{sid}/..%2F..%2Fstreams%2Fx"):
            assert_invalid_widget_stream(stream_get(stack, target,
                                                    client=client))
        # without its slash: nginx's redirect to the location, no id there
        r = client.get(f"{stack.url}/widget/v1/streams", timeout=10,
                       allow_redirects=False)
        assert r.status_code == 301
        assert r.headers["Location"].endswith(STREAMS)
    assert sent_to(tap, "/widget/") == []


def test_tokens_and_stream_ids_never_stand_for_each_other(stack, tap):
    kid, secret = current_key(stack)
    token = mint(kid, secret, claims_for())
    # a token with an sti is still a token
    token_with_sti = mint(kid, secret, claims_for(sti="s1"))
    sid = stream_id(stack)
    error_log = stack.log_dir / "nginx-error.log"
    offset = error_log.stat().st_size
    tap.clear()
    with client_from("127.0.0.74") as client:
        # a widget token presented as a stream id
        for t in (token, token_with_sti):
            assert_invalid_widget_stream(stream_get(
                stack, STREAMS + t, client=client))
        # a stream id presented as a widget token
        assert_invalid_widget_token(client.get(
            f"{stack.url}/widget/v1/history", timeout=10,
            headers={"Authorization": f"Bearer {sid}"}))
        assert_invalid_widget_token(client.post(
            f"{stack.url}/widget/v1/messages", json={"content": "Hi"},
            headers={"Authorization": f"Bearer {sid}"}, timeout=10))
    assert sent_to(tap, "/widget/") == []
    with open(error_log, errors="replace") as f:
        f.seek(offset)
        logged = f.read()
    assert logged.count("parley: invalid widget stream: bad claims") == 2
    assert logged.count("parley: invalid widget token: bad claims") == 2


def test_no_stream_id_reaches_nginxs_logs(stack, tap):
    ids = [stream_id(stack) for _ in range(2)]
    kid, secret = current_key(stack)
    expired = mint(kid, secret, stream_claims(
        iat=int(time.time()) - 700, nbf=int(time.time()) - 700,
        exp=int(time.time()) - 100))
    with client_from("127.0.0.75") as client:
        s = OpenStream(stack, STREAMS + ids[0], address="127.0.0.75")
        assert s.status == 200
        s.close()
        assert_invalid_widget_stream(stream_get(stack, STREAMS + expired,
                                                client=client))
        # the method is refused before anything else, the line logged too
        r = client.post(f"{stack.url}{STREAMS}{ids[1]}", json={},
                        timeout=10)
        assert r.status_code == 405
        assert r.headers["Allow"] == "GET"
    # a request after them, so that their access log lines are written
    requests.get(f"{stack.url}/healthz", timeout=10)
    time.sleep(0.3)
    text = logs(stack)
    for sid in ids + [expired]:
        for line in text.splitlines():
            # nginx's own lines about proxying (here: the client closed
            # its stream, at info) name the upstream URI, where it is;
            # parley-locations.conf says so
            assert sid not in UPSTREAM.sub("", line), line
            assert "parley:" not in line or sid not in line, line
    assert f"GET {STREAMS}[stream id] HTTP/1.1" in text
    assert f"POST {STREAMS}[stream id] HTTP/1.1" in text


# -- stream slots ------------------------------------------------------------

def test_a_stream_holds_a_slot_of_its_tenant_for_its_whole_life(stack, tap):
    # parley-locations.conf: parley_streams zone=parley_streams max=20 (a
    # widget carries no plan: the location's maximum is the tenant's)
    tenant = SimpleNamespace(id=str(uuid.uuid4()))
    other = SimpleNamespace(id=str(uuid.uuid4()))
    address = "127.0.0.76"
    streams = []
    try:
        # one session each: a session's own limit (burst 10) stays away
        for _ in range(20):
            s = OpenStream(stack, STREAMS + stream_id(stack, tenant=tenant.id),
                           address=address)
            streams.append(s)
            assert s.status == 200, s.body
        assert tenant_streams(stack, tenant) == 20

        s = OpenStream(stack, STREAMS + stream_id(stack, tenant=tenant.id),
                       address=address)
        s.close()
        assert s.status == 429, s.body
        assert s.headers["retry-after"] == "1"
        assert s.headers["ratelimit-policy"] == \
            '"streams";q=20;qu="concurrent-requests"'
        assert s.headers["ratelimit"] == '"streams";r=0;t=1'
        assert b'"code":"rate_limited"' in s.body

        # another tenant's streams are counted apart
        s = OpenStream(stack, STREAMS + stream_id(stack, tenant=other.id),
                       address=address)
        streams.append(s)
        assert s.status == 200

        # one ends (the browser goes away): its slot is free again
        streams.pop(0).close()
        assert wait_for_streams(stack, tenant, 19) == 19
        s = OpenStream(stack, STREAMS + stream_id(stack, tenant=tenant.id),
                       address=address)
        streams.append(s)
        assert s.status == 200
        assert tenant_streams(stack, tenant) == 20
    finally:
        for s in streams:
            s.close()
    assert wait_for_streams(stack, tenant, 0) == 0
    assert wait_for_streams(stack, other, 0) == 0


def test_streams_ended_by_the_engine_give_their_slots_back(stack, tap):
    tenant = SimpleNamespace(id=str(uuid.uuid4()))
    streams = [OpenStream(stack, STREAMS + stream_id(stack, tenant=tenant.id),
                          address="127.0.0.77") for _ in range(3)]
    try:
        assert [s.status for s in streams] == [200] * 3
        assert tenant_streams(stack, tenant) == 3
        tap.release()
        for s in streams:
            s.sock.settimeout(10)
            data = s.body
            while not data.endswith(b"0\r\n\r\n"):
                more = s.sock.recv(65536)
                assert more, data
                data += more
            assert b"data: [DONE]" in data
    finally:
        for s in streams:
            s.close()
    assert wait_for_streams(stack, tenant, 0) == 0


SPELLINGS = [
    "/widget/v1/streams/{id}",
    "/widget/v1//streams/{id}",
    "/widget/v1/streams//{id}",
    "/widget/v1/./streams/{id}",
    "/widget/v1/x/../streams/{id}",
    "/widget/v1/%73treams/{id}",
    "/widget/v1/streams/{id}?x=1",
    "/widget//v1/streams/{id}",
]


def test_every_spelling_of_the_route_is_a_stream_with_a_slot(stack, tap):
    """nginx matches the normalized URI and passes the client's spelling
    on: each one that normalizes to a stream's lands in the stream's
    location, is authenticated by its id and takes a slot."""
    tenant = SimpleNamespace(id=str(uuid.uuid4()))
    streams = []
    tap.clear()
    try:
        for spelling in SPELLINGS:
            session = secrets.token_urlsafe(12)
            target = spelling.format(id=stream_id(stack, tenant=tenant.id,
                                                  session=session))
            s = OpenStream(stack, target, address="127.0.0.78")
            streams.append(s)
            assert s.status == 200, (target, s.body)
            [(sent, headers)] = [(t, h) for t, h in tap.requests()
                                 if t == target]
            [context] = headers_named(headers, "X-Parley-Context")
            fields = verify_context(stack.secret("edge.secret"), context,
                                    now_ms())
            assert (fields["tenant"], fields["session"]) == \
                (tenant.id, session), target
        assert tenant_streams(stack, tenant) == len(SPELLINGS)
    finally:
        for s in streams:
            s.close()
    assert wait_for_streams(stack, tenant, 0) == 0


def test_a_stream_gets_cors_for_its_tokens_origin_only(stack, tap):
    origin = "https://shop.example"      # claims_for()'s "org"
    sid = stream_id(stack)
    s = OpenStream(stack, STREAMS + sid, address="127.0.0.79", origin=origin)
    s.close()
    assert s.status == 200
    assert s.headers["access-control-allow-origin"] == origin
    s = OpenStream(stack, STREAMS + stream_id(stack), address="127.0.0.79",
                   origin=fresh_origin())
    s.close()
    assert s.status == 200
    assert "access-control-allow-origin" not in s.headers


# -- the widget API now takes messages ----------------------------------------

def test_the_widget_api_takes_posted_messages(stack, tap):
    kid, secret = current_key(stack)
    claims = claims_for()
    tap.clear()
    r = requests.post(f"{stack.url}/widget/v1/messages",
                      json={"content": "Hello?"}, timeout=10,
                      headers={"Authorization":
                               f"Bearer {mint(kid, secret, claims)}"})
    [(_, headers)] = sent_to(tap, "/widget/v1/messages")
    assert r.status_code not in (401, 405, 415), r.text
    [context] = headers_named(headers, "X-Parley-Context")
    fields = verify_context(stack.secret("edge.secret"), context, now_ms())
    assert fields["session"] == claims["sid"]

    # not JSON: 415 at the edge; too large: 413 at the edge
    r = requests.post(f"{stack.url}/widget/v1/messages", data="content=Hi",
                      timeout=10, headers={
                          "Authorization": f"Bearer {mint(kid, secret, claims)}",
                          "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415
    r = requests.post(f"{stack.url}/widget/v1/messages", timeout=10,
                      json={"content": "x" * (64 << 10)}, headers={
                          "Authorization": f"Bearer {mint(kid, secret, claims)}"})
    assert r.status_code == 413
