"""The engine's admin API, called straight on its Unix socket with the
contexts the edge would sign: only an admin context gets in; tenants, keys and
agents are managed through the same service as the CLI; bad input is an
OpenAI-shaped 4xx that changes nothing; every write is in audit_log."""

import hashlib
import itertools
import json
import secrets

import pytest

from conftest import db_rows, engine_call, make_tenant, signed_context

_slugs = itertools.count(1)


def new_slug():
    return f"adm{next(_slugs)}-{secrets.token_hex(3)}"


def admin(stack, method, path, body=None):
    status, _, payload = engine_call(stack, method, path,
                                     signed_context(stack, "admin", "token"),
                                     body=body)
    return status, json.loads(payload)


def introspect(stack, key):
    path = ("/internal/v1/introspect?key_hash="
            + hashlib.sha256(key.encode()).hexdigest())
    return engine_call(stack, "GET", path,
                       signed_context(stack, "edge", "introspect"))[0]


def audit(stack, action, target, tenant_id=None):
    scope = f" AND tenant_id = '{tenant_id}'" if tenant_id else ""
    return db_rows(stack, "SELECT actor, details::text FROM audit_log WHERE "
                          f"action = '{action}' AND target = '{target}'{scope} "
                          "ORDER BY created_at", user="postgres")


def assert_error(status, body, expected_status, code):
    assert status == expected_status, body
    assert set(body["error"]) == {"message", "type", "code"}
    assert body["error"]["code"] == code


ROUTES = [("GET", "/admin/v1/tenants"), ("POST", "/admin/v1/tenants"),
          ("GET", "/admin/v1/tenants/x1"), ("PATCH", "/admin/v1/tenants/x1"),
          ("GET", "/admin/v1/tenants/x1/keys"),
          ("POST", "/admin/v1/tenants/x1/keys"),
          ("DELETE", "/admin/v1/keys/00000000-0000-4000-8000-000000000000"),
          ("GET", "/admin/v1/tenants/x1/agents"),
          ("POST", "/admin/v1/tenants/x1/agents"),
          ("PATCH", "/admin/v1/tenants/x1/agents/support"),
          ("GET", "/admin/v1/tenants/x1/personas"),
          ("PUT", "/admin/v1/tenants/x1/personas/calm"),
          ("GET", "/admin/v1/tenants/x1/usage")]


def test_admin_routes_refuse_every_other_context(stack):
    t = make_tenant(stack)
    contexts = {
        "none": None,
        "secret key": signed_context(stack, "key", t.key_id, t.id),
        "widget": signed_context(stack, "widget", "support", t.id,
                                 "0d4f2a6e-5b1c-4e8d-9a73-6f0b2c8e1d57"),
        "edge": signed_context(stack, "edge", "public"),
        "forged admin": signed_context(stack, "admin", "token").rsplit(".", 1)[0]
                        + "." + "A" * 43,
    }
    before = db_rows(stack, "SELECT count(*) FROM tenants", user="postgres")
    for name, context in contexts.items():
        for method, path in ROUTES:
            status, _, payload = engine_call(
                stack, method, path, context,
                body={"slug": "sneaky", "name": "Sneaky"} if method in ("POST", "PATCH") else None)
            assert status == 401, (name, method, path, payload)
            assert json.loads(payload)["error"]["code"] == "invalid_context"
    assert db_rows(stack, "SELECT count(*) FROM tenants", user="postgres") == before


def test_tenants_are_created_read_listed_and_updated(stack):
    slug = new_slug()
    status, created = admin(stack, "POST", "/admin/v1/tenants", {
        "slug": slug, "name": "Acme Outdoors", "rate_rpm": 120, "rate_burst": 20,
        "allowed_origins": ["https://acme.example"]})
    assert status == 201, created
    assert created["slug"] == slug and created["is_active"] is True
    assert (created["rate_rpm"], created["rate_burst"], created["max_streams"]) == (120, 20, None)
    assert created["allowed_origins"] == ["https://acme.example"]

    assert admin(stack, "GET", f"/admin/v1/tenants/{slug}") == (200, created)
    status, listing = admin(stack, "GET", "/admin/v1/tenants")
    assert status == 200 and listing["object"] == "list"
    assert created in listing["data"]

    status, updated = admin(stack, "PATCH", f"/admin/v1/tenants/{slug}", {
        "name": "Acme Outdoors Ltd", "rate_rpm": None, "max_streams": 4,
        "allowed_origins": ["https://acme.example", "https://shop.acme.example:8443"]})
    assert status == 200, updated
    assert updated["name"] == "Acme Outdoors Ltd"
    assert (updated["rate_rpm"], updated["rate_burst"], updated["max_streams"]) == (None, 20, 4)
    assert updated["allowed_origins"] == ["https://acme.example", "https://shop.acme.example:8443"]

    [(actor, details)] = audit(stack, "tenant.create", slug)
    assert actor == "admin-api" and json.loads(details)["tenant"]["slug"] == slug
    [(actor, details)] = audit(stack, "tenant.update", slug)
    assert actor == "admin-api"
    assert json.loads(details)["changes"] == {
        "name": "Acme Outdoors Ltd", "rate_rpm": None, "max_streams": 4,
        "allowed_origins": ["https://acme.example", "https://shop.acme.example:8443"]}


@pytest.mark.parametrize("body, code", [
    ({"name": "No slug"}, "missing_field"),
    ({"slug": "Bad Slug", "name": "x"}, "invalid_slug"),
    ({"slug": "ok-slug-1", "name": ""}, "invalid_name"),
    ({"slug": "ok-slug-1", "name": "x", "rate_rpm": 0}, "invalid_rate_rpm"),
    ({"slug": "ok-slug-1", "name": "x", "rate_rpm": "600"}, "invalid_field"),
    ({"slug": "ok-slug-1", "name": "x", "rate_rpm": 1.5}, "invalid_field"),
    ({"slug": "ok-slug-1", "name": "x", "rate_rpm": 2 ** 70}, "invalid_field"),
    ({"slug": "ok-slug-1", "name": "x", "allowed_origins": ["https://a.example/"]}, "invalid_origin"),
    ({"slug": "ok-slug-1", "name": "x", "allowed_origins": ["HTTPS://A.EXAMPLE"]}, "invalid_origin"),
    ({"slug": "ok-slug-1", "name": "x", "allowed_origins": "https://a.example"}, "invalid_field"),
    ({"slug": "ok-slug-1", "name": "x", "tier": "dedicated"}, "unknown_field"),
    ({"slug": "ok-slug-1", "name": "x", "tenant_id": "y"}, "unknown_field"),
])
def test_bad_tenant_input_is_a_400_that_creates_nothing(stack, body, code):
    status, answer = admin(stack, "POST", "/admin/v1/tenants", body)
    assert_error(status, answer, 400, code)
    assert admin(stack, "GET", "/admin/v1/tenants/ok-slug-1")[0] == 404
    assert audit(stack, "tenant.create", "ok-slug-1") == []


def test_malformed_bodies_and_conflicts(stack):
    status, _, payload = engine_call(stack, "POST", "/admin/v1/tenants",
                                     signed_context(stack, "admin", "token"),
                                     body="{not json")
    assert_error(status, json.loads(payload), 400, "invalid_json")
    slug = new_slug()
    assert admin(stack, "POST", "/admin/v1/tenants", {"slug": slug, "name": "One"})[0] == 201
    status, answer = admin(stack, "POST", "/admin/v1/tenants", {"slug": slug, "name": "Two"})
    assert_error(status, answer, 409, "tenant_exists")
    assert admin(stack, "GET", f"/admin/v1/tenants/{slug}")[1]["name"] == "One"
    status, answer = admin(stack, "PATCH", f"/admin/v1/tenants/{slug}", {})
    assert_error(status, answer, 400, "nothing_to_update")
    status, answer = admin(stack, "PATCH", f"/admin/v1/tenants/{slug}",
                           {"name": "Three", "allowed_origins": ["ftp://x.example"]})
    assert_error(status, answer, 400, "invalid_origin")
    assert admin(stack, "GET", f"/admin/v1/tenants/{slug}")[1]["name"] == "One"
    status, answer = admin(stack, "PATCH", "/admin/v1/tenants/no-such-tenant", {"name": "x"})
    assert_error(status, answer, 404, "tenant_not_found")
    assert audit(stack, "tenant.update", slug) == []


def test_keys_are_issued_once_listed_without_secrets_and_revoked(stack):
    t = make_tenant(stack)
    status, issued = admin(stack, "POST", f"/admin/v1/tenants/{t.slug}/keys", {"kind": "secret"})
    assert status == 201, issued
    assert issued["key"].startswith("sk_") and issued["kind"] == "secret"
    assert introspect(stack, issued["key"]) == 200
    status, pk = admin(stack, "POST", f"/admin/v1/tenants/{t.slug}/keys", {"kind": "publishable"})
    assert status == 201 and pk["key"].startswith("pk_")
    assert introspect(stack, pk["key"]) == 404    # never a bearer key

    status, listing = admin(stack, "GET", f"/admin/v1/tenants/{t.slug}/keys")
    assert status == 200
    ids = {k["id"] for k in listing["data"]}
    assert {issued["id"], pk["id"], t.key_id} <= ids
    text = json.dumps(listing)
    assert issued["key"] not in text and pk["key"] not in text
    assert hashlib.sha256(issued["key"].encode()).hexdigest() not in text
    assert all("key" not in k for k in listing["data"])

    status, revoked = admin(stack, "DELETE", f"/admin/v1/keys/{issued['id']}")
    assert status == 200 and revoked["revoked"] is not None
    assert introspect(stack, issued["key"]) == 404
    assert introspect(stack, t.key) == 200         # the tenant's other key lives on

    [(actor, details)] = audit(stack, "key.issue", issued["id"])
    assert actor == "admin-api" and issued["key"] not in details
    assert [a for a, _ in audit(stack, "key.revoke", issued["id"])] == ["admin-api"]

    status, answer = admin(stack, "DELETE", "/admin/v1/keys/not-a-uuid")
    assert_error(status, answer, 400, "invalid_key_id")
    status, answer = admin(stack, "DELETE", "/admin/v1/keys/00000000-0000-4000-8000-000000000000")
    assert_error(status, answer, 404, "key_not_found")
    status, answer = admin(stack, "POST", f"/admin/v1/tenants/{t.slug}/keys", {"kind": "root"})
    assert_error(status, answer, 400, "invalid_kind")
    status, answer = admin(stack, "POST", "/admin/v1/tenants/no-such-tenant/keys", {})
    assert_error(status, answer, 404, "tenant_not_found")


def test_deactivating_a_tenant_stops_its_keys(stack):
    t = make_tenant(stack)
    assert introspect(stack, t.key) == 200
    status, updated = admin(stack, "PATCH", f"/admin/v1/tenants/{t.slug}", {"is_active": False})
    assert status == 200 and updated["is_active"] is False
    assert introspect(stack, t.key) == 404
    assert admin(stack, "PATCH", f"/admin/v1/tenants/{t.slug}", {"is_active": True})[0] == 200
    assert introspect(stack, t.key) == 200


def test_agents_are_created_and_listed(stack):
    t = make_tenant(stack)
    status, created = admin(stack, "POST", f"/admin/v1/tenants/{t.slug}/agents", {
        "code": "sales", "name": "Sales", "greeting": "Hello there!",
        "persona_prompt": "You are a friendly sales assistant.\n"})
    assert status == 201, created
    assert (created["code"], created["name"], created["greeting"]) == ("sales", "Sales", "Hello there!")
    assert created["persona_id"] is not None
    status, listing = admin(stack, "GET", f"/admin/v1/tenants/{t.slug}/agents")
    assert status == 200
    assert [a["code"] for a in listing["data"]] == ["sales", "support"]

    status, answer = admin(stack, "POST", f"/admin/v1/tenants/{t.slug}/agents", {"code": "sales"})
    assert_error(status, answer, 409, "agent_exists")
    for body, code in (({"code": "Bad Code"}, "invalid_code"),
                       ({"code": "ok", "greeting": ""}, "invalid_greeting"),
                       ({"code": "ok", "model": "x"}, "unknown_field"),
                       ({"name": "no code"}, "missing_field")):
        status, answer = admin(stack, "POST", f"/admin/v1/tenants/{t.slug}/agents", body)
        assert_error(status, answer, 400, code)
    assert len(admin(stack, "GET", f"/admin/v1/tenants/{t.slug}/agents")[1]["data"]) == 2
    assert [a for a, _ in audit(stack, "agent.create", "sales", t.id)] == ["admin-api"]
    assert [a for a, _ in audit(stack, "agent.create", "support", t.id)] == ["cli"]


def test_the_cli_goes_through_the_same_service(stack):
    t = make_tenant(stack)
    updated = stack.parley("tenant", "update", "--slug", t.slug,
                           "--allowed-origin", "https://cli.example",
                           "--allowed-origin", "http://localhost:8081",
                           "--rpm", "30", "--json")
    assert updated["allowed_origins"] == ["https://cli.example", "http://localhost:8081"]
    assert updated["rate_rpm"] == 30
    assert admin(stack, "GET", f"/admin/v1/tenants/{t.slug}")[1] == updated
    assert [a for a, _ in audit(stack, "tenant.update", t.slug)] == ["cli"]
    assert [a for a, _ in audit(stack, "tenant.create", t.slug)] == ["cli"]

    r = stack.parley("tenant", "update", "--slug", t.slug, "--allowed-origin",
                     "https://cli.example/path", "--json", check=False)
    assert r.returncode == 2
    assert json.loads(r.stderr)["error"]["code"] == "invalid_origin"
    r = stack.parley("tenant", "update", "--slug", t.slug, "--active", "maybe",
                     "--json", check=False)
    assert r.returncode == 2
    r = stack.parley("tenant", "update", "--slug", "no-such-tenant", "--name", "x",
                     "--json", check=False)
    assert r.returncode == 1
    assert json.loads(r.stderr)["error"]["code"] == "tenant_not_found"
    assert admin(stack, "GET", f"/admin/v1/tenants/{t.slug}")[1] == updated
