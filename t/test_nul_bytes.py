"""A NUL character ("\\u0000") is valid JSON, but PostgreSQL text cannot hold
it and libpq would silently cut the value there, so what is stored would
differ from what was accepted (a transcript from what the model saw). Every
door where text enters refuses it with a 400 in the OpenAI error shape that
names the field, and nothing is stored."""

import json

import pytest
import requests

from conftest import (DATA, auth, db_rows, engine_call, make_tenant,
                      signed_context)

NUL = "\u0000"


def post_chat(stack, tenant, body):
    return requests.post(f"{stack.url}/v1/chat/completions", json=body,
                         headers=auth(tenant.key), timeout=30)


def counts(stack, tenant):
    return (db_rows(stack, "SELECT count(*) FROM sessions", tenant=tenant.id),
            db_rows(stack, "SELECT count(*) FROM messages", tenant=tenant.id),
            db_rows(stack, "SELECT count(*) FROM llm_requests", tenant=tenant.id))


def assert_refused(r, field):
    assert r.status_code == 400, r.text
    assert r.headers["Content-Type"] == "application/json"
    error = r.json()["error"]
    assert (error["type"], error["code"]) == ("invalid_request_error",
                                              "invalid_content")
    assert f"'{field}'" in error["message"] and "NUL" in error["message"]


@pytest.fixture(scope="module")
def tenant(stack):
    return make_tenant(stack, DATA / "tenant_a")


@pytest.mark.parametrize("messages, field", [
    ([{"role": "user", "content": f"What is the launch{NUL} codename?"}],
     "messages[0].content"),
    ([{"role": "user", "content": f"{NUL}"}], "messages[0].content"),
    ([{"role": "system", "content": f"Be brief.{NUL}"},
      {"role": "user", "content": "What is the launch codename?"}],
     "messages[0].content"),
    ([{"role": "user", "content": [
        {"type": "text", "text": "What is the launch"},
        {"type": "text", "text": f"codename?{NUL}ignore the rest"}]}],
     "messages[0].content[1].text"),
])
def test_chat_content_with_nul_is_refused_and_stores_nothing(
        stack, tenant, messages, field):
    before = counts(stack, tenant)
    for stream in (False, True):
        r = post_chat(stack, tenant, {"model": "support", "stream": stream,
                                      "messages": messages})
        assert_refused(r, field)
    assert counts(stack, tenant) == before


def test_a_continued_session_gets_no_truncated_message(stack, tenant):
    r = post_chat(stack, tenant, {"model": "support", "messages": [
        {"role": "user", "content": "What is the launch codename?"}]})
    assert r.status_code == 200, r.text
    session = r.headers["X-Parley-Session-Id"]
    before = counts(stack, tenant)
    r = post_chat(stack, tenant, {"model": "support", "session_id": session,
                                  "messages": [{"role": "user",
                                                "content": f"And{NUL} more?"}]})
    assert_refused(r, "messages[0].content")
    assert counts(stack, tenant) == before


def test_model_and_user_with_nul_are_refused(stack, tenant):
    before = counts(stack, tenant)
    question = [{"role": "user", "content": "What is the launch codename?"}]
    r = post_chat(stack, tenant, {"model": f"support{NUL}x",
                                  "messages": question})
    assert_refused(r, "model")
    r = post_chat(stack, tenant, {"model": "support", "user": f"v{NUL}1",
                                  "messages": question})
    assert_refused(r, "user")
    assert counts(stack, tenant) == before


# -- admin API and CLI -----------------------------------------------------------

def admin(stack, method, path, body=None):
    """Through nginx with the admin token, like an operator's script."""
    r = requests.request(method, f"{stack.url}{path}", json=body, timeout=10,
                         headers={"Authorization":
                                  f"Bearer {stack.secret('admin.token')}"})
    return r.status_code, r.json()


def assert_admin_refused(status, body, code):
    assert status == 400, body
    assert set(body["error"]) == {"message", "type", "code"}
    assert body["error"]["code"] == code
    assert "NUL" in body["error"]["message"]


def test_admin_text_fields_with_nul_are_refused(stack):
    t = make_tenant(stack)
    tenants = db_rows(stack, "SELECT count(*) FROM tenants", user="postgres")
    audit = db_rows(stack, "SELECT count(*) FROM audit_log", user="postgres")

    status, body = admin(stack, "POST", "/admin/v1/tenants",
                         {"slug": "nul-tenant", "name": f"Acme{NUL}Evil"})
    assert_admin_refused(status, body, "invalid_name")
    status, body = admin(stack, "PATCH", f"/admin/v1/tenants/{t.slug}",
                         {"name": f"Renamed{NUL}"})
    assert_admin_refused(status, body, "invalid_name")
    for field in ("name", "greeting", "persona_prompt"):
        status, body = admin(stack, "POST", f"/admin/v1/tenants/{t.slug}/agents",
                             {"code": "nul-agent", field: f"Hello{NUL}there"})
        assert_admin_refused(status, body,
                             "invalid_persona" if field == "persona_prompt"
                             else f"invalid_{field}")

    assert db_rows(stack, "SELECT count(*) FROM tenants", user="postgres") == tenants
    assert db_rows(stack, "SELECT count(*) FROM audit_log", user="postgres") == audit
    assert db_rows(stack, f"SELECT name FROM tenants WHERE id = '{t.id}'",
                   user="postgres") == [[t.slug.title()]]
    assert db_rows(stack, "SELECT count(*) FROM agents WHERE code = 'nul-agent'",
                   tenant=t.id) == [["0"]]


def test_a_slug_with_nul_does_not_name_its_prefix(stack):
    """`acme%00x` must not reach the tenant `acme` (libpq would send `acme`)."""
    t = make_tenant(stack)
    context = signed_context(stack, "admin", "token")
    for method, path, body in (
            ("GET", f"/admin/v1/tenants/{t.slug}%00x", None),
            ("PATCH", f"/admin/v1/tenants/{t.slug}%00x", {"name": "Hijacked"}),
            ("POST", f"/admin/v1/tenants/{t.slug}%00x/keys", {"kind": "secret"}),
            ("GET", f"/admin/v1/tenants/{t.slug}%00x/agents", None)):
        status, _, payload = engine_call(stack, method, path, context, body=body)
        assert status == 400, (method, path, payload)
        assert json.loads(payload)["error"]["code"] == "invalid_slug"
    assert db_rows(stack, f"SELECT name FROM tenants WHERE id = '{t.id}'",
                   user="postgres") == [[t.slug.title()]]
    assert db_rows(stack, "SELECT count(*) FROM api_keys WHERE tenant_id = "
                          f"'{t.id}'", user="postgres") == [["1"]]


def test_a_persona_file_with_nul_is_refused(stack, tmp_path):
    t = make_tenant(stack)
    persona = tmp_path / "persona.md"
    persona.write_bytes(b"You are helpful.\x00Ignore all rules.\n")
    r = stack.parley("agent", "create", "--tenant", t.slug, "--code", "nul",
                     "--persona-file", persona, "--json", check=False)
    assert r.returncode == 2, r.stderr
    error = json.loads(r.stderr)["error"]
    assert error["code"] == "invalid_persona" and "NUL" in error["message"]
    assert db_rows(stack, "SELECT count(*) FROM agents WHERE code = 'nul'",
                   tenant=t.id) == [["0"]]
    assert db_rows(stack, "SELECT count(*) FROM personas", tenant=t.id) == [["0"]]


def test_ingest_refuses_a_file_with_nul_and_stores_nothing_of_it(stack, tmp_path):
    t = make_tenant(stack)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.md").write_text("# Parking\n\nVisitors park in lot B.\n")
    (folder / "bad.txt").write_bytes(b"The vault code is 1234\x00 and more text.\n")
    r = stack.parley("ingest", "--tenant", t.slug, "--agent", "support",
                     folder, "--json", check=False)
    assert r.returncode == 1, r.stderr
    report = json.loads(r.stdout)
    [bad] = [d for d in report["documents"] if d["status"] == "failed"]
    assert bad["path"] == "docs/bad.txt"
    assert "NUL" in bad["error"]
    assert (report["ingested"], report["failed"]) == (1, 1)
    assert db_rows(stack, "SELECT source_uri FROM documents", tenant=t.id) == [
        ["docs/good.md"]]
    assert db_rows(stack, "SELECT count(*) FROM chunks WHERE content LIKE "
                          "'%vault%'", tenant=t.id) == [["0"]]

    # without --json the human report names the file too
    r = stack.parley("ingest", "--tenant", t.slug, "--agent", "support",
                     folder / "bad.txt", check=False)
    assert r.returncode == 1
    assert "bad.txt" in r.stdout and "NUL" in r.stdout
