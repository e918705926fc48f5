"""The engine's /metrics through the edge (/_parley/metrics, for the allowed
addresses only) and /readyz for load balancers: a tenant's counters and
histograms move by exactly what it sent; anyone else is refused; readiness
follows the database."""

import re

import pytest
import requests

from conftest import REPO, chat, client_from, make_tenant
from parley_stack import free_port

QUESTION = "How many vacation days do new employees get?"
SAMPLE = re.compile(r'^([a-z_]+)(?:\{(.*)\})? (\S+)$')


def scrape(stack):
    r = requests.get(f"{stack.url}/_parley/metrics", timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for line in r.text.splitlines():
        if line.startswith("#") or not line:
            continue
        name, labels, value = SAMPLE.match(line).groups()
        key = (name, tuple(sorted(re.findall(r'(\w+)="([^"]*)"', labels or ""))))
        samples[key] = float(value)
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_a_tenants_counters_and_histograms_move_by_what_it_sent(stack, openai_engine):
    openai_engine.reset()
    t = make_tenant(stack, REPO / "demo" / "handbook")
    before = scrape(stack)
    for _ in range(2):
        assert chat(stack, t.key, QUESTION).status_code == 200
    assert chat(stack, t.key, "What is the airspeed of an unladen swallow?").status_code == 200
    after = scrape(stack)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("parley_llm_calls_total", tenant=t.id, provider="openai", status="ok") == 2
    assert moved("parley_llm_tokens_total", tenant=t.id, kind="prompt") == 2 * 321
    assert moved("parley_llm_tokens_total", tenant=t.id, kind="completion") == 2 * 5
    assert moved("parley_llm_cost_total", tenant=t.id) == pytest.approx(2 * 0.000331)
    assert moved("parley_chat_turns_total", tenant=t.id, outcome="answered") == 2
    assert moved("parley_chat_turns_total", tenant=t.id, outcome="refused") == 1
    assert moved("parley_llm_time_to_first_token_seconds_count", tenant=t.id) == 2
    assert moved("parley_llm_time_to_first_token_seconds_bucket", tenant=t.id, le="+Inf") == 2
    assert moved("parley_llm_call_duration_seconds_count", tenant=t.id) == 2
    assert moved("parley_http_requests_total", route="/v1/chat/completions", method="POST",
                 status="200") >= 3
    assert moved("parley_retrieval_duration_seconds_count") >= 3
    assert value(after, "parley_db_pool_wait_seconds_count") > 0
    assert value(after, "parley_index_cache_bytes") > 0


def test_upstream_errors_are_counted_by_kind(stack, openai_engine):
    t = make_tenant(stack, REPO / "demo" / "handbook")
    before = scrape(stack)
    openai_engine.reset(mode="http_error")
    assert chat(stack, t.key, QUESTION).status_code == 502
    openai_engine.reset()
    after = scrape(stack)
    key = {"provider": "openai", "kind": "refused"}
    assert (value(after, "parley_llm_upstream_errors_total", **key) -
            value(before, "parley_llm_upstream_errors_total", **key)) == 1
    assert value(after, "parley_llm_calls_total", tenant=t.id, provider="openai",
                 status="error") == 1


def test_metrics_are_refused_from_other_addresses(stack):
    with client_from("127.0.0.2") as client:
        r = client.get(f"{stack.url}/_parley/metrics", timeout=10)
    assert r.status_code == 403
    assert "parley_" not in r.text


def test_readyz_through_the_edge_follows_the_database(stack, openai_engine):
    r = requests.get(f"{stack.url}/readyz", timeout=10)
    assert r.status_code == 200, r.text
    saved = dict(stack.engine_env)
    stack.start_engine(env={**saved, "PARLEY__DATABASE__DSN":
                            f"host=127.0.0.1 port={free_port()} dbname=parley "
                            "user=parley_app connect_timeout=1"})
    try:
        r = requests.get(f"{stack.url}/readyz", timeout=10)
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "not_ready"
    finally:
        stack.start_engine(env=saved)
    assert requests.get(f"{stack.url}/readyz", timeout=10).status_code == 200
