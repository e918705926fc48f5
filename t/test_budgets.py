"""Hard budgets and usage through the real stack (SPEC 4.3): a call reserves
its most before it starts and is refused with 429 insufficient_quota when that
would pass the tenant's budget; a hundred concurrent calls at the edge of a
budget never reserve past it; a new UTC day admits again; usage_daily and the
reports agree exactly with llm_requests."""

import threading
import time

import pytest
import requests

from conftest import REPO, chat, db_rows, make_tenant
from parley_stack import StackError
from test_edge_admin import admin_token

QUESTION = "How many vacation days do new employees get?"


@pytest.fixture(autouse=True)
def fresh(openai_engine):
    openai_engine.reset()


def budgeted_tenant(stack, **budgets):
    t = make_tenant(stack, REPO / "demo" / "handbook", rpm=100000, burst=1000,
                    max_streams=1000)
    args = []
    for name, value in budgets.items():
        args += [f"--{name.replace('_', '-')}", value]
    if args:
        stack.parley("tenant", "update", "--slug", t.slug, *args, "--json")
    return t


def spend(stack, tenant):
    """(day, day_tokens) of the tenant's spend row."""
    rows = db_rows(stack, "SELECT day::text, day_tokens FROM tenant_spend",
                   tenant=tenant.id)
    return (rows[0][0], int(rows[0][1])) if rows else (None, 0)


def set_spend(stack, tenant, sql):
    stack.psql_session([f"UPDATE tenant_spend SET {sql} WHERE tenant_id = '{tenant.id}'"],
                       user="postgres")


def insufficient_quota(r):
    assert r.status_code == 429, r.text
    error = r.json()["error"]
    assert error["type"] == "insufficient_quota"
    assert error["code"] == "insufficient_quota"
    return error["message"]


def test_a_tenant_just_under_its_daily_budget_gets_one_more_answer(stack, openai_engine):
    t = budgeted_tenant(stack, budget_tokens_day=100000)
    assert chat(stack, t.key, QUESTION).status_code == 200  # makes the spend row
    set_spend(stack, t, "day_tokens = 98000")  # earlier today
    # The provider reports more than this small call could reserve: what it
    # settles at leaves less than the next call's most.
    openai_engine.reset(usage={"prompt_tokens": 1500, "completion_tokens": 400,
                          "total_tokens": 1900})
    r = chat(stack, t.key, QUESTION, extra={"max_tokens": 300})
    assert r.status_code == 200, r.text
    assert spend(stack, t)[1] == 98000 + 1900
    calls = len(openai_engine.requests)
    message = insufficient_quota(chat(stack, t.key, QUESTION, extra={"max_tokens": 300}))
    assert "daily token budget" in message
    assert len(openai_engine.requests) == calls  # refused before any call
    # the call that fitted was told to stay within what it reserved
    assert openai_engine.requests[-1][1]["max_tokens"] == 300


def test_the_next_utc_day_admits_again(stack, openai_engine):
    t = budgeted_tenant(stack, budget_tokens_day=5000)
    assert chat(stack, t.key, QUESTION).status_code == 200
    set_spend(stack, t, "day_tokens = 5000")
    insufficient_quota(chat(stack, t.key, QUESTION))
    set_spend(stack, t, "day = day - 1")  # as the clock would at midnight UTC
    r = chat(stack, t.key, QUESTION)
    assert r.status_code == 200, r.text
    day, tokens = spend(stack, t)
    assert tokens == 326  # today's count starts again, with this call's usage
    assert day == db_rows(stack, "SELECT (now() AT TIME ZONE 'UTC')::date::text")[0][0]
    # a call of a tenant with a budget is told the most it may write
    assert openai_engine.requests[-1][1]["max_tokens"] == 1024


def test_what_a_tenant_spent_before_its_first_budget_counts_against_it(stack, openai_engine):
    t = budgeted_tenant(stack)
    for _ in range(2):
        assert chat(stack, t.key, QUESTION).status_code == 200
    assert spend(stack, t) == (None, 0)  # without a budget, no spend row is written
    stack.parley("tenant", "update", "--slug", t.slug, "--budget-tokens-day", "1000", "--json")
    today = db_rows(stack, "SELECT (now() AT TIME ZONE 'UTC')::date::text")[0][0]
    assert spend(stack, t) == (today, 2 * 326)  # today's usage so far, from usage_daily
    # what is left (348 tokens) does not cover another call's most
    assert "daily token budget" in insufficient_quota(chat(stack, t.key, QUESTION))
    assert len(openai_engine.requests) == 2


def test_a_monthly_cost_budget_refuses_too(stack, openai_engine):
    # gpt-4o-mini-priced calls cost about 0.001 each here (mock-model's price)
    t = budgeted_tenant(stack, budget_cost_month="0.0000001")
    message = insufficient_quota(chat(stack, t.key, QUESTION))
    assert "monthly cost budget" in message
    assert openai_engine.requests == []


def test_a_hundred_concurrent_calls_never_reserve_past_the_budget(stack, openai_engine):
    t = budgeted_tenant(stack, budget_tokens_day=100000)
    assert chat(stack, t.key, QUESTION).status_code == 200
    before = spend(stack, t)[1]
    budget = before + 9000  # room for a few of this question's reservations
    stack.parley("tenant", "update", "--slug", t.slug, "--budget-tokens-day", budget)
    # Two keys: each key's own rate limit at the edge allows a burst of 100.
    keys = [t.key, stack.parley("key", "create", "--tenant", t.slug, "--json")["key"]]
    openai_engine.reset(mode="gated")  # admitted calls stay open: nothing settles yet
    results = [None] * 100

    def ask(i):
        results[i] = chat(stack, keys[i % 2], QUESTION, timeout=60)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(100)]
    for th in threads:
        th.start()
    try:
        deadline = time.monotonic() + 30
        while True:
            refused = sum(1 for r in results if r is not None and r.status_code == 429
                          and r.json()["error"]["code"] == "insufficient_quota")
            if refused + len(openai_engine.requests) == 100:
                break
            assert time.monotonic() < deadline, (refused, len(openai_engine.requests))
            time.sleep(0.05)
        admitted = len(openai_engine.requests)
        reserved = spend(stack, t)[1] - before
        assert admitted > 0 and refused > 0
        assert reserved % admitted == 0
        each = reserved // admitted  # one question, one reservation size
        assert before + reserved <= budget
        assert budget - (before + reserved) < each  # no room left for one more
    finally:
        openai_engine.gate.set()
        for th in threads:
            th.join(60)
    assert sorted({r.status_code for r in results}) == [200, 429]
    settled = spend(stack, t)[1]
    assert settled == before + admitted * 326  # the real usage replaced the reservations
    assert settled <= budget


def usage_report(stack, tenant, by):
    cli = stack.parley("usage", "--tenant", tenant.slug, "--by", by, "--json")
    api = requests.get(f"{stack.url}/admin/v1/tenants/{tenant.slug}/usage",
                       params={"by": by},
                       headers={"Authorization": f"Bearer {admin_token(stack)}"},
                       timeout=10)
    assert api.status_code == 200, api.text
    assert api.json() == cli
    return cli


def test_usage_reconciles_with_llm_requests(stack, openai_engine):
    t = budgeted_tenant(stack, budget_tokens_day=100000)
    for _ in range(3):
        assert chat(stack, t.key, QUESTION).status_code == 200
    openai_engine.reset(mode="http_error")
    assert chat(stack, t.key, QUESTION).status_code == 502
    openai_engine.reset()
    assert chat(stack, t.key, "What is the airspeed of an unladen swallow?").status_code == 200
    set_spend(stack, t, "day_tokens = 100000")
    insufficient_quota(chat(stack, t.key, QUESTION))
    # One call dated yesterday, in both tables, as a call made then would be.
    stack.psql_session([
        "UPDATE llm_requests SET created_at = created_at - interval '1 day' WHERE id = "
        f"(SELECT id FROM llm_requests WHERE tenant_id = '{t.id}' AND status = 'ok' LIMIT 1)",
        # from a stripe of today's line that holds an answered call
        f"UPDATE usage_daily SET requests = requests - 1, prompt_tokens = prompt_tokens - 321,"
        f" completion_tokens = completion_tokens - 5, cost = cost - 0.000331"
        f" WHERE (tenant_id, stripe) = (SELECT tenant_id, stripe FROM usage_daily"
        f" WHERE tenant_id = '{t.id}' AND model = 'mock-model' AND requests > errors"
        f" AND completion_tokens >= 5 LIMIT 1) AND model = 'mock-model'",
        "INSERT INTO usage_daily (tenant_id, day, agent_id, model, requests, prompt_tokens,"
        " completion_tokens, cost) SELECT DISTINCT tenant_id, day - 1, agent_id, model, 1, 321,"
        f" 5, 0.000331 FROM usage_daily WHERE tenant_id = '{t.id}' AND model = 'mock-model'",
    ], user="postgres")

    by_day = usage_report(stack, t, "day")
    truth = db_rows(stack, "SELECT (created_at AT TIME ZONE 'UTC')::date::text, count(*),"
                    " sum(prompt_tokens), sum(completion_tokens),"
                    " sum(computed_cost)::float8, count(*) FILTER (WHERE status = 'error')"
                    f" FROM llm_requests WHERE tenant_id = '{t.id}' GROUP BY 1 ORDER BY 1",
                    user="postgres")
    calls = [line for line in by_day["data"] if line["requests"] > 0]
    assert [[line["day"], str(line["requests"]), str(line["prompt_tokens"]),
             str(line["completion_tokens"]), line["cost"], str(line["errors"])]
            for line in calls] == [
        [d, n, p, c, pytest.approx(float(cost), abs=1e-9), e]
        for d, n, p, c, cost, e in truth]
    assert len(calls) == 2  # yesterday and today
    total = by_day["total"]
    assert total["refusals"] == 1 and total["budget_refusals"] == 1
    assert total["errors"] == 1 and total["requests"] == 4

    by_model = {line["model"]: line for line in usage_report(stack, t, "model")["data"]}
    assert by_model["mock-model"]["requests"] == 4
    assert by_model[""]["refusals"] == 1 and by_model[""]["budget_refusals"] == 1
    by_agent = usage_report(stack, t, "agent")["data"]
    assert [line["agent"] for line in by_agent] == [t.agent]
    assert by_agent[0]["total_tokens"] == total["total_tokens"]


def test_a_bad_usage_query_is_a_clear_error(stack):
    t = make_tenant(stack)
    for params, code in [({"from": "2026-13-01"}, "invalid_from"),
                         ({"from": "2026-02-01", "to": "2026-01-01"}, "invalid_to"),
                         ({"by": "week"}, "invalid_by")]:
        r = requests.get(f"{stack.url}/admin/v1/tenants/{t.slug}/usage", params=params,
                         headers={"Authorization": f"Bearer {admin_token(stack)}"},
                         timeout=10)
        assert r.status_code == 400, r.text
        assert r.json()["error"]["code"] == code


def test_the_operator_sees_every_tenant_through_the_reporting_role(stack, openai_engine):
    a, b = budgeted_tenant(stack), budgeted_tenant(stack)
    for tenant, calls in ((a, 2), (b, 1)):
        for _ in range(calls):
            assert chat(stack, tenant.key, QUESTION).status_code == 200
    report = stack.parley("usage", "--all", "--json")
    assert report["by"] == "tenant" and report["tenant"] is None
    lines = {line["tenant"]: line for line in report["data"]}
    for tenant in (a, b):
        own = usage_report(stack, tenant, "day")["total"]
        assert {k: v for k, v in lines[tenant.slug].items() if k != "tenant"} == own
    assert lines[a.slug]["requests"] == 2 and lines[b.slug]["requests"] == 1
    # The role reads usage and tenants' names, nothing else, and writes nothing.
    for sql in ("SELECT count(*) FROM llm_requests", "SELECT count(*) FROM messages",
                "SELECT settings FROM tenants", "SELECT count(*) FROM api_keys",
                f"UPDATE usage_daily SET requests = 0 WHERE tenant_id = '{a.id}'"):
        with pytest.raises(StackError, match="permission denied"):
            stack.psql_session([sql], user="parley_reporting")
