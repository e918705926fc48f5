"""Embedders through the real stack (SPEC 4.2): a tenant switched by
`parley reindex` to an OpenAI-compatible /embeddings endpoint (a mock speaking
the real format) has its chunks and queries embedded there, in batches, with
the configured prefixes and key; engines answer from the former vectors until
the switch; a failing embedder fails the upload or the query loudly (NO
FALLBACK to lexical-only search); a query is never compared with chunks of
another model; tenants on the built-in embedder never reach the endpoint."""

import json
import os
import subprocess
import time

import pytest
import requests

from conftest import (auth, chat, db_rows, engine_log_events, make_tenant,
                      settled, upload_json)
from mock_embeddings import MockEmbeddings

MODEL = "mock-embed-1"
EMBED_KEY = "sk-embed-test-0123456789"
VACATION = ("Vacation allowance: every employee gets twenty-five vacation "
            "days a year, booked with their manager.")
PARKING = "Parking: the garage under the office opens at seven."


@pytest.fixture(scope="module")
def embeddings(stack):
    """The engine (and the CLI) with an embedder named "mock" configured;
    tenants still default to the built-in hashing embedder."""
    mock = MockEmbeddings(dimensions=64).start()
    embedders = {"mock": {
        "base_url": mock.base_url, "model": MODEL, "dimensions": 64,
        "batch_size": 4, "timeout_ms": 3000, "min_score": 0.2,
        "api_key_env": "PARLEY_TEST_EMBED_KEY",
        "query_prefix": "query: ", "document_prefix": "passage: "}}
    stack.start_engine(env={
        "PARLEY__RETRIEVAL__EMBEDDERS": json.dumps(embedders),
        "PARLEY_TEST_EMBED_KEY": EMBED_KEY,
    })
    try:
        yield mock
    finally:
        stack.start_engine(env={})
        mock.stop()


@pytest.fixture(autouse=True)
def healthy(embeddings):
    embeddings.reset()


def tenant_with(stack, *texts):
    t = make_tenant(stack)
    for i, text in enumerate(texts):
        r = upload_json(stack, t.key, title=f"Note {i}", content=text,
                        agents=[t.agent])
        assert r.status_code == 202, r.text
        assert settled(stack, t.key, r.json()["id"])["status"] == "ready"
    return t


def retrieve(stack, tenant, query):
    return requests.post(f"{stack.url}/v1/retrieve", headers=auth(tenant.key),
                         json={"model": tenant.agent, "query": query},
                         timeout=30)


def reindex(stack, tenant, *args):
    return stack.parley("reindex", "--tenant", tenant.slug, *args, "--json")


def chunk_models(stack, tenant):
    """(embedding model, staged model or "-") of the tenant's chunks."""
    return sorted(tuple(row) for row in db_rows(
        stack, "SELECT DISTINCT embedding_model, coalesce(next_embedding_model, '-') "
        "FROM chunks", tenant=tenant.id))


def test_reindex_moves_a_tenant_to_the_embedder_its_queries_then_use(
        stack, embeddings):
    t = tenant_with(stack, VACATION, PARKING)
    # "pto" shares no word with the notes: the hashing embedder cannot find it.
    r = retrieve(stack, t, "pto")
    assert r.status_code == 200, r.text
    assert r.json()["data"] == []
    assert embeddings.requests == []

    out = reindex(stack, t, "--embedder", "mock")
    assert out["embedder"] == "mock" and out["model"] == MODEL
    assert out["embedded"] == 2
    assert chunk_models(stack, t) == [(MODEL, "-")]
    headers, body = embeddings.requests[0]
    assert headers["Authorization"] == f"Bearer {EMBED_KEY}"
    assert body["model"] == MODEL and body["encoding_format"] == "float"
    assert all(i.startswith("passage: ") for i in embeddings.inputs())

    embeddings.reset()
    r = retrieve(stack, t, "pto")
    assert r.status_code == 200, r.text
    hits = r.json()["data"]
    assert hits and "twenty-five vacation days" in hits[0]["content"]
    assert hits[0]["vector_rank"] == 1 and hits[0]["lexical_rank"] is None
    assert embeddings.inputs() == ["query: pto"]

    answer = chat(stack, t.key, "How much pto do I get?")
    assert answer.status_code == 200, answer.text
    assert "twenty-five" in answer.json()["choices"][0]["message"]["content"]


def test_uploads_are_embedded_by_the_tenants_embedder_in_batches(
        stack, embeddings):
    t = tenant_with(stack, PARKING)
    reindex(stack, t, "--embedder", "mock")
    stack.parley("tenant", "update", "--slug", t.slug, "--chunk-tokens", "20",
                 "--chunk-overlap", "0")
    embeddings.reset()
    text = " ".join(f"Rule {n}: visitors sign in at desk {n} before noon."
                    for n in range(1, 31))
    r = upload_json(stack, t.key, title="Visitor rules", content=text,
                    agents=[t.agent])
    assert r.status_code == 202, r.text
    doc = settled(stack, t.key, r.json()["id"])
    assert doc["status"] == "ready" and doc["chunk_count"] > 8
    sizes = [len(body["input"]) for _, body in embeddings.requests]
    assert sum(sizes) == doc["chunk_count"]
    assert max(sizes) == 4 and len(sizes) == -(-doc["chunk_count"] // 4)
    assert chunk_models(stack, t) == [(MODEL, "-")]


@pytest.mark.parametrize("fault,reason", [
    ({"status": 500}, "refused the request (HTTP 500)"),
    ({"answer_dimensions": 32}, "vectors of the wrong length"),
])
def test_a_failing_embedder_fails_the_upload_and_stores_nothing(
        stack, embeddings, fault, reason):
    t = tenant_with(stack, PARKING)
    reindex(stack, t, "--embedder", "mock")
    embeddings.reset(**fault)
    r = upload_json(stack, t.key, title="Vacation", content=VACATION,
                    agents=[t.agent])
    assert r.status_code == 202, r.text
    doc = settled(stack, t.key, r.json()["id"])
    assert doc["status"] == "failed"
    assert "could not be embedded" in doc["error"] and reason in doc["error"]
    assert "overloaded" not in doc["error"]  # the provider's words stay in the log
    assert db_rows(stack, "SELECT count(*) FROM chunks WHERE document_id = "
                   f"'{doc['id']}'", tenant=t.id) == [["0"]]


def test_a_failing_embedder_fails_the_query_without_a_lexical_fallback(
        stack, embeddings):
    t = tenant_with(stack, VACATION)
    reindex(stack, t, "--embedder", "mock")
    embeddings.reset(status=503)
    # "vacation" matches lexically: a fallback would answer; NO FALLBACK fails.
    r = retrieve(stack, t, "vacation allowance")
    assert r.status_code == 502, r.text
    error = r.json()["error"]
    assert error["code"] == "embedding_error" and error["type"] == "server_error"
    assert "could not be searched" in error["message"]
    r = chat(stack, t.key, "What is the vacation allowance?")
    assert r.status_code == 502, r.text
    assert r.json()["error"]["code"] == "embedding_error"
    assert any(e.get("detail", "").find("overloaded") >= 0
               for e in engine_log_events(stack, "query_embedding_failed"))


def test_tenants_on_the_builtin_embedder_never_reach_the_endpoint(
        stack, embeddings):
    t = tenant_with(stack, VACATION)
    embeddings.reset(status=500)
    r = retrieve(stack, t, "vacation allowance")
    assert r.status_code == 200, r.text
    assert r.json()["data"][0]["vector_rank"] is not None
    assert embeddings.requests == []


def test_a_query_is_never_compared_with_chunks_of_another_model(
        stack, embeddings):
    t = tenant_with(stack, VACATION, PARKING)
    reindex(stack, t, "--embedder", "mock")
    # One chunk left with the built-in model's vector, as a chunk stored before
    # a model change is: it ranks lexically only, until a reindex embeds it.
    stack.psql_session([
        "UPDATE chunks SET embedding_model = 'hashing-v2-384' "
        f"WHERE tenant_id = '{t.id}' AND content LIKE 'Parking%'",
        "UPDATE tenants SET knowledge_version = knowledge_version + 1 "
        f"WHERE id = '{t.id}'"], user="postgres")
    hits = wait_for_hits(stack, t, "garage parking",
                         lambda h: h[0]["vector_rank"] is None)
    assert hits[0]["content"].startswith("Parking")
    assert hits[0]["lexical_rank"] == 1
    assert any(e["tenant_id"] == t.id
               for e in engine_log_events(stack, "index_chunks_of_another_model"))

    assert reindex(stack, t)["embedded"] == 1  # its own embedder, the one chunk
    hits = wait_for_hits(stack, t, "garage parking",
                         lambda h: h[0]["vector_rank"] is not None)
    assert hits[0]["content"].startswith("Parking")


def wait_for_hits(stack, tenant, query, ok, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        r = retrieve(stack, tenant, query)
        assert r.status_code == 200, r.text
        hits = r.json()["data"]
        if hits and ok(hits):
            return hits
        assert time.monotonic() < deadline, hits
        time.sleep(0.1)


def test_engines_answer_from_the_former_vectors_until_the_switch(
        stack, embeddings):
    t = tenant_with(stack, *[f"Note {n}: the vacation rota for team {n} is "
                             "pinned in the kitchen." for n in range(12)])
    embeddings.reset(delay=0.4)
    env = dict(os.environ, PARLEY_CONFIG=str(stack.config), **stack.engine_env)
    run = subprocess.Popen(
        [str(stack.parley_bin), "reindex", "--tenant", t.slug, "--embedder",
         "mock", "--batch", "2", "--json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not any(staged == MODEL for _, staged in chunk_models(stack, t)):
            assert time.monotonic() < deadline and run.poll() is None
            time.sleep(0.05)
        # Halfway: vectors of the new model are staged, queries still use the
        # built-in embedder's and never reach the endpoint.
        before = len(embeddings.requests)
        r = retrieve(stack, t, "vacation rota kitchen")
        assert r.status_code == 200, r.text
        assert r.json()["data"] and r.json()["data"][0]["vector_rank"] is not None
        assert not any(i.startswith("query: ") for i in embeddings.inputs())
        assert len(embeddings.requests) >= before
        assert run.poll() is None, "the reindex ended before it was observed"
        assert db_rows(stack, "SELECT coalesce(settings->>'embedder', 'default') "
                       f"FROM tenants WHERE id = '{t.id}'",
                       user="postgres") == [["default"]]
    finally:
        out, err = run.communicate(timeout=60)
    assert run.returncode == 0, err
    assert json.loads(out)["embedded"] == 12
    embeddings.reset()
    r = retrieve(stack, t, "vacation rota kitchen")
    assert r.status_code == 200 and r.json()["data"]
    assert embeddings.inputs() == ["query: vacation rota kitchen"]


def test_reindex_refuses_an_unknown_embedder_and_changes_nothing(
        stack, embeddings):
    t = tenant_with(stack, PARKING)
    r = stack.parley("reindex", "--tenant", t.slug, "--embedder", "nope",
                     "--json", check=False)
    assert r.returncode != 0
    assert "embedder_not_found" in r.stdout + r.stderr
    assert chunk_models(stack, t) == [("hashing-v2-384", "-")]


def test_reindex_against_a_failing_embedder_keeps_the_former_vectors(
        stack, embeddings):
    t = tenant_with(stack, VACATION)
    embeddings.reset(status=500)
    r = stack.parley("reindex", "--tenant", t.slug, "--embedder", "mock",
                     "--json", check=False)
    assert r.returncode != 0
    assert "embedding_failed" in r.stdout + r.stderr
    assert chunk_models(stack, t) == [("hashing-v2-384", "-")]
    r = retrieve(stack, t, "vacation allowance")
    assert r.status_code == 200 and r.json()["data"]


def test_an_embedder_that_does_not_answer_in_time_fails_the_query(
        stack, embeddings):
    t = tenant_with(stack, VACATION)
    reindex(stack, t, "--embedder", "mock")
    embeddings.reset(delay=4)  # timeout_ms is 3000
    started = time.monotonic()
    r = retrieve(stack, t, "vacation allowance")
    assert r.status_code == 502, r.text
    assert "did not answer in time" in r.json()["error"]["message"]
    assert time.monotonic() - started < 3.9
