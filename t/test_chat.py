"""The OpenAI-compatible chat API with the offline extractive provider:
exact wire shapes, grounded and cited answers, the refusal text when nothing
relevant is known, and a stored record of every call."""

import requests

from conftest import auth, chat, db_rows, sse_events

QUESTION = "What is the launch codename of Project Bluefin?"


def test_stream_is_openai_chunks_with_citations_and_done(stack, tenant_a):
    r = chat(stack, tenant_a.key, QUESTION, stream=True,
             extra={"stream_options": {"include_usage": True}})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/event-stream")
    events = list(sse_events(r))
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    content = [c for c in chunks if c["choices"]
               and c["choices"][0]["delta"].get("content")]
    assert len(content) >= 3, "the answer streams in several chunks"
    text = "".join(c["choices"][0]["delta"]["content"] for c in content)
    assert "ZEPHYR-7781" in text
    finals = [c for c in chunks if c["choices"]
              and c["choices"][0]["finish_reason"] == "stop"]
    assert len(finals) == 1
    citations = finals[0]["citations"]
    assert citations and citations[0]["title"] == "Project Bluefin"
    assert {"index", "document_id", "title", "source_uri", "chunk", "score",
            "snippet"} <= set(citations[0])
    usage = chunks[-1]
    assert usage["choices"] == [] and usage["usage"]["total_tokens"] > 0


def test_non_stream_response_shape(stack, tenant_a):
    r = chat(stack, tenant_a.key, QUESTION)
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "chat.completion"
    choice = body["choices"][0]
    assert choice["message"]["role"] == "assistant"
    assert choice["finish_reason"] == "stop"
    assert "ZEPHYR-7781" in choice["message"]["content"]
    assert body["citations"][0]["snippet"]
    assert body["usage"]["prompt_tokens"] > 0


def test_nothing_relevant_gives_the_refusal_text(stack, tenant_a):
    r = chat(stack, tenant_a.key, "Quelle est la capitale de la Mongolie?")
    assert r.status_code == 200
    body = r.json()
    assert body["choices"][0]["message"]["content"] == "I don't have that information."
    assert body["citations"] == []


def test_every_call_is_recorded(stack, tenant_a):
    r = chat(stack, tenant_a.key, QUESTION)
    session = r.headers["X-Parley-Session-Id"]
    roles = db_rows(stack, "SELECT role FROM messages WHERE session_id = "
                           f"'{session}' ORDER BY created_at", tenant=tenant_a.id)
    assert roles == [["user"], ["assistant"]]
    calls = db_rows(stack, "SELECT provider, status, total_tokens > 0 FROM "
                           f"llm_requests WHERE session_id = '{session}'",
                    tenant=tenant_a.id)
    assert calls == [["extractive", "ok", "t"]]


def test_a_session_continues_with_session_id(stack, tenant_a):
    first = chat(stack, tenant_a.key, QUESTION)
    session = first.headers["X-Parley-Session-Id"]
    again = chat(stack, tenant_a.key, "And the thrust?",
                 extra={"session_id": session})
    assert again.status_code == 200
    assert again.headers["X-Parley-Session-Id"] == session
    count = db_rows(stack, "SELECT count(*) FROM messages WHERE session_id = "
                           f"'{session}'", tenant=tenant_a.id)
    assert count == [["4"]]


def test_unknown_agent_is_a_404_json_error(stack, tenant_a):
    r = chat(stack, tenant_a.key, QUESTION, model="no-such-agent")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "model_not_found"


def test_bad_json_is_a_400_and_stores_nothing(stack, tenant_a):
    before = db_rows(stack, "SELECT count(*) FROM messages", tenant=tenant_a.id)
    for body in (b"{not json", b'{"model": 5, "messages": []}',
                 b'{"model": "support", "messages": "hi"}',
                 b'{"model": "support", "messages": [{"role": "user"}]}'):
        r = requests.post(f"{stack.url}/v1/chat/completions", data=body,
                          headers={**auth(tenant_a.key),
                                   "Content-Type": "application/json"})
        assert r.status_code == 400, body
        assert r.json()["error"]["type"] == "invalid_request_error"
    assert db_rows(stack, "SELECT count(*) FROM messages",
                   tenant=tenant_a.id) == before


def test_a_turn_is_stored_after_the_database_dropped_the_engines_connections(
        stack, tenant_a):
    assert chat(stack, tenant_a.key, QUESTION).status_code == 200
    # as a database restart or an idle timeout would: the pooled connections die
    stack.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
               "WHERE usename = 'parley_app' AND query NOT LIKE 'LISTEN%'")
    r = chat(stack, tenant_a.key, QUESTION)
    assert r.status_code == 200, r.text
    session = r.headers["X-Parley-Session-Id"]
    roles = db_rows(stack, "SELECT role FROM messages WHERE session_id = "
                           f"'{session}' ORDER BY created_at", tenant=tenant_a.id)
    assert roles == [["user"], ["assistant"]]
