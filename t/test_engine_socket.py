"""The engine refuses tenant routes whose context is missing, forged or stale
(SPEC §1 trust rule 2): the signature must hold on its own, even for a caller
that reaches the Unix socket directly."""

import json
import socket
import time

from parley_context import sign_context

BODY = json.dumps({"model": "support", "messages": [
    {"role": "user", "content": "What is the launch codename?"}]})


def engine_request(stack, context, path="/v1/chat/completions", body=BODY,
                   method="POST"):
    head = [f"{method} {path} HTTP/1.1", "Host: engine", "Connection: close",
            "Content-Type: application/json", f"Content-Length: {len(body)}"]
    if context is not None:
        head.append(f"X-Parley-Context: {context}")
    raw = ("\r\n".join(head) + "\r\n\r\n" + body).encode()
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(str(stack.engine_socket))
        s.sendall(raw)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), head.decode(), payload.decode(errors="replace")


def context_for(stack, tenant, age_ms=0, secret=None):
    return sign_context(secret or stack.secret("edge.secret"), tenant.id,
                        "key", tenant.key_id, "-", "r" * 32,
                        int(time.time() * 1000) - age_ms)


def test_a_valid_context_is_accepted(stack, tenant_a):
    status, _, payload = engine_request(stack, context_for(stack, tenant_a))
    assert status == 200, payload
    assert "ZEPHYR-7781" in payload


def test_missing_context_is_refused(stack, tenant_a):
    status, _, payload = engine_request(stack, None)
    assert status == 401
    assert json.loads(payload)["error"]["code"] == "invalid_context"


def test_forged_context_is_refused(stack, tenant_a):
    forged = context_for(stack, tenant_a, secret="x" * 48)
    status, _, payload = engine_request(stack, forged)
    assert status == 401
    assert "ZEPHYR" not in payload


def test_tampered_context_is_refused(stack, tenant_a, tenant_b):
    valid = context_for(stack, tenant_b)
    tampered = valid.replace(tenant_b.id, tenant_a.id)
    status, _, payload = engine_request(stack, tampered)
    assert status == 401
    assert "ZEPHYR" not in payload


def test_stale_context_is_refused(stack, tenant_a):
    status, _, _ = engine_request(stack, context_for(stack, tenant_a, age_ms=31_000))
    assert status == 401


def test_introspection_needs_the_edge_context(stack, tenant_a):
    path = "/internal/v1/introspect?key_hash=" + "0" * 64
    status, _, _ = engine_request(stack, context_for(stack, tenant_a), path=path,
                                  method="GET", body="")
    assert status == 401
    status, _, _ = engine_request(stack, None, path=path, method="GET", body="")
    assert status == 401
