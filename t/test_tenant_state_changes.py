"""The engine keeps each tenant's agents and knowledge version in memory (so a
turn reaches the LLM without a database round trip), and every change made
elsewhere (the CLI, SQL, another engine) takes effect at the next request:
PostgreSQL notifies every engine (migration 0003).  While the engine's
listening connection is down, nothing is trusted from memory."""

import time

from conftest import DATA, chat, db_rows, engine_log_events, make_tenant, sse_events

BLUEFIN = "What is the launch codename of Project Bluefin?"
BAKERY = "When does Bluebird Bakery open on weekends?"
REFUSAL = "I don't have that information."


def answer_of(r):
    assert r.status_code == 200, r.text
    return r.json()["choices"][0]["message"]["content"]


def set_enabled(stack, tenant, agent, enabled):
    changed = db_rows(stack, f"UPDATE agents SET is_enabled = {str(enabled).lower()} "
                             f"WHERE code = '{agent}' RETURNING id", tenant=tenant.id)
    assert len(changed) == 1


def wait_for_log(stack, event, count, timeout=20):
    deadline = time.monotonic() + timeout
    while len(engine_log_events(stack, event)) < count:
        assert time.monotonic() < deadline, f"no {event} in the engine log"
        time.sleep(0.05)


def test_a_disabled_agent_is_refused_at_the_next_request(stack):
    t = make_tenant(stack, DATA / "tenant_a")
    assert "ZEPHYR-7781" in answer_of(chat(stack, t.key, BLUEFIN))
    set_enabled(stack, t, "support", False)
    try:
        r = chat(stack, t.key, BLUEFIN)
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "model_not_found"
    finally:
        set_enabled(stack, t, "support", True)
    assert "ZEPHYR-7781" in answer_of(chat(stack, t.key, BLUEFIN))


def test_a_new_agent_answers_at_once(stack):
    t = make_tenant(stack, DATA / "tenant_a")
    assert chat(stack, t.key, BLUEFIN, model="sales").status_code == 404
    stack.parley("agent", "create", "--tenant", t.slug, "--code", "sales",
                 "--name", "Sales", "--json")
    # known now; it has no documents yet, so it refuses
    assert answer_of(chat(stack, t.key, BLUEFIN, model="sales")) == REFUSAL


def test_new_knowledge_is_searched_at_the_next_request(stack):
    t = make_tenant(stack, DATA / "tenant_a")
    assert answer_of(chat(stack, t.key, BAKERY)) == REFUSAL
    stack.parley("ingest", "--tenant", t.slug, "--agent", t.agent,
                 DATA / "tenant_b", "--json")
    assert "8:00" in answer_of(chat(stack, t.key, BAKERY))


def test_changes_made_while_the_listener_is_down_are_not_missed(stack):
    t = make_tenant(stack, DATA / "tenant_a")
    assert "ZEPHYR-7781" in answer_of(chat(stack, t.key, BLUEFIN))
    lost = len(engine_log_events(stack, "change_listener_lost"))
    live = len(engine_log_events(stack, "change_listener_live"))
    # The engine's pooled connections stay open; only a new connection (the
    # listener's reconnect) is refused while the role cannot log in.
    stack.psql("ALTER ROLE parley_app NOLOGIN")
    try:
        stack.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                   "WHERE usename = 'parley_app' AND query LIKE 'LISTEN%'")
        wait_for_log(stack, "change_listener_lost", lost + 1)
        set_enabled(stack, t, "support", False)
        # no notification reaches the engine now: the memory must not answer
        r = chat(stack, t.key, BLUEFIN)
        assert r.status_code == 404, r.text
        set_enabled(stack, t, "support", True)
        assert "ZEPHYR-7781" in answer_of(chat(stack, t.key, BLUEFIN))
    finally:
        stack.psql("ALTER ROLE parley_app LOGIN")
    wait_for_log(stack, "change_listener_live", live + 1)
    set_enabled(stack, t, "support", False)
    try:
        assert chat(stack, t.key, BLUEFIN).status_code == 404
    finally:
        set_enabled(stack, t, "support", True)


def test_an_answer_whose_question_was_not_stored_is_not_acknowledged(
        stack, unstorable_questions):
    t = make_tenant(stack, DATA / "tenant_a")
    r = chat(stack, t.key, unstorable_questions)
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "storage_error"

    r = chat(stack, t.key, unstorable_questions, stream=True)
    assert r.status_code == 200
    events = list(sse_events(r))
    assert "[DONE]" not in events
    assert events[-1]["error"]["code"] == "storage_error"
    # the session the client was told of does not exist, and nothing was kept
    session = r.headers["X-Parley-Session-Id"]
    assert db_rows(stack, f"SELECT count(*) FROM sessions WHERE id = '{session}'",
                   tenant=t.id) == [["0"]]
    assert any(e.get("request_id") for e in
               engine_log_events(stack, "chat_persist_failed"))
