"""Per-tenant indexes live in a memory budget (retrieval.index_cache_mb): over
it, the least recently used tenant's index is dropped and built again from
PostgreSQL when that tenant asks next; answers stay right and tenants stay
apart whatever is evicted."""

import pytest

from conftest import DATA, chat, engine_log_events, make_tenant

BIG_FACT = "The Quokka vault opens with passphrase MARIGOLD-40417."


@pytest.fixture(scope="module")
def tenants(stack, tmp_path_factory):
    """Tenant A, and a tenant whose knowledge alone is over 1 MB of index."""
    docs = tmp_path_factory.mktemp("big-knowledge")
    lines = [f"Warehouse {n} in zone {n % 97} stores {n * 7} crates of "
             f"part number P-{n:06d}, inspected every {n % 13 + 1} weeks."
             for n in range(12000)]
    lines.insert(6000, BIG_FACT)
    (docs / "inventory.md").write_text("# Inventory\n\n" + "\n".join(lines))
    a = make_tenant(stack, DATA / "tenant_a")
    big = make_tenant(stack, docs)
    stack.start_engine(env={"PARLEY__RETRIEVAL__INDEX_CACHE_MB": "1"})
    yield a, big
    stack.start_engine(env={})


def answer(stack, tenant, question):
    r = chat(stack, tenant.key, question)
    assert r.status_code == 200, r.text
    return r.json()["choices"][0]["message"]["content"]


def loads(stack, tenant):
    return len([e for e in engine_log_events(stack, "index_load")
                if e["tenant_id"] == tenant.id])


def test_tenants_over_the_budget_take_turns_and_answer_right(stack, tenants):
    a, big = tenants
    for _ in range(2):
        text = answer(stack, a, "What is the launch codename of Project Bluefin?")
        assert "ZEPHYR-7781" in text and "MARIGOLD" not in text
        text = answer(stack, big, "What passphrase opens the Quokka vault?")
        assert "MARIGOLD-40417" in text and "ZEPHYR" not in text
    # each build of one pushed the other out: both were built twice
    assert loads(stack, a) == 2
    assert loads(stack, big) == 2


def test_an_index_in_the_cache_is_built_once(stack, tenants):
    b = make_tenant(stack, DATA / "tenant_b")
    for _ in range(3):
        text = answer(stack, b, "When does Bluebird Bakery open on weekends?")
        assert "8:00" in text
    assert loads(stack, b) == 1
