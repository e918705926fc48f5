"""Fixtures: one real stack (PostgreSQL + engine + nginx with the module) per
test session, in a temporary directory on a free port, plus a mock
OpenAI-compatible upstream. Tests speak HTTP to nginx like a real client."""

import itertools
from contextlib import contextmanager
import json
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from requests.adapters import HTTPAdapter

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
sys.path.insert(0, str(REPO / "scripts"))

from parley_stack import NGINX, Stack, free_port, wait_for  # noqa: E402
from mock_upstream import MockUpstream  # noqa: E402
from parley_context import NIL_TENANT, sign_context  # noqa: E402

# Short TTLs so that caching and revocation are observable in seconds.
POSITIVE_TTL = 3
NEGATIVE_TTL = 5
EDGE_OVERRIDES = {
    "parley_key_cache_ttl": f"{POSITIVE_TTL}s",
    "parley_key_negative_ttl": f"{NEGATIVE_TTL}s",
}

_slugs = itertools.count(1)


@dataclass
class Tenant:
    slug: str
    id: str
    key: str
    key_id: str
    agent: str = "support"


@pytest.fixture(scope="session")
def mock_upstream():
    mock = MockUpstream().start()
    yield mock
    mock.stop()


@pytest.fixture(scope="session")
def stack():
    root = Path(tempfile.mkdtemp(prefix="parley-test-"))
    s = Stack(root, free_port(), edge_overrides=EDGE_OVERRIDES)
    try:
        s.up()
        yield s
    finally:
        s.down()
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def engine_through(stack, mock, **env):
    """The engine restarted with the openai provider pointed at `mock`, and
    `env`'s overrides; the extractive engine again after it."""
    stack.start_engine(env={
        "PARLEY__LLM__PROVIDER": "openai",
        "PARLEY__LLM__BASE_URL": mock.base_url,
        "PARLEY__LLM__MODEL": "mock-model",
        "PARLEY__LLM__API_KEY_ENV": "PARLEY_TEST_UPSTREAM_KEY",
        "PARLEY__LLM__FIRST_TOKEN_TIMEOUT_MS": "3000",
        "PARLEY__LLM__PRICES": '{"mock-model": {"prompt_per_1k": 0.001, '
                               '"completion_per_1k": 0.002}}',
        "PARLEY_TEST_UPSTREAM_KEY": "sk-upstream-test-0123456789",
        **env,
    })
    try:
        yield mock
    finally:
        mock.gate.set()
        stack.start_engine(env={})


@pytest.fixture(scope="module")
def openai_engine(stack, mock_upstream):
    """The engine answering through the mock upstream, for one test module."""
    with engine_through(stack, mock_upstream) as mock:
        yield mock


def make_tenant(stack, docs=None, rpm=None, burst=None, agent="support",
                max_streams=None):
    """A new tenant with a secret key and an agent that knows `docs`."""
    slug = f"t{next(_slugs)}-{docs.name if docs else 'empty'}".replace("_", "-")
    args = ["tenant", "create", "--slug", slug, "--name", slug.title()]
    if rpm is not None:
        args += ["--rpm", rpm]
    if burst is not None:
        args += ["--burst", burst]
    if max_streams is not None:
        args += ["--max-streams", max_streams]
    tenant = stack.parley(*args, "--json")
    key = stack.parley("key", "create", "--tenant", slug, "--kind", "secret",
                       "--json")
    stack.parley("agent", "create", "--tenant", slug, "--code", agent,
                 "--name", f"{slug} {agent}", "--json")
    if docs is not None:
        stack.parley("ingest", "--tenant", slug, "--agent", agent, docs,
                     "--json")
    return Tenant(slug=slug, id=tenant["id"], key=key["key"],
                  key_id=key["id"], agent=agent)


@pytest.fixture(scope="session")
def tenant_a(stack):
    return make_tenant(stack, DATA / "tenant_a")


@pytest.fixture(scope="session")
def tenant_b(stack):
    return make_tenant(stack, DATA / "tenant_b")


def auth(key):
    return {"Authorization": f"Bearer {key}"}


def upload_json(stack, key, **body):
    return requests.post(f"{stack.url}/v1/documents", headers=auth(key),
                         json=body, timeout=30)


def document(stack, key, doc_id):
    return requests.get(f"{stack.url}/v1/documents/{doc_id}",
                        headers=auth(key), timeout=10)


def settled(stack, key, doc_id, timeout=30):
    """The document once it is no longer processing."""
    deadline = time.monotonic() + timeout
    while True:
        r = document(stack, key, doc_id)
        assert r.status_code == 200, r.text
        if r.json()["status"] != "processing":
            return r.json()
        assert time.monotonic() < deadline, "still processing"
        time.sleep(0.05)


def chat(stack, key, content, stream=False, model="support", headers=None,
         extra=None, timeout=30):
    body = {"model": model, "stream": stream,
            "messages": [{"role": "user", "content": content}]}
    body.update(extra or {})
    h = auth(key)
    h.update(headers or {})
    return requests.post(f"{stack.url}/v1/chat/completions", json=body,
                         headers=h, stream=stream, timeout=timeout)


def sse_events(response):
    """Yields each SSE `data:` payload of a response, parsed unless [DONE]."""
    for line in response.iter_lines(decode_unicode=True):
        if line.startswith("data: "):
            payload = line[len("data: "):]
            yield payload if payload == "[DONE]" else json.loads(payload)


def open_stream(stack, tenant,
                question="How many vacation days do new employees get?"):
    """A streamed answer, read up to its first token: the engine is now
    generating and the stream is open.  The events that follow come from
    the same iterator (dropping it would close the connection)."""
    r = chat(stack, tenant.key, question, stream=True)
    assert r.status_code == 200, r.text
    events = sse_events(r)
    for event in events:
        if (isinstance(event, dict) and event.get("choices")
                and event["choices"][0]["delta"].get("content")):
            return r, events
    raise AssertionError("the stream ended before its first token")


def content_of(events):
    return "".join(e["choices"][0]["delta"].get("content") or ""
                   for e in events if isinstance(e, dict) and e.get("choices"))


def explicit_error(r):
    """The error a streaming client sees: an HTTP error when nothing was
    streamed yet, else a final SSE error event with no [DONE]."""
    if r.status_code != 200:
        assert r.status_code in (502, 504)
        return r.json()["error"]
    events = list(sse_events(r))
    assert "[DONE]" not in events
    assert content_of(events) == ""
    return events[-1]["error"]


def stream_past_a_held_upstream(stack, tenant, mock,
                                question="How many vacation days do new "
                                         "employees get?"):
    """A streamed answer from `mock` set to hold its stream after the first
    token: that token reaches the client while the upstream still holds the
    rest, then the hold is released. The response and every event."""
    mock.reset(mode="gated")
    r = chat(stack, tenant.key, question, stream=True)
    assert r.status_code == 200
    events = []
    for event in sse_events(r):
        events.append(event)
        if content_of(events) and not mock.gate.is_set():
            # the upstream is still holding the rest of its answer
            assert not mock.finished.is_set()
            mock.gate.set()
    assert mock.gate.is_set(), "no token arrived"
    return r, events


def call_failures(stack, r):
    """The engine's `llm_call_failed` log entries for response `r`."""
    request_id = r.headers["X-Request-Id"]
    return [e for e in engine_log_events(stack, "llm_call_failed")
            if e["request_id"] == request_id]


def time_out_on_a_silent_upstream(stack, tenant, mock,
                                  question="How many vacation days do new "
                                           "employees get?"):
    """`mock` sends its stream's head and then nothing: the client gets an
    explicit error in plain words with its request id; the operator's log
    has which timeout it was."""
    mock.reset(mode="silent")
    r = chat(stack, tenant.key, question, stream=True)
    error = explicit_error(r)
    mock.gate.set()
    assert "did not answer in time" in error["message"]
    assert r.headers["X-Request-Id"] in error["message"]
    failures = call_failures(stack, r)
    assert failures and "first-token timeout" in failures[0]["detail"]


def hang_up_after_first_token(stack, tenant, mock,
                              question="How many vacation days do new "
                                       "employees get?"):
    """A client asking for a whole answer (not streamed) hangs up once `mock`
    (set to hold its stream after the first token) has sent the first token.
    The call is cancelled: llm_requests records it `cancelled` with
    estimated tokens, the upstream never finishes, the request is a 499."""
    mock.reset(mode="gated")
    body = json.dumps({"model": "support", "messages": [
        {"role": "user", "content": question}]}).encode()
    host, port = stack.url.removeprefix("http://").split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=10) as c:
            c.sendall(b"POST /v1/chat/completions HTTP/1.1\r\n"
                      b"Host: parley\r\nContent-Type: application/json\r\n"
                      b"Authorization: Bearer " + tenant.key.encode()
                      + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            assert mock.first_token_sent.wait(10)
        # the client is gone; the upstream still holds the rest of its answer

        def cancelled():
            # the prompt reached the upstream, so it counts; whether the
            # first token did before the hang-up is a race
            return db_rows(stack, "SELECT status, usage_estimated, "
                                  "prompt_tokens > 0 FROM llm_requests",
                           tenant=tenant.id)

        deadline = time.monotonic() + 5
        while not cancelled() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert cancelled() == [["cancelled", "t", "t"]]
        assert not mock.finished.is_set()
        answered = [e for e in engine_log_events(stack, "request")
                    if e["path"] == "/v1/chat/completions"]
        assert answered[-1]["status"] == 499
    finally:
        mock.gate.set()


def log_events(path, event):
    """The entries of one kind of event in an engine's JSON-line log."""
    out = []
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if entry.get("event") == event:
            out.append(entry)
    return out


def engine_log_events(stack, event):
    """The test stack's engine log entries of one kind of event."""
    return log_events(stack.engine_log, event)


def db_rows(stack, sql, user="parley_owner", tenant=None):
    """Rows of `sql` run by psql as `user`; with `tenant`, the session's
    parley.tenant_id is set first, as the engine does per transaction."""
    statements = []
    if tenant is not None:
        statements.append(f"SELECT set_config('parley.tenant_id', '{tenant}', false)")
    statements.append(sql)
    out = stack.psql_session(statements, user=user)
    lines = out.splitlines()[1:] if tenant is not None else out.splitlines()
    return [line.split("|") for line in lines if line]


class _SourceAddressAdapter(HTTPAdapter):
    def __init__(self, address, **kw):
        self._address = address
        super().__init__(**kw)

    def init_poolmanager(self, *args, **kw):
        kw["source_address"] = (self._address, 0)
        super().init_poolmanager(*args, **kw)


def client_from(address):
    """A requests session whose connections come from `address`, any of
    127.0.0.0/8: per-address limits and allow/deny see another client."""
    s = requests.Session()
    s.mount("http://", _SourceAddressAdapter(address))
    return s


@pytest.fixture
def nginx_check(stack, tmp_path):
    """`nginx -t` of the module with the given http-level directives:
    (passed, nginx's output)."""
    def check(http_directives):
        conf = tmp_path / "nginx-check.conf"
        conf.write_text(f"load_module {stack.module_so};\n"
                        f"pid {tmp_path / 'nginx.pid'};\n"
                        "events { }\n"
                        f"http {{\n{http_directives}\n}}\n")
        r = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(conf),
                            "-e", str(tmp_path / "error.log")],
                           capture_output=True, text=True)
        return r.returncode == 0, r.stderr
    return check


def engine_call(stack, method, path, context=None, body=None, headers=None,
                socket_path=None):
    """One HTTP/1.1 request straight to the engine's Unix socket (the
    stack's, or `socket_path`), bypassing nginx: (status, {lowercased
    header: value}, body text). `body` may be a dict (sent as JSON) or a
    string."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    payload = (body or "").encode()
    head = [f"{method} {path} HTTP/1.1", "Host: engine", "Connection: close",
            f"Content-Length: {len(payload)}"]
    if body is not None:
        head.append("Content-Type: application/json")
    if context is not None:
        head.append(f"X-Parley-Context: {context}")
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(30)
        s.connect(str(socket_path or stack.engine_socket))
        s.sendall("\r\n".join(head).encode() + b"\r\n\r\n" + payload)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    raw_head, _, raw_body = data.partition(b"\r\n\r\n")
    lines = raw_head.decode().split("\r\n")
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    if fields.get("transfer-encoding") == "chunked":
        raw_body = _unchunk(raw_body)
    return int(lines[0].split()[1]), fields, raw_body.decode(errors="replace")


def _unchunk(data):
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2:]
    return out


def signed_context(stack, kind, principal, tenant=None, session="-"):
    """A fresh X-Parley-Context as the edge would sign it."""
    return sign_context(stack.secret("edge.secret"), tenant or NIL_TENANT,
                        kind, principal, session, secrets.token_hex(16),
                        int(time.time() * 1000))


@contextmanager
def extra_site(stack, http_text, what, is_up):
    """Extra http-level config (a server block of a test's own) in the
    running nginx while the block runs; the stack's own config after it."""
    stack.extra_http = http_text
    stack.reload_nginx()
    wait_for(what, is_up)
    try:
        yield
    finally:
        stack.extra_http = ""
        stack.reload_nginx()


@pytest.fixture
def unstorable_questions(stack):
    """Messages containing UNSTORABLE fail to insert, as in a database fault."""
    stack.psql_session([
        "CREATE FUNCTION test_refuse_unstorable() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN IF NEW.content LIKE '%UNSTORABLE%' THEN "
        "RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$",
        "CREATE TRIGGER test_refuse_unstorable BEFORE INSERT ON messages "
        "FOR EACH ROW EXECUTE FUNCTION test_refuse_unstorable()"])
    yield "UNSTORABLE What is the launch codename of Project Bluefin?"
    stack.psql_session(["DROP TRIGGER test_refuse_unstorable ON messages",
                        "DROP FUNCTION test_refuse_unstorable()"])
