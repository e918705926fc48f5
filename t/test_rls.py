"""Row-level security holds on its own: with tenant B set, a query without any
tenant filter returns none of tenant A's rows (SPEC §2)."""

import pytest

from conftest import chat, db_rows
from parley_stack import StackError

TENANT_TABLES = ["agents", "documents", "chunks", "agent_documents",
                 "sessions", "messages", "llm_requests"]


@pytest.fixture(scope="module")
def populated(stack, tenant_a, tenant_b):
    assert chat(stack, tenant_a.key, "Bluefin thrust?").status_code == 200
    assert chat(stack, tenant_b.key, "Bakery hours?").status_code == 200


@pytest.mark.parametrize("table", TENANT_TABLES)
def test_tenant_b_sees_none_of_a_rows(stack, tenant_a, tenant_b, populated, table):
    # A has rows there: the check below can fail
    assert db_rows(stack, f"SELECT count(*) FROM {table}",
                   user="parley_app", tenant=tenant_a.id)[0][0] != "0"
    rows = db_rows(stack, f"SELECT DISTINCT tenant_id FROM {table}",
                   user="parley_app", tenant=tenant_b.id)
    assert rows == [[tenant_b.id]]


def test_chunk_text_of_a_is_invisible_to_b(stack, tenant_a, tenant_b, populated):
    rows = db_rows(stack, "SELECT content FROM chunks", user="parley_app",
                   tenant=tenant_b.id)
    assert rows and not any("ZEPHYR-7781" in r[0] for r in rows)


@pytest.mark.parametrize("user", ["parley_app", "parley_owner"])
def test_no_tenant_set_means_no_rows(stack, populated, user):
    # FORCE ROW LEVEL SECURITY: not even the tables' owner reads around it
    assert db_rows(stack, "SELECT count(*) FROM chunks", user=user) == [["0"]]


def test_app_role_cannot_write_into_another_tenant(stack, tenant_a, tenant_b, populated):
    with pytest.raises(StackError, match="row-level security"):
        db_rows(stack, "INSERT INTO sessions (tenant_id, channel) "
                       f"VALUES ('{tenant_a.id}', 'api')",
                user="parley_app", tenant=tenant_b.id)


def test_app_role_does_not_bypass_rls(stack):
    rows = db_rows(stack, "SELECT rolbypassrls, rolsuper FROM pg_roles "
                          "WHERE rolname = 'parley_app'")
    assert rows == [["f", "f"]]
