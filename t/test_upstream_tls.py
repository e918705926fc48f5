"""The openai provider over HTTPS (SPEC 4.3): the upstream's certificate is
always verified, against the system's CAs or the bundle in llm.ca_file; an
upstream whose certificate is not trusted is an explicit error, never an
answer over an unverified connection, and costs nothing."""

import subprocess

import pytest

from conftest import REPO, chat, db_rows, engine_log_events, make_tenant, \
    sse_events
from mock_upstream import MockUpstream
from parley_stack import StackError

QUESTION = "How many vacation days do new employees get?"


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def upstream_ca(tmp_path_factory):
    """A CA of our own and an upstream certificate for 127.0.0.1 it signed:
    (CA file, certificate file, key file)."""
    d = tmp_path_factory.mktemp("upstream-tls")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
          "-nodes"]
    openssl("req", "-x509", *ec, "-days", "1", "-subj", "/CN=Parley test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign",
            "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem"))
    openssl("req", *ec, "-subj", "/CN=127.0.0.1",
            "-keyout", str(d / "upstream.key"), "-out", str(d / "upstream.csr"))
    (d / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", str(d / "upstream.csr"), "-days", "1",
            "-CA", str(d / "ca.pem"), "-CAkey", str(d / "ca.key"),
            "-CAcreateserial", "-extfile", str(d / "san.cnf"),
            "-out", str(d / "upstream.pem"))
    return d / "ca.pem", d / "upstream.pem", d / "upstream.key"


@pytest.fixture(scope="module")
def tls_upstream(upstream_ca):
    _, cert, key = upstream_ca
    mock = MockUpstream(tls=(str(cert), str(key))).start()
    yield mock
    mock.stop()


@pytest.fixture
def engine_on(stack):
    """Restarts the engine with the openai provider at `upstream` (and
    `ca_file`); the default engine again after the test."""
    def start(upstream, ca_file=None):
        env = {"PARLEY__LLM__PROVIDER": "openai",
               "PARLEY__LLM__BASE_URL": upstream.base_url,
               "PARLEY__LLM__MODEL": "mock-model"}
        if ca_file:
            env["PARLEY__LLM__CA_FILE"] = str(ca_file)
        stack.start_engine(env=env)
    yield start
    stack.start_engine(env={})


@pytest.fixture
def tenant(stack):
    return make_tenant(stack, REPO / "demo" / "handbook")


def test_an_upstream_signed_by_the_configured_ca_answers(
        stack, tls_upstream, upstream_ca, engine_on, tenant):
    tls_upstream.reset()
    engine_on(tls_upstream, ca_file=upstream_ca[0])
    r = chat(stack, tenant.key, QUESTION, stream=True)
    assert r.status_code == 200, r.text
    events = list(sse_events(r))
    assert events[-1] == "[DONE]"
    content = "".join(e["choices"][0]["delta"].get("content") or ""
                      for e in events[:-1] if e["choices"])
    assert content == "Vacation is twenty days [1]."
    assert len(tls_upstream.requests) == 1


def test_an_untrusted_upstream_is_an_explicit_error_that_costs_nothing(
        stack, tls_upstream, engine_on, tenant):
    tls_upstream.reset()
    engine_on(tls_upstream)   # the system's CAs do not know ours
    failures = len(engine_log_events(stack, "llm_transfer_failed"))
    r = chat(stack, tenant.key, QUESTION)
    assert r.status_code == 502, r.text
    error = r.json()["error"]
    assert (error["type"], error["code"]) == ("server_error", "upstream_error")
    assert "could not be reached" in error["message"]
    # nothing was sent over the unverified connection
    assert tls_upstream.requests == []
    assert db_rows(stack, "SELECT status, prompt_tokens, completion_tokens "
                          "FROM llm_requests", tenant=tenant.id) == [
        ["error", "0", "0"]]
    # the operator's log says why; the client's error does not
    logged = engine_log_events(stack, "llm_transfer_failed")[failures:]
    assert any("certificate" in e["detail"] for e in logged), logged
    assert "certificate" not in error["message"]


def test_an_unreadable_ca_file_stops_the_engine_from_starting(
        tls_upstream, engine_on, tmp_path):
    missing = tmp_path / "missing.pem"
    with pytest.raises(StackError) as exited:
        engine_on(tls_upstream, ca_file=missing)
    assert f"llm.ca_file: cannot read '{missing}'" in str(exited.value)
