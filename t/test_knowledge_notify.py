"""Changes to a tenant's knowledge reach every engine at once: two engines
on one database, documents uploaded and deleted through the first (behind
nginx), and the second rebuilding the tenant's index on PostgreSQL's
notification, before any question reaches it. A test that only queried
engine B would pass even without notifications (B reads the knowledge
version when its cached state is dropped); this one watches B's log and
asks B nothing until it has reloaded."""

import json
import os
import subprocess
import time

import pytest
import requests

from conftest import (auth, engine_call, log_events, make_tenant,
                      signed_context)
from parley_stack import unix_http_ok, wait_for

FACT = "The Valparaiso ferry leaves pier nine at 06:40 every weekday."
QUESTION = "When does the Valparaiso ferry leave pier nine?"


@pytest.fixture
def engine_b(stack, tmp_path):
    socket_path = tmp_path / "engine-b.sock"
    log = tmp_path / "engine-b.log"
    env = dict(os.environ, PARLEY_CONFIG=str(stack.config))
    env.update({"PARLEY__SERVER__SOCKET": str(socket_path),
                "PARLEY__LOGGING__FILE": str(log)})
    proc = subprocess.Popen([str(stack.parley_bin), "serve"], env=env,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        wait_for("engine B", lambda: unix_http_ok(socket_path, "/readyz"))
        yield socket_path, log
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def retrieve_on(stack, socket_path, tenant, query):
    context = signed_context(stack, "key", tenant.key_id, tenant.id)
    status, _, body = engine_call(stack, "POST", "/v1/retrieve", context,
                                  {"query": query, "model": "support"},
                                  socket_path=socket_path)
    assert status == 200, body
    return json.loads(body)["data"]


def loads_of(log, tenant):
    return [e for e in log_events(log, "index_load")
            if e["tenant_id"] == tenant.id]


def wait_for_load(log, tenant, after, timeout=10):
    deadline = time.monotonic() + timeout
    while len(loads_of(log, tenant)) <= after:
        assert time.monotonic() < deadline, "engine B never reloaded the index"
        time.sleep(0.02)
    return loads_of(log, tenant)[-1]


def test_engine_b_reloads_on_notification_before_any_query(stack, engine_b):
    socket_b, log_b = engine_b
    tenant = make_tenant(stack)
    # engine B holds the tenant's (empty) index
    assert retrieve_on(stack, socket_b, tenant, QUESTION) == []
    warm = loads_of(log_b, tenant)
    assert len(warm) == 1

    up = requests.post(f"{stack.url}/v1/documents", headers=auth(tenant.key),
                       json={"content": FACT, "agents": ["support"]}, timeout=10)
    assert up.status_code == 202, up.text
    reloaded = wait_for_load(log_b, tenant, after=1)
    assert reloaded["knowledge_version"] > warm[0]["knowledge_version"]
    assert reloaded["chunks"] == 1

    # the first question to B finds the document, and B builds nothing more
    hits = retrieve_on(stack, socket_b, tenant, QUESTION)
    assert [h["document_id"] for h in hits] == [up.json()["id"]]
    assert len(loads_of(log_b, tenant)) == 2

    gone = requests.delete(f"{stack.url}/v1/documents/{up.json()['id']}",
                           headers=auth(tenant.key), timeout=10)
    assert gone.status_code == 200
    after_delete = wait_for_load(log_b, tenant, after=2)
    assert after_delete["chunks"] == 0
    assert retrieve_on(stack, socket_b, tenant, QUESTION) == []


def test_an_engine_without_the_tenants_index_builds_nothing_on_notice(
        stack, engine_b):
    socket_b, log_b = engine_b
    tenant = make_tenant(stack)
    up = requests.post(f"{stack.url}/v1/documents", headers=auth(tenant.key),
                       json={"content": FACT, "agents": ["support"]}, timeout=10)
    assert up.status_code == 202
    deadline = time.monotonic() + 10
    while requests.get(f"{stack.url}/v1/documents/{up.json()['id']}",
                       headers=auth(tenant.key), timeout=10
                       ).json()["status"] == "processing":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)
    # B never held this tenant: a notification is no reason to load it
    assert loads_of(log_b, tenant) == []
    assert unix_http_ok(socket_b, "/readyz")
