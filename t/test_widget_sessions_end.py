"""Widget sessions end with their tenant or their publishable key. The edge
checks a widget token by its signature alone, so the engine refuses, at the
session's next request, a session whose tenant was deactivated (403
tenant_inactive) or whose publishable key was revoked (401 session_revoked)
instead of letting its token run out. And anonymous bootstraps do not grow
`sessions` without bound: a widget session that never received a message is
deleted once it has been idle widget.idle_session_ttl_s."""

import json
import secrets
import time

import pytest
import requests

from conftest import (DATA, client_from, db_rows, engine_call,
                      engine_log_events, make_tenant, signed_context)

_addresses = iter(range(60, 250))


def site(stack, docs=None):
    """A tenant with an allowed origin and a publishable key."""
    t = make_tenant(stack, docs)
    origin = f"https://shop-{secrets.token_hex(4)}.example"
    stack.parley("tenant", "update", "--slug", t.slug, "--allowed-origin",
                 origin, "--json")
    pk = stack.parley("key", "create", "--tenant", t.slug, "--kind",
                      "publishable", "--json")
    return t, pk, origin


def bootstrap(stack, pk, origin):
    """A widget session through nginx, like the widget's frame opens it
    (each from its own address: the bootstrap route is limited per IP)."""
    with client_from(f"127.0.0.{next(_addresses)}") as client:
        r = client.post(f"{stack.url}/widget/v1/session", json={}, timeout=10,
                        headers={"X-Parley-Site-Key": pk["key"],
                                 "Origin": origin})
    assert r.status_code == 200, r.text
    return r.json()


def history(stack, session):
    return requests.get(f"{stack.url}/widget/v1/history", timeout=10,
                        headers={"Authorization": f"Bearer {session['token']}"})


def admin(stack, method, path, body=None):
    r = requests.request(method, f"{stack.url}{path}", json=body, timeout=10,
                         headers={"Authorization":
                                  f"Bearer {stack.secret('admin.token')}"})
    assert r.status_code == 200, r.text
    return r.json()


def assert_ended(r, status, code):
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == "application/json"
    error = r.json()["error"]
    assert set(error) == {"message", "type", "code"}
    assert (error["type"], error["code"]) == ("invalid_request_error", code)


def test_the_bootstrap_records_the_key_that_opened_the_session(stack):
    t, pk, origin = site(stack)
    session = bootstrap(stack, pk, origin)
    assert db_rows(stack, "SELECT publishable_key_id, channel FROM sessions "
                          f"WHERE id = '{session['session_id']}'",
                   tenant=t.id) == [[pk["id"], "widget"]]
    # API sessions name no key
    r = requests.post(f"{stack.url}/v1/chat/completions", timeout=30,
                      headers={"Authorization": f"Bearer {t.key}"},
                      json={"model": "support", "messages": [
                          {"role": "user", "content": "Hello?"}]})
    assert r.status_code == 200, r.text
    assert db_rows(stack, "SELECT publishable_key_id IS NULL FROM sessions "
                          f"WHERE id = '{r.headers['X-Parley-Session-Id']}'",
                   tenant=t.id) == [["t"]]


def test_deactivating_a_tenant_ends_its_widget_sessions(stack):
    t, pk, origin = site(stack)
    other, other_pk, other_origin = site(stack)
    session = bootstrap(stack, pk, origin)
    others = bootstrap(stack, other_pk, other_origin)
    assert history(stack, session).status_code == 200
    assert history(stack, others).status_code == 200

    admin(stack, "PATCH", f"/admin/v1/tenants/{t.slug}", {"is_active": False})
    assert_ended(history(stack, session), 403, "tenant_inactive")
    assert history(stack, others).status_code == 200   # another tenant's widget

    # the CLI is the same door
    stack.parley("tenant", "update", "--slug", other.slug, "--active", "false",
                 "--json")
    assert_ended(history(stack, others), 403, "tenant_inactive")
    stack.parley("tenant", "update", "--slug", other.slug, "--active", "true",
                 "--json")
    assert history(stack, others).status_code == 200


def test_revoking_the_publishable_key_ends_the_sessions_it_opened(stack):
    t, pk, origin = site(stack)
    second = stack.parley("key", "create", "--tenant", t.slug, "--kind",
                          "publishable", "--json")
    by_first = bootstrap(stack, pk, origin)
    by_second = bootstrap(stack, second, origin)
    other, other_pk, other_origin = site(stack)
    others = bootstrap(stack, other_pk, other_origin)

    admin(stack, "DELETE", f"/admin/v1/keys/{pk['id']}")
    assert_ended(history(stack, by_first), 401, "session_revoked")
    assert history(stack, by_second).status_code == 200   # its own key lives
    assert history(stack, others).status_code == 200

    stack.parley("key", "revoke", "--key-id", second["id"], "--json")
    assert_ended(history(stack, by_second), 401, "session_revoked")
    assert history(stack, others).status_code == 200


def test_a_widget_session_without_a_recorded_key_is_refused(stack):
    """Sessions opened before the key was recorded (migration 0002) cannot
    prove their key is live: fail closed."""
    t, pk, origin = site(stack)
    session = bootstrap(stack, pk, origin)
    db_rows(stack, "UPDATE sessions SET publishable_key_id = NULL WHERE id = "
                   f"'{session['session_id']}'", user="postgres")
    assert_ended(history(stack, session), 401, "session_revoked")


# -- idle sessions -------------------------------------------------------------

def open_direct(stack, pk, origin):
    status, _, payload = engine_call(
        stack, "POST", "/widget/v1/session",
        signed_context(stack, "edge", "public"),
        headers={"X-Parley-Site-Key": pk["key"], "Origin": origin})
    assert status == 200, payload
    return json.loads(payload)["session_id"]


def backdate(stack, session, age):
    db_rows(stack, f"UPDATE sessions SET created_at = now() - interval '{age}', "
                   f"last_activity_at = now() - interval '{age}' "
                   f"WHERE id = '{session}'", user="postgres")


def existing(stack, sessions):
    ids = ", ".join(f"'{s}'" for s in sessions)
    return {row[0] for row in db_rows(
        stack, f"SELECT id FROM sessions WHERE id IN ({ids})", user="postgres")}


@pytest.fixture
def sweeping_engine(stack):
    """The stack's engine with a one-hour idle TTL, sweeping every second."""
    stack.start_engine(env={"PARLEY__WIDGET__IDLE_SESSION_TTL_S": "3600",
                            "PARLEY__WIDGET__SESSION_SWEEP_INTERVAL_S": "1"})
    try:
        yield
    finally:
        stack.start_engine(env={})


def test_idle_empty_widget_sessions_are_swept(stack, sweeping_engine):
    t, pk, origin = site(stack, DATA / "tenant_a")
    other, other_pk, other_origin = site(stack)
    idle = open_direct(stack, pk, origin)
    recent = open_direct(stack, pk, origin)           # idle 30 min < 1 h
    talked = open_direct(stack, pk, origin)           # idle, but has a message
    fresh = open_direct(stack, pk, origin)
    other_idle = open_direct(stack, other_pk, other_origin)
    context = signed_context(stack, "key", t.key_id, t.id)
    status, _, payload = engine_call(
        stack, "POST", "/v1/chat/completions", context,
        body={"model": "support", "session_id": talked,
              "messages": [{"role": "user",
                            "content": "What is the launch codename?"}]})
    assert status == 200, payload
    api = json.loads(payload)
    assert api["object"] == "chat.completion"
    for s in (idle, talked, other_idle):
        backdate(stack, s, "2 hours")
    backdate(stack, recent, "30 minutes")

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and existing(stack, [idle, other_idle]):
        time.sleep(0.2)
    assert existing(stack, [idle, recent, talked, fresh, other_idle]) == {
        recent, talked, fresh}
    assert int(db_rows(stack, "SELECT count(*) FROM messages WHERE session_id "
                              f"= '{talked}'", tenant=t.id)[0][0]) >= 1
    assert sum(e["deleted"] for e in engine_log_events(
        stack, "widget_sessions_swept")) >= 2
    # the bootstrap still stores its session
    assert existing(stack, [open_direct(stack, pk, origin)])
