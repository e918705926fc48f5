"""Tenants bring their own provider keys (SPEC 4.3): an agent chooses its
provider and model; a tenant's credential, stored write-only through the
admin API or the CLI and sealed with AES-256-GCM under the master key ring,
is sent instead of the operator's; a credential that fails is an explicit
error and never a silent use of the operator's key; the key is in no
response, log line or database dump; and `parley rotate-master-key` seals
every credential again with the ring's newest key."""

import json
import secrets
import subprocess
import time

import pytest
import requests

from conftest import REPO, chat, db_rows, engine_through, make_tenant
from parley_stack import PG_BIN
from mock_anthropic import MockAnthropic
from mock_upstream import MockUpstream
from test_agents import admin

QUESTION = "How many vacation days do new employees get?"
OPERATOR_KEY = "sk-upstream-test-0123456789"  # conftest.engine_through's


@pytest.fixture(scope="module")
def upstreams(stack):
    """The engine with two providers: `openai` (the default, with the
    operator's key) and `claude`, an Anthropic endpoint the operator has no
    key for."""
    openai, claude = MockUpstream().start(), MockAnthropic().start()
    providers = {"claude": {"kind": "anthropic", "base_url": claude.base_url,
                            "model": "claude-default"}}
    try:
        with engine_through(stack, openai,
                            PARLEY__LLM__PROVIDERS=json.dumps(providers)):
            yield openai, claude
    finally:
        openai.stop()
        claude.stop()


@pytest.fixture
def openai(upstreams):
    upstreams[0].reset()
    return upstreams[0]


@pytest.fixture
def claude(upstreams):
    upstreams[1].reset()
    return upstreams[1]


@pytest.fixture
def tenant(stack, upstreams):
    return make_tenant(stack, REPO / "demo" / "handbook")


def new_key(prefix="sk-tenant"):
    return f"{prefix}-{secrets.token_urlsafe(24)}"


def put_credential(stack, tenant, provider, key):
    return admin(stack, "PUT", f"/tenants/{tenant.slug}/credentials/{provider}",
                 {"api_key": key})


def keys_seen(mock, header):
    return [headers.get(header) for headers, _ in mock.requests]


def provider_of_call(stack, tenant, session):
    return db_rows(stack, "SELECT provider, model, status FROM llm_requests "
                          f"WHERE session_id = '{session}'", tenant=tenant.id)[0]


def test_a_tenant_credential_is_sent_instead_of_the_operators(
        stack, openai, tenant):
    other = make_tenant(stack, REPO / "demo" / "handbook")
    key = new_key()
    r = put_credential(stack, tenant, "openai", key)
    assert r.status_code == 200, r.text
    assert r.json()["provider"] == "openai"

    assert chat(stack, tenant.key, QUESTION).status_code == 200
    assert chat(stack, other.key, QUESTION).status_code == 200
    assert keys_seen(openai, "Authorization") == [f"Bearer {key}",
                                                  f"Bearer {OPERATOR_KEY}"]

    # deleted: the operator's key again, at the next request
    r = admin(stack, "DELETE", f"/tenants/{tenant.slug}/credentials/openai")
    assert r.status_code == 200, r.text
    openai.reset()
    assert chat(stack, tenant.key, QUESTION).status_code == 200
    assert keys_seen(openai, "Authorization") == [f"Bearer {OPERATOR_KEY}"]


def test_an_agent_chooses_its_provider_and_model_with_the_tenants_key(
        stack, openai, claude, tenant):
    key = new_key("sk-ant-tenant")
    claude.script.api_key = key
    stack.parley("agent", "update", "--tenant", tenant.slug, "--code",
                 tenant.agent, "--provider", "claude", "--model", "claude-x",
                 "--max-tokens", "300", "--json")
    # from stdin, as an operator pipes it in
    stored = stack.parley("credential", "set", "--tenant", tenant.slug,
                          "--provider", "claude", "--json", input=key + "\n")
    assert stored["provider"] == "claude"

    r = chat(stack, tenant.key, QUESTION)
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["message"]["content"] == \
        "Vacation is twenty days [1]."
    assert keys_seen(claude, "x-api-key") == [key]
    assert claude.requests[0][1]["model"] == "claude-x"
    assert claude.requests[0][1]["max_tokens"] == 300
    assert openai.requests == []
    assert provider_of_call(stack, tenant, r.headers["X-Parley-Session-Id"]) == \
        ["claude", "claude-x", "ok"]

    # back to the default provider and its model
    stack.parley("agent", "update", "--tenant", tenant.slug, "--code",
                 tenant.agent, "--provider", "none", "--model", "none", "--json")
    r = chat(stack, tenant.key, QUESTION)
    assert provider_of_call(stack, tenant, r.headers["X-Parley-Session-Id"]) == \
        ["openai", "mock-model", "ok"]


def test_a_provider_without_any_key_is_an_explicit_error(
        stack, claude, tenant):
    r = admin(stack, "PATCH", f"/tenants/{tenant.slug}/agents/{tenant.agent}",
              {"provider": "claude"})
    assert r.status_code == 200, r.text
    assert r.json()["provider"] == "claude"
    r = chat(stack, tenant.key, QUESTION)
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "provider_unavailable"
    assert "no credential for the provider 'claude'" in \
        r.json()["error"]["message"]
    assert claude.requests == []


def test_a_failing_tenant_credential_never_falls_back_to_the_operators_key(
        stack, openai, tenant):
    key = new_key()
    openai.script.rejected_keys = (key,)
    assert put_credential(stack, tenant, "openai", key).status_code == 200
    for stream in (False, True):
        # refused at once: a plain error, before any stream opens
        r = chat(stack, tenant.key, QUESTION, stream=stream)
        assert r.status_code == 502, r.text
        assert r.json()["error"]["code"] == "upstream_error"
        assert key not in r.text
    assert keys_seen(openai, "Authorization") == [f"Bearer {key}"] * 2
    # the provider's own words reach the operator's log, the key does not
    failures = [e for e in log_entries(stack)
                if e.get("event") == "llm_call_failed"
                and e.get("tenant_id") == tenant.id]
    assert failures and "Incorrect API key provided: [credential]" in \
        failures[-1]["detail"]


def test_a_credential_that_cannot_be_opened_is_an_error_not_the_operators_key(
        stack, openai, tenant):
    """An attacker with write access to the table copies another tenant's
    sealed credential into this tenant's row: it does not open here, and
    the call fails rather than using the operator's key."""
    donor = make_tenant(stack, REPO / "demo" / "handbook")
    assert put_credential(stack, donor, "openai", new_key()).status_code == 200
    assert put_credential(stack, tenant, "openai", new_key()).status_code == 200
    stack.psql(
        "UPDATE provider_credentials t SET key_id = d.key_id, nonce = d.nonce, "
        "ciphertext = d.ciphertext FROM provider_credentials d "
        f"WHERE t.tenant_id = '{tenant.id}' AND d.tenant_id = '{donor.id}'",
        db="parley")
    try:
        r = chat(stack, tenant.key, QUESTION)
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "provider_unavailable"
        assert "cannot be decrypted" in r.json()["error"]["message"]
        assert openai.requests == []
        # nor does a rotation open it: reported, and left for the operator
        r = stack.parley("rotate-master-key", "--json", check=False)
        assert r.returncode == 1
        assert json.loads(r.stdout)["unopenable"] == 1
    finally:
        admin(stack, "DELETE", f"/tenants/{tenant.slug}/credentials/openai")


def log_entries(stack):
    return [json.loads(line) for line in
            stack.engine_log.read_text().splitlines() if line.startswith("{")]


def everything_written(stack):
    """Every log the stack writes, and a pg_dump of the whole database."""
    logs = "".join(p.read_text(errors="replace")
                   for p in stack.log_dir.rglob("*") if p.is_file())
    dump = subprocess.run(
        [str(PG_BIN / "pg_dump"), "-h", str(stack.pg_dir), "-U", "postgres",
         "-d", "parley"],
        env={"PGPASSWORD": stack.secret("pg-superuser")},
        capture_output=True, text=True, check=True).stdout
    return logs, dump


def test_a_credential_is_never_returned_logged_or_dumped_in_clear(
        stack, openai, tenant):
    key = new_key()
    answers = [put_credential(stack, tenant, "openai", key)]
    answers.append(admin(stack, "GET", f"/tenants/{tenant.slug}/credentials"))
    answers.append(chat(stack, tenant.key, QUESTION))
    listed = stack.parley("credential", "list", "--tenant", tenant.slug,
                          "--json")
    for r in answers:
        assert r.status_code == 200, r.text
        assert key not in r.text
    assert key not in json.dumps(listed)
    [entry] = answers[1].json()["data"]
    assert set(entry) == {"provider", "key_id", "created", "updated"}
    assert keys_seen(openai, "Authorization") == [f"Bearer {key}"]

    logs, dump = everything_written(stack)
    assert "provider_credentials" in dump and tenant.id in dump
    for text in (logs, dump):
        assert key not in text
        assert key.encode().hex() not in text  # nor as bytea hex
    audit = db_rows(stack, "SELECT action, details::text FROM audit_log "
                           f"WHERE tenant_id = '{tenant.id}' "
                           "AND action LIKE 'credential.%'")
    assert [row[0] for row in audit] == ["credential.set"]
    assert key not in audit[0][1]


def test_bad_credentials_are_refused_and_change_nothing(stack, tenant):
    path = f"/tenants/{tenant.slug}/credentials"
    cases = [
        ("PUT", "/openai", {"api_key": "sk-a\r\nX-Injected: 1"}, 400,
         "invalid_api_key"),
        ("PUT", "/openai", {"api_key": ""}, 400, "invalid_api_key"),
        ("PUT", "/openai", {"api_key": "x" * 5000}, 400, "invalid_api_key"),
        ("PUT", "/openai", {"api_key": 42}, 400, "invalid_field"),
        ("PUT", "/openai", {}, 400, "missing_field"),
        ("PUT", "/openai", {"api_key": "sk-x", "kid": "m1"}, 400,
         "unknown_field"),
        ("PUT", "/gemini", {"api_key": "sk-x"}, 400, "unknown_provider"),
        ("PUT", "/extractive", {"api_key": "sk-x"}, 400, "unknown_provider"),
        ("DELETE", "/openai", None, 404, "credential_not_found"),
    ]
    for method, sub, body, status, code in cases:
        r = admin(stack, method, path + sub, body)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), \
            (sub, body, r.text)
    r = admin(stack, "PUT", "/tenants/no-such-tenant/credentials/openai",
              {"api_key": "sk-x"})
    assert r.status_code == 404
    r = admin(stack, "PATCH", f"/tenants/{tenant.slug}/agents/{tenant.agent}",
              {"provider": "gemini"})
    assert (r.status_code, r.json()["error"]["code"]) == \
        (400, "unknown_provider")
    assert admin(stack, "GET", path).json()["data"] == []
    # a tenant's own secret key does not reach the admin routes
    r = put_credential_as(stack, tenant.key, path + "/openai")
    assert r.status_code == 401


def put_credential_as(stack, bearer, path):
    return requests.put(f"{stack.url}/admin/v1{path}", json={"api_key": "x"},
                        headers={"Authorization": f"Bearer {bearer}"},
                        timeout=10)


def test_rotating_the_master_key_seals_every_credential_anew(
        stack, openai, tenant):
    key = new_key()
    assert put_credential(stack, tenant, "openai", key).status_code == 200
    ring = stack.secrets / "master.keys"
    first = ring.read_text().strip()
    second = f"m{secrets.token_hex(4)} {secrets.token_urlsafe(48)}"
    new_kid = second.split()[0]
    try:
        # 1. a new key joins the ring; 2. every engine reloads it; 3. rotate
        ring.write_text(f"{first}\n{second}\n")
        reload_master_keys(stack, new_kid)
        report = stack.parley("rotate-master-key", "--json")
        assert report["resealed"] >= 1 and report["unopenable"] == 0
        [entry] = admin(stack, "GET",
                        f"/tenants/{tenant.slug}/credentials").json()["data"]
        assert entry["key_id"] == new_kid
        assert stack.parley("rotate-master-key", "--json")["resealed"] == 0

        # 4. the old key leaves the ring: the credential still opens
        ring.write_text(second + "\n")
        reload_master_keys(stack, new_kid)
        assert chat(stack, tenant.key, QUESTION).status_code == 200
        assert keys_seen(openai, "Authorization") == [f"Bearer {key}"]
    finally:
        # every credential sealed so far opens with this ring
        ring.write_text(f"{first}\n{second}\n")
        reload_master_keys(stack, new_kid)


def reloads(stack, kid):
    return sum(e.get("event") == "master_keys_reloaded" and e.get("kid") == kid
               for e in log_entries(stack))


def reload_master_keys(stack, kid):
    """SIGHUP, and wait until the engine says it now seals with `kid`."""
    before = reloads(stack, kid)
    stack.reload_engine()
    deadline = time.monotonic() + 5
    while reloads(stack, kid) == before:
        assert time.monotonic() < deadline, "the engine did not reload"
        time.sleep(0.05)
