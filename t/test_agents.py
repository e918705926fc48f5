"""Agents and personas managed after creation (SPEC 4.1 admin), through the
CLI and the admin API alike: every field validated with a clear error that
changes nothing, every write in audit_log, and the change in effect at the
next request (a disabled agent is gone from /v1/models and the chat)."""

import time

import pytest
import requests

from conftest import REPO, chat, db_rows, make_tenant
from test_edge_admin import admin_token

QUESTION = "How many vacation days do new employees get?"
UNKNOWN = "What is the airspeed of an unladen swallow?"


@pytest.fixture(autouse=True)
def fresh(openai_engine):
    openai_engine.reset()


def admin(stack, method, path, body=None):
    return requests.request(method, f"{stack.url}/admin/v1{path}", json=body,
                            headers={"Authorization": f"Bearer {admin_token(stack)}"},
                            timeout=10)


def update(stack, tenant, *args):
    return stack.parley("agent", "update", "--tenant", tenant.slug, "--code",
                        tenant.agent, *args, "--json")


def eventually(check, timeout=5):
    """A change another engine hears of by notification: at once, give or
    take its delivery."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_model_settings_reach_the_upstream(stack, openai_engine):
    t = make_tenant(stack, REPO / "demo" / "handbook")
    out = update(stack, t, "--model", "mock-large", "--temperature", "0.3",
                 "--max-tokens", "77")
    assert (out["model"], out["temperature"], out["max_tokens"]) == ("mock-large", 0.3, 77)
    eventually(lambda: chat(stack, t.key, QUESTION).status_code == 200
               and openai_engine.requests[-1][1]["model"] == "mock-large")
    body = openai_engine.requests[-1][1]
    assert (body["temperature"], body["max_tokens"]) == (0.3, 77)
    update(stack, t, "--model", "none", "--temperature", "none", "--max-tokens", "none")
    eventually(lambda: chat(stack, t.key, QUESTION).status_code == 200
               and openai_engine.requests[-1][1]["model"] == "mock-model")
    assert "temperature" not in openai_engine.requests[-1][1]


def test_refusal_text_and_retrieval_settings_apply(stack, openai_engine):
    t = make_tenant(stack, REPO / "demo" / "handbook")
    update(stack, t, "--refusal-text", "Please ask the HR desk.", "--top-k", "1")

    def refused():
        r = chat(stack, t.key, UNKNOWN)
        return r.json()["choices"][0]["message"]["content"] == "Please ask the HR desk."
    eventually(refused)
    r = requests.post(f"{stack.url}/v1/retrieve", json={"model": t.agent, "query": QUESTION},
                      headers={"Authorization": f"Bearer {t.key}"}, timeout=10)
    assert r.status_code == 200 and len(r.json()["data"]) == 1


def test_a_disabled_agent_disappears_at_once(stack, openai_engine):
    t = make_tenant(stack, REPO / "demo" / "handbook")
    r = admin(stack, "PATCH", f"/tenants/{t.slug}/agents/{t.agent}", {"is_enabled": False})
    assert r.status_code == 200 and r.json()["is_enabled"] is False
    models = requests.get(f"{stack.url}/v1/models",
                          headers={"Authorization": f"Bearer {t.key}"}, timeout=10)
    assert t.agent not in [m["id"] for m in models.json()["data"]]
    eventually(lambda: chat(stack, t.key, QUESTION).status_code == 404)
    assert chat(stack, t.key, QUESTION).json()["error"]["code"] == "model_not_found"
    update(stack, t, "--enabled", "true")
    eventually(lambda: chat(stack, t.key, QUESTION).status_code == 200)


def test_a_persona_is_set_shared_and_replaced(stack, openai_engine, tmp_path):
    t = make_tenant(stack, REPO / "demo" / "handbook")
    prompt = tmp_path / "pirate.md"
    prompt.write_text("Answer like a ship's quartermaster.\n")
    saved = stack.parley("persona", "set", "--tenant", t.slug, "--code", "pirate",
                         "--file", prompt, "--name", "Pirate", "--json")
    assert saved["system_prompt"] == "Answer like a ship's quartermaster."
    update(stack, t, "--persona", "pirate")

    def system_prompt():
        assert chat(stack, t.key, QUESTION).status_code == 200
        return openai_engine.requests[-1][1]["messages"][0]["content"]
    eventually(lambda: "quartermaster" in system_prompt())
    r = admin(stack, "PUT", f"/tenants/{t.slug}/personas/pirate",
              {"system_prompt": "Answer like a lighthouse keeper."})
    assert r.status_code == 200, r.text
    eventually(lambda: "lighthouse keeper" in system_prompt())
    listed = admin(stack, "GET", f"/tenants/{t.slug}/personas").json()["data"]
    assert [p["code"] for p in listed] == ["pirate"]
    update(stack, t, "--persona", "none")
    eventually(lambda: "lighthouse" not in system_prompt())


@pytest.mark.parametrize("body,status,code", [
    ({"temperature": 3}, 400, "invalid_temperature"),
    ({"top_k": 0}, 400, "invalid_top_k"),
    ({"min_score": -2}, 400, "invalid_min_score"),
    ({"max_tokens": 0}, 400, "invalid_max_tokens"),
    ({"name": ""}, 400, "invalid_name"),
    ({"refusal_text": "a\u0000b"}, 400, "invalid_refusal_text"),
    ({"temperature": "warm"}, 400, "invalid_field"),
    ({"colour": "blue"}, 400, "unknown_field"),
    ({}, 400, "nothing_to_update"),
    ({"persona": "nobody"}, 404, "persona_not_found"),
])
def test_bad_fields_are_refused_and_change_nothing(stack, body, status, code):
    t = make_tenant(stack)
    before = admin(stack, "GET", f"/tenants/{t.slug}/agents").json()
    r = admin(stack, "PATCH", f"/tenants/{t.slug}/agents/{t.agent}", {**body})
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert admin(stack, "GET", f"/tenants/{t.slug}/agents").json() == before


def test_unknown_agents_and_bad_personas_are_refused(stack):
    t = make_tenant(stack)
    r = admin(stack, "PATCH", f"/tenants/{t.slug}/agents/nobody", {"name": "X"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "agent_not_found"
    r = admin(stack, "PUT", f"/tenants/{t.slug}/personas/Bad Code!", {"system_prompt": "x"})
    assert r.status_code in (400, 404)
    r = admin(stack, "PUT", f"/tenants/{t.slug}/personas/ok", {"system_prompt": ""})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_system_prompt"


def test_every_change_is_audited(stack):
    t = make_tenant(stack)
    update(stack, t, "--name", "Front desk", "--greeting", "Hello!")
    assert admin(stack, "PUT", f"/tenants/{t.slug}/personas/calm",
                 {"system_prompt": "Be calm."}).status_code == 200
    rows = db_rows(stack, "SELECT actor, action, target, details::text FROM audit_log "
                   f"WHERE tenant_id = '{t.id}' AND action IN ('agent.update', 'persona.set') "
                   "ORDER BY created_at", user="postgres")
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("cli", "agent.update", t.agent), ("admin-api", "persona.set", "calm")]
    assert '"greeting": "Hello!"' in rows[0][3] or '"greeting":"Hello!"' in rows[0][3]
