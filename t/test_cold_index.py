"""A cold index does not hold the database: while one tenant's large index is
built, the engine holds no connection idle in a transaction, and requests of
that tenant that wait for the same build hold no connection at all, so other
tenants' key lookups and answers go on (a pool of 3 connections here, with 6
requests waiting for the one build)."""

import threading
import time

import pytest

from conftest import DATA, chat, engine_log_events, make_tenant

POOL = 3
WAITING = 2 * POOL
QUESTION = "What is the launch codename of Project Bluefin?"


@pytest.fixture(scope="module")
def big_tenant(stack):
    """Tenant A's documents plus 150,000 filler chunks written straight into
    PostgreSQL, and an engine with a small pool."""
    tenant = make_tenant(stack, DATA / "tenant_a")
    stack.psql_session([
        "INSERT INTO chunks (tenant_id, document_id, ordinal, content, token_count,"
        " embedding, embedding_model)"
        " SELECT c.tenant_id, c.document_id, 100000 + g,"
        " 'filler record ' || g || ' about nothing in particular, shelf ' || (g % 97),"
        " 12, c.embedding, c.embedding_model"
        f" FROM (SELECT * FROM chunks WHERE tenant_id = '{tenant.id}' LIMIT 1) c,"
        " generate_series(1, 150000) g",
        "UPDATE tenants SET knowledge_version = knowledge_version + 1"
        f" WHERE id = '{tenant.id}'",
    ], user="postgres")
    # a tenant nobody asked yet: its key must be looked up, its index built
    fresh = make_tenant(stack, DATA / "tenant_b")
    stack.start_engine(env={"PARLEY__DATABASE__POOL_SIZE": str(POOL)})
    yield tenant, fresh
    stack.start_engine(env={})


def engine_idle_in_transaction(stack):
    """Engine connections left idle inside a transaction (not the instant
    between two statements of one)."""
    return stack.psql_session([
        "SELECT count(*) FROM pg_stat_activity WHERE usename = 'parley_app'"
        " AND state LIKE 'idle in transaction%'"
        " AND now() - state_change > interval '50 milliseconds'"], user="postgres")


def test_other_tenants_are_served_while_a_cold_index_builds(stack, big_tenant):
    big_tenant, fresh = big_tenant
    answers = []

    def ask():
        answers.append(chat(stack, big_tenant.key, QUESTION, timeout=120))

    askers = [threading.Thread(target=ask) for _ in range(WAITING)]
    for t in askers:
        t.start()
    # the corpus has been read: the build is under way
    deadline = time.monotonic() + 60
    while not [e for e in engine_log_events(stack, "index_build")
               if e["tenant_id"] == big_tenant.id]:
        assert time.monotonic() < deadline, "the big index never started"
        time.sleep(0.02)

    samples = []
    other = {}

    def other_tenant():
        r = chat(stack, fresh.key, "When does Bluebird Bakery open on weekends?",
                 timeout=120)
        other["response"] = r
        other["big_still_building"] = len(answers) == 0

    helper = threading.Thread(target=other_tenant)
    helper.start()
    while any(t.is_alive() for t in askers):
        samples.append(int(engine_idle_in_transaction(stack)))
    helper.join()
    for t in askers:
        t.join()

    assert samples, "no sample was taken during the build"
    assert max(samples) == 0, samples
    assert other["response"].status_code == 200, other["response"].text
    assert "8:00" in other["response"].json()["choices"][0]["message"]["content"]
    assert other["big_still_building"], "the other tenant waited for the build"
    assert [r.status_code for r in answers] == [200] * WAITING
    assert all("ZEPHYR-7781" in r.json()["choices"][0]["message"]["content"]
               for r in answers)
    # one build served all of them
    assert len([e for e in engine_log_events(stack, "index_load")
                if e["tenant_id"] == big_tenant.id]) == 1
