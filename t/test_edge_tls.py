"""The TLS site (conf.examples/parley-site-tls.conf) served by the stack's
nginx with a certificate made at test time: HTTPS answers carry
Strict-Transport-Security, plain HTTP ones never do, plain HTTP redirects,
only TLS 1.2+ with AEAD ciphers is spoken, and SSE streams over HTTP/2."""

import json
import socket
import ssl
import subprocess

import pytest
import requests

from conftest import REPO, extra_site, make_tenant
from parley_stack import free_port, port_open

SITE = REPO / "conf.examples" / "parley-site-tls.conf"
HSTS = "max-age=31536000"


def render_site(http_port, https_port, cert, key):
    """The example with the operator's values replaced by the test's."""
    text = SITE.read_text()
    for old, new in (
            ("listen 80;", f"listen 127.0.0.1:{http_port};"),
            ("listen 443 ssl http2;",
             f"listen 127.0.0.1:{https_port} ssl http2;"),
            ("/etc/parley/tls/fullchain.pem", str(cert)),
            ("/etc/parley/tls/privkey.pem", str(key)),
            ("/etc/nginx/parley/parley-locations.conf",
             str(REPO / "conf.examples" / "parley-locations.conf"))):
        assert old in text, old
        text = text.replace(old, new)
    return "\n".join(line for line in text.splitlines()
                     if "listen [::]" not in line)


@pytest.fixture(scope="module")
def site(stack, tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    http_port, https_port = free_port(), free_port()
    with extra_site(stack, render_site(http_port, https_port, cert, key),
                    "the TLS site", lambda: port_open(https_port)):
        yield {"https": f"https://127.0.0.1:{https_port}",
               "http": f"http://127.0.0.1:{http_port}",
               "port": https_port, "cert": str(cert)}


def test_https_answers_carry_hsts(stack, site):
    r = requests.get(f"{site['https']}/healthz", verify=site["cert"],
                     timeout=10)
    assert r.status_code == 200
    assert r.headers["Strict-Transport-Security"] == HSTS
    assert r.headers["X-Content-Type-Options"] == "nosniff"

    # the edge's own refusals too
    r = requests.get(f"{site['https']}/v1/models", verify=site["cert"],
                     timeout=10)
    assert r.status_code == 401
    assert r.headers["Strict-Transport-Security"] == HSTS


def test_plain_http_never_carries_hsts(stack, site):
    r = requests.get(f"{site['http']}/v1/models", allow_redirects=False,
                     timeout=10)
    assert r.status_code == 301
    assert r.headers["Location"].startswith("https://")
    assert "Strict-Transport-Security" not in r.headers

    r = requests.get(f"{stack.url}/healthz", timeout=10)
    assert r.status_code == 200
    assert "Strict-Transport-Security" not in r.headers


def handshake(site, version, ciphers=None):
    ctx = ssl.create_default_context(cafile=site["cert"])
    ctx.minimum_version = ctx.maximum_version = version
    if ciphers:
        ctx.set_ciphers(ciphers)
    with socket.create_connection(("127.0.0.1", site["port"])) as sock:
        with ctx.wrap_socket(sock, server_hostname="localhost") as tls:
            return tls.version(), tls.cipher()[0]


def test_tls_1_2_and_1_3_with_aead_ciphers_only(site):
    assert handshake(site, ssl.TLSVersion.TLSv1_3)[0] == "TLSv1.3"
    version, cipher = handshake(site, ssl.TLSVersion.TLSv1_2)
    assert version == "TLSv1.2"
    assert "GCM" in cipher or "CHACHA20" in cipher
    # CBC with SHA-1 MACs: offered alone, refused
    with pytest.raises(ssl.SSLError):
        handshake(site, ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-AES128-SHA")


def test_sse_streams_over_http2(stack, site):
    tenant = make_tenant(stack)
    body = json.dumps({"model": "support", "stream": True,
                       "messages": [{"role": "user", "content": "Hello?"}]})
    r = subprocess.run(
        ["curl", "-sS", "-N", "--http2", "--cacert", site["cert"],
         "-D", "-", "-w", "\nhttp_version=%{http_version}\n",
         "-H", f"Authorization: Bearer {tenant.key}",
         "-H", "Content-Type: application/json", "-d", body,
         f"{site['https']}/v1/chat/completions"],
        capture_output=True, text=True, timeout=60, check=True)
    out = r.stdout
    assert out.startswith("HTTP/2 200"), out[:300]
    assert "content-type: text/event-stream" in out.lower()
    assert f"strict-transport-security: {HSTS}" in out.lower()
    assert "data: [DONE]" in out
    assert out.rstrip().endswith("http_version=2")


@pytest.mark.parametrize("scheme, passes", [("https", True), ("http", False)])
def test_on_tls_only_the_https_origin_is_this_sites_own(stack, site, scheme,
                                                        passes):
    """The frame page's bootstrap from this site: over TLS its origin is
    https; the same host named over http is another origin, refused at the
    edge (no tenant allows it)."""
    r = requests.post(f"{site['https']}/widget/v1/session", data="{}",
                      headers={"Content-Type": "application/json",
                               "Origin": f"{scheme}://127.0.0.1:{site['port']}"},
                      verify=site["cert"], timeout=10)
    code = r.json()["error"]["code"]
    # passed on: the engine finds no site key; refused: the edge's 403
    assert (r.status_code, code) == ((401, "invalid_site_key") if passes
                                     else (403, "origin_not_allowed")), r.text
