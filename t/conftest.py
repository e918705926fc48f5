"""Fixtures: one real stack (PostgreSQL + engine + nginx with the module) per
test session, in a temporary directory on a free port, plus a mock
OpenAI-compatible upstream. Tests speak HTTP to nginx like a real client."""

import itertools
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
sys.path.insert(0, str(REPO / "scripts"))

from parley_stack import Stack, free_port  # noqa: E402
from mock_upstream import MockUpstream  # noqa: E402

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


def make_tenant(stack, docs=None, rpm=None, burst=None, agent="support"):
    """A new tenant with a secret key and an agent that knows `docs`."""
    slug = f"t{next(_slugs)}-{docs.name if docs else 'empty'}".replace("_", "-")
    args = ["tenant", "create", "--slug", slug, "--name", slug.title()]
    if rpm is not None:
        args += ["--rpm", rpm]
    if burst is not None:
        args += ["--burst", burst]
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


def engine_log_events(stack, event):
    """The engine's JSON-line log entries of one kind of event."""
    out = []
    for line in stack.engine_log.read_text().splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if entry.get("event") == event:
            out.append(entry)
    return out


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
