"""The `openai` provider against a mock OpenAI-compatible upstream: tokens
stream through as they arrive, usage is recorded, and upstream failures are
explicit errors, never an answer without the knowledge base (NO FALLBACK)."""

import pytest

from conftest import (REPO, chat, content_of, db_rows, engine_log_events,
                      explicit_error, hang_up_after_first_token, make_tenant,
                      sse_events, stream_past_a_held_upstream,
                      time_out_on_a_silent_upstream)

QUESTION = "How many vacation days do new employees get?"


@pytest.fixture
def handbook_tenant(stack):
    return make_tenant(stack, REPO / "demo" / "handbook")


def test_first_token_reaches_client_before_upstream_finishes(
        stack, openai_engine, handbook_tenant):
    _, events = stream_past_a_held_upstream(stack, handbook_tenant,
                                            openai_engine)
    assert events[-1] == "[DONE]"
    assert content_of(events) == "Vacation is twenty days [1]."
    final = [e for e in events[:-1] if e["choices"]
             and e["choices"][0]["finish_reason"] == "stop"][0]
    assert final["citations"][0]["title"] == "Time off and leave"


def test_upstream_receives_grounded_prompt_and_usage_request(
        stack, openai_engine, handbook_tenant):
    mock = openai_engine
    mock.reset()
    r = chat(stack, handbook_tenant.key, QUESTION)
    assert r.status_code == 200, r.text
    headers, body = mock.requests[-1]
    assert headers["Authorization"] == "Bearer sk-upstream-test-0123456789"
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    prompt = "\n".join(m["content"] for m in body["messages"])
    assert "20 paid vacation days" in prompt
    assert body["messages"][-1]["content"].endswith(QUESTION)


def test_upstream_usage_lands_in_llm_requests(stack, openai_engine, handbook_tenant):
    openai_engine.reset()
    r = chat(stack, handbook_tenant.key, QUESTION, stream=True)
    assert list(sse_events(r))[-1] == "[DONE]"
    session = r.headers["X-Parley-Session-Id"]
    rows = db_rows(stack, "SELECT provider, model, prompt_tokens, "
                          "completion_tokens, usage_estimated, status, "
                          "computed_cost, ttft_ms IS NOT NULL "
                          f"FROM llm_requests WHERE session_id = '{session}'",
                   tenant=handbook_tenant.id)
    # 321 prompt tokens at 0.001/1k + 5 completion tokens at 0.002/1k
    assert rows[0][:6] == ["openai", "mock-model", "321", "5", "f", "ok"]
    assert float(rows[0][6]) == pytest.approx(0.000331)
    assert rows[0][7] == "t"


def test_upstream_http_error_is_an_explicit_error(stack, openai_engine, handbook_tenant):
    openai_engine.reset(mode="http_error", status=503)
    r = chat(stack, handbook_tenant.key, QUESTION)
    assert r.status_code == 502
    assert r.json()["error"]["code"] == "upstream_error"
    assert "20 paid vacation days" not in r.text


def test_upstream_error_while_streaming_is_an_explicit_error(
        stack, openai_engine, handbook_tenant):
    openai_engine.reset(mode="http_error", status=500)
    r = chat(stack, handbook_tenant.key, QUESTION, stream=True)
    assert explicit_error(r)["code"] == "upstream_error"


def test_upstream_dying_mid_stream_ends_with_an_error(stack, openai_engine, handbook_tenant):
    openai_engine.reset(mode="drop")
    r = chat(stack, handbook_tenant.key, QUESTION, stream=True)
    assert r.status_code == 200
    events = list(sse_events(r))
    assert content_of(events) == "Vacation "
    assert isinstance(events[-1], dict) and "error" in events[-1]
    session = r.headers["X-Parley-Session-Id"]
    assert db_rows(stack, "SELECT status FROM llm_requests WHERE "
                          f"session_id = '{session}'",
                   tenant=handbook_tenant.id) == [["error"]]


def test_silent_upstream_times_out_with_an_error(stack, openai_engine, handbook_tenant):
    time_out_on_a_silent_upstream(stack, handbook_tenant, openai_engine)


@pytest.mark.parametrize("stream", [False, True])
def test_provider_details_stay_with_the_operator(
        stack, openai_engine, handbook_tenant, stream):
    """An upstream error body can quote the operator's own key: the tenant
    gets a stable code, a plain message and the request id, never the
    provider's words; the operator's log has them."""
    leak = "Incorrect API key provided: sk-upst********6789"
    openai_engine.reset(mode="http_error", status=401, error_message=leak)
    r = chat(stack, handbook_tenant.key, QUESTION, stream=stream)
    error = explicit_error(r)
    assert error["code"] == "upstream_error"
    assert error["type"] == "server_error"
    assert "6789" not in r.text and "Incorrect API key" not in r.text
    request_id = r.headers["X-Request-Id"]
    assert error["message"] == ("The language model provider refused the request. "
                                f"Request id: {request_id}.")
    failures = [e for e in engine_log_events(stack, "llm_call_failed")
                if e["request_id"] == request_id]
    assert failures[0]["kind"] == "refused"
    assert leak in failures[0]["detail"]
    stored = db_rows(stack, "SELECT error FROM llm_requests ORDER BY created_at DESC LIMIT 1",
                     tenant=handbook_tenant.id)
    assert "6789" not in stored[0][0]


def test_a_client_hanging_up_on_a_whole_answer_cancels_the_call(
        stack, openai_engine, handbook_tenant):
    """Not streamed: the answer is only sent once complete, and a client
    that leaves before then stops the upstream call; nobody pays for the
    rest of an answer nobody reads."""
    hang_up_after_first_token(stack, handbook_tenant, openai_engine)
