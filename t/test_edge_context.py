"""The edge -> engine context (SPEC 1, 3.5): the reference verifier holds
against the shared test vectors, and what nginx really sends the engine is
a context that verifies, names the key's tenant and nothing a client sent.

A tap on the engine's socket path sees every request nginx sends while it
relays them to the engine, which keeps answering as usual."""

import json
import os
import socket
import threading
import time
from pathlib import Path

import pytest
import requests

from conftest import REPO, auth, make_tenant
from parley_context import (NIL_TENANT, InvalidContext, sign_context,
                            verify_context)
from relay import copy_until_closed, shut

VECTORS = json.loads(
    (REPO / "shared" / "test-vectors" / "context.json").read_text())


# -- the reference verifier against the shared vectors -----------------------

@pytest.mark.parametrize("v", VECTORS["valid"], ids=lambda v: v["kind"])
def test_signing_reproduces_each_valid_vector(v):
    header = sign_context(VECTORS["secret"], v["tenant"], v["kind"],
                          v["principal"], v["session"], v["request"],
                          v["unix_ms"])
    assert header == v["header"]
    fields = verify_context(VECTORS["secret"], header, v["unix_ms"])
    assert fields["tenant"] == v["tenant"]
    assert fields["principal"] == v["principal"]


@pytest.mark.parametrize("v", VECTORS["valid_at_boundary"],
                         ids=lambda v: str(v["now_ms"]))
def test_boundary_vectors_verify(v):
    verify_context(VECTORS["secret"], v["header"], v["now_ms"])


@pytest.mark.parametrize("v", VECTORS["invalid"],
                         ids=lambda v: v["reason"])
def test_invalid_vectors_are_refused_for_their_reason(v):
    with pytest.raises(InvalidContext) as refused:
        verify_context(VECTORS["secret"], v["header"], v["now_ms"])
    assert refused.value.reason == v["reason"]


# -- what nginx sends ---------------------------------------------------------

class EngineTap:
    """Takes the engine's socket path (the engine keeps listening on its
    socket under another name) and relays every connection to the engine,
    recording each request head that nginx sends."""

    def __init__(self, stack):
        self.stack = stack
        self.path = Path(stack.engine_socket)
        self.real = self.path.with_name(self.path.name + ".tapped")
        self.heads = []
        self.lock = threading.Lock()
        self.server = None

    def __enter__(self):
        os.rename(self.path, self.real)
        self.server = socket.socket(socket.AF_UNIX)
        self.server.bind(str(self.path))
        os.chmod(self.path, 0o666)
        self.server.listen(64)
        self.accepting = threading.Thread(target=self._accept, daemon=True)
        self.accepting.start()
        # new workers: no idle upstream connection bypasses the tap
        self.stack.reload_nginx()
        self._wait_until_tapped()
        return self

    def __exit__(self, *exc):
        # the accept loop ends before the descriptor is closed: a thread
        # still in accept() then could take the connections of whatever
        # socket gets that descriptor next (the mock upstream's, say)
        self.server.shutdown(socket.SHUT_RDWR)
        self.accepting.join(10)
        self.server.close()
        self.path.unlink()
        os.rename(self.real, self.path)
        self.stack.reload_nginx()

    def _wait_until_tapped(self):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            requests.get(f"{self.stack.url}/healthz", timeout=5)
            if any(target == "/healthz" for target, _ in self.requests()):
                # the old workers got their notice before the new ones ran
                time.sleep(0.2)
                return
            time.sleep(0.1)
        raise AssertionError("nginx never reached the tap")

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(str(self.real))
            threading.Thread(target=self._requests_of, args=(client, upstream),
                             daemon=True).start()
            threading.Thread(target=copy_until_closed, args=(upstream, client),
                             daemon=True).start()


    def _requests_of(self, client, upstream):
        """Relays nginx -> engine, parsing heads; bodies have a length
        (nginx buffers request bodies before proxying them)."""
        buf, body_left = b"", 0
        try:
            while data := client.recv(65536):
                upstream.sendall(data)
                buf += data
                while True:
                    if body_left:
                        skip = min(body_left, len(buf))
                        buf, body_left = buf[skip:], body_left - skip
                        if body_left:
                            break
                    head, sep, rest = buf.partition(b"\r\n\r\n")
                    if not sep:
                        break
                    buf = rest
                    body_left = self._record(head.decode("latin-1"))
        except OSError:
            pass
        finally:
            for s in (client, upstream):
                shut(s)

    def _record(self, head):
        lines = head.split("\r\n")
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
        with self.lock:
            self.heads.append((lines[0].split(" ")[1], headers))
        return next((int(v) for n, v in headers
                     if n.lower() == "content-length"), 0)

    def requests(self):
        with self.lock:
            return list(self.heads)

    def clear(self):
        with self.lock:
            self.heads.clear()


# what FakeRoutesTap answers for a stream: headers, then the body as it
# comes
STREAM_HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
               b"Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n")


def chunk(data):
    return b"%x\r\n%s\r\n" % (len(data), data)


def canned(status, body=b"", headers=()):
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class FakeRoutesTap(EngineTap):
    """The engine's socket, as EngineTap takes it: requests are recorded
    and relayed to the engine, but for the targets that `route` answers
    itself: with canned bytes, or "hold" (a stream: its head and a first
    event now, its end once released)."""

    def __init__(self, stack, route):
        super().__init__(stack)
        self.route = route
        self.released = threading.Event()
        self.held = 0

    def release(self):
        self.released.set()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,),
                             daemon=True).start()

    def _serve(self, client):
        buf, upstream, held = b"", None, [False]
        try:
            while True:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    data = client.recv(65536)
                    if not data:
                        return
                    buf += data
                    continue
                head = buf[:end].decode("latin-1")
                total = end + 4 + self._record(head)
                while len(buf) < total:
                    data = client.recv(65536)
                    if not data:
                        return
                    buf += data
                request, buf = buf[:total], buf[total:]
                answer = self.route(head.split("\r\n")[0].split(" ")[1])

                if answer is None:
                    if upstream is None:
                        upstream = socket.socket(socket.AF_UNIX)
                        upstream.connect(str(self.real))
                        threading.Thread(target=self._pump,
                                         args=(upstream, client, held),
                                         daemon=True).start()
                    upstream.sendall(request)

                elif answer == "hold":
                    held[0] = True
                    with self.lock:
                        self.held += 1
                    client.sendall(STREAM_HEAD + chunk(b": ping\n\n"))
                    self.released.wait()
                    client.sendall(chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
                    return

                else:
                    client.sendall(answer)
        except OSError:
            pass
        finally:
            for s in (client, upstream):
                if s is not None:
                    shut(s)

    @staticmethod
    def _pump(src, dst, held):
        """engine -> nginx; an engine that closes an idle connection
        closes nginx's too, unless a stream is held on it"""
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            if not held[0]:
                shut(dst)

    def __exit__(self, *exc):
        self.release()
        super().__exit__(*exc)


@pytest.fixture(scope="module")
def tap(stack):
    with EngineTap(stack) as t:
        yield t


def headers_named(headers, name):
    return [v for n, v in headers if n.lower() == name.lower()]


def sent_to(tap, prefix):
    return [(target, headers) for target, headers in tap.requests()
            if target.startswith(prefix)]


def now_ms():
    return int(time.time() * 1000)


def models(stack, key, headers=None):
    return requests.get(f"{stack.url}/v1/models",
                        headers={**auth(key), **(headers or {})}, timeout=10)


def test_nginx_sends_a_context_that_verifies(stack, tap):
    tenant = make_tenant(stack)
    tap.clear()
    r = models(stack, tenant.key)
    assert r.status_code == 200, r.text

    [(_, headers)] = sent_to(tap, "/v1/models")
    [context] = headers_named(headers, "X-Parley-Context")
    fields = verify_context(stack.secret("edge.secret"), context, now_ms())
    assert fields["tenant"] == tenant.id
    assert fields["kind"] == "key"
    assert fields["principal"] == tenant.key_id
    assert fields["session"] == "-"
    assert abs(fields["unix_ms"] - now_ms()) < 10_000


def test_introspection_carries_the_edge_context_and_nothing_else(stack, tap):
    tenant = make_tenant(stack)
    tap.clear()
    r = models(stack, tenant.key, headers={"Cookie": "c=1"})
    assert r.status_code == 200, r.text

    [(target, headers)] = sent_to(tap, "/internal/v1/introspect")
    assert target.startswith("/internal/v1/introspect?key_hash=")
    [context] = headers_named(headers, "X-Parley-Context")
    fields = verify_context(stack.secret("edge.secret"), context, now_ms())
    assert (fields["tenant"], fields["kind"], fields["principal"]) == \
        (NIL_TENANT, "edge", "introspect")
    # the key, the client's headers and its body stay at the edge
    names = {n.lower() for n, _ in headers}
    assert not names & {"authorization", "cookie"}
    assert tenant.key not in json.dumps(headers)
    assert headers_named(headers, "Content-Length") in ([], ["0"])
    assert not headers_named(headers, "Transfer-Encoding")

    # the request and its introspection share nginx's request id
    [(_, api_headers)] = sent_to(tap, "/v1/models")
    [api_context] = headers_named(api_headers, "X-Parley-Context")
    assert verify_context(stack.secret("edge.secret"), api_context,
                          now_ms())["request"] == fields["request"]


def test_client_sent_identity_headers_never_reach_the_engine(
        stack, tap):
    tenant_a, tenant_b = make_tenant(stack), make_tenant(stack)
    secret = stack.secret("edge.secret")
    # even a context validly signed for tenant B is the client's, not ours
    forged = sign_context(secret, tenant_b.id, "key", tenant_b.key_id, "-",
                          "f" * 32, now_ms())
    tap.clear()
    r = models(stack, tenant_a.key, headers={
        "X-Parley-Context": forged,
        "X-Parley-Tenant-Id": tenant_b.id,
        "X-PARLEY-ANYTHING": "1",
        "X-Tenant-Id": tenant_b.id,
    })
    assert r.status_code == 200, r.text

    [(_, headers)] = sent_to(tap, "/v1/models")
    parley = [(n, v) for n, v in headers if n.lower().startswith("x-parley-")]
    assert [n.lower() for n, _ in parley] == ["x-parley-context"]
    fields = verify_context(secret, parley[0][1], now_ms())
    assert fields["tenant"] == tenant_a.id
    assert fields["principal"] == tenant_a.key_id
    assert headers_named(headers, "X-Tenant-Id") == []
    # nor does the raw key: the engine trusts the context alone
    assert headers_named(headers, "Authorization") == []
    assert tenant_b.id not in json.dumps(headers)


def test_requests_without_a_credential_carry_no_context(stack, tap):
    tap.clear()
    r = requests.get(f"{stack.url}/healthz", headers={
        "X-Parley-Context": "v1.forged", "X-Parley-Tenant-Id": NIL_TENANT},
        timeout=10)
    assert r.status_code == 200
    [(_, headers)] = sent_to(tap, "/healthz")
    assert not [n for n, _ in headers if n.lower().startswith("x-parley-")]


def test_refused_requests_never_reach_the_engine(stack, tap):
    tap.clear()
    r = requests.post(f"{stack.url}/v1/chat/completions", json={},
                      headers=auth("sk_not-a-key"), timeout=10)
    assert r.status_code == 401
    assert tap.requests() == []
