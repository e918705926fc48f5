"""The `anthropic` provider against a mock of Anthropic's Messages API
(t/mock_anthropic.py), through the edge: tokens stream through as they
arrive, usage (cache tokens included) is recorded with its cost, and
Anthropic's refusals and in-stream errors are explicit errors whose words
stay in the operator's log."""

import json

import pytest

from conftest import (REPO, call_failures, chat, content_of, db_rows,
                      engine_through, explicit_error, hang_up_after_first_token,
                      make_tenant, sse_events, stream_past_a_held_upstream,
                      time_out_on_a_silent_upstream)
from mock_anthropic import API_KEY, MockAnthropic

QUESTION = "How many vacation days do new employees get?"
PRICES = '{"claude-mock": {"prompt_per_1k": 0.003, "completion_per_1k": 0.015}}'


@pytest.fixture(scope="module")
def anthropic(stack):
    """The engine answering through the mock Anthropic API, for this module."""
    mock = MockAnthropic().start()
    try:
        with engine_through(stack, mock,
                            PARLEY__LLM__PROVIDER="anthropic",
                            PARLEY__LLM__MODEL="claude-mock",
                            PARLEY__LLM__MAX_TOKENS="512",
                            PARLEY__LLM__PRICES=PRICES,
                            PARLEY_TEST_UPSTREAM_KEY=API_KEY):
            yield mock
    finally:
        mock.stop()


@pytest.fixture
def handbook_tenant(stack):
    return make_tenant(stack, REPO / "demo" / "handbook")


def llm_request(stack, tenant, session):
    return db_rows(stack, "SELECT provider, model, prompt_tokens, "
                          "completion_tokens, usage_estimated, status, "
                          "computed_cost FROM llm_requests "
                          f"WHERE session_id = '{session}'", tenant=tenant.id)


def assert_accounted(stack, tenant, session):
    rows = llm_request(stack, tenant, session)
    # every input token counts, cached or not: 300 + 15 + 6
    assert rows[0][:6] == ["anthropic", "claude-mock", "321", "5", "f", "ok"]
    # 321 prompt tokens at 0.003/1k + 5 completion tokens at 0.015/1k
    assert float(rows[0][6]) == pytest.approx(0.001038)


def test_tokens_stream_through_as_they_arrive(stack, anthropic, handbook_tenant):
    r, events = stream_past_a_held_upstream(stack, handbook_tenant, anthropic)
    assert events[-1] == "[DONE]"
    assert content_of(events) == "Vacation is twenty days [1]."
    final = [e for e in events[:-1] if e["choices"]
             and e["choices"][0]["finish_reason"] == "stop"][0]
    assert final["citations"][0]["title"] == "Time off and leave"
    assert_accounted(stack, handbook_tenant, r.headers["X-Parley-Session-Id"])


def test_a_whole_answer_with_its_usage(stack, anthropic, handbook_tenant):
    anthropic.reset()
    r = chat(stack, handbook_tenant.key, QUESTION)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["choices"][0]["message"]["content"] == \
        "Vacation is twenty days [1]."
    assert answer["choices"][0]["finish_reason"] == "stop"
    assert answer["usage"]["prompt_tokens"] == 321
    assert answer["usage"]["completion_tokens"] == 5
    assert_accounted(stack, handbook_tenant, r.headers["X-Parley-Session-Id"])


def test_the_request_is_anthropics(stack, anthropic, handbook_tenant):
    anthropic.reset()
    r = chat(stack, handbook_tenant.key, QUESTION, extra={
        "messages": [{"role": "system", "content": "Answer in English."},
                     {"role": "user", "content": "Hello"},
                     {"role": "user", "content": QUESTION}]})
    assert r.status_code == 200, r.text
    headers, body = anthropic.requests[-1]
    assert headers["x-api-key"] == API_KEY
    assert headers["anthropic-version"] == "2023-06-01"
    assert "Authorization" not in headers
    assert body["model"] == "claude-mock"
    assert body["stream"] is True
    assert body["max_tokens"] == 512  # llm.max_tokens: the client set none
    # the grounded system prompt is a top-level field, not a message
    assert "20 paid vacation days" in body["system"]
    assert "Answer in English." in body["system"]
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert body["messages"][0]["content"] == f"Hello\n\n{QUESTION}"


def test_the_clients_max_tokens_and_the_stop_reason(stack, anthropic,
                                                    handbook_tenant):
    anthropic.reset(stop_reason="max_tokens")
    r = chat(stack, handbook_tenant.key, QUESTION,
             extra={"max_tokens": 40, "temperature": 0.2})
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["finish_reason"] == "length"
    _, body = anthropic.requests[-1]
    assert body["max_tokens"] == 40
    assert body["temperature"] == 0.2


@pytest.mark.parametrize("stream", [False, True])
def test_overloaded_is_an_explicit_error(stack, anthropic, handbook_tenant,
                                         stream):
    anthropic.reset(mode="overloaded",
                    error_message="Overloaded: account org-5678 is busy")
    r = chat(stack, handbook_tenant.key, QUESTION, stream=stream)
    error = explicit_error(r)
    assert error["code"] == "upstream_error"
    request_id = r.headers["X-Request-Id"]
    assert error["message"] == ("The language model provider refused the "
                                f"request. Request id: {request_id}.")
    assert "5678" not in r.text and "overloaded" not in r.text.lower()
    failures = call_failures(stack, r)
    assert failures[0]["kind"] == "refused"
    assert failures[0]["provider"] == "anthropic"
    assert "HTTP 529" in failures[0]["detail"]
    assert "account org-5678 is busy" in failures[0]["detail"]


def test_an_error_event_mid_stream_ends_it(stack, anthropic, handbook_tenant):
    anthropic.reset(mode="error", error_message="Overloaded: org-5678")
    r = chat(stack, handbook_tenant.key, QUESTION, stream=True)
    assert r.status_code == 200
    events = list(sse_events(r))
    assert content_of(events) == "Vacation "
    assert "[DONE]" not in events
    assert events[-1]["error"]["code"] == "upstream_error"
    sent = json.dumps(events)
    assert "5678" not in sent and "overloaded" not in sent.lower()
    failures = call_failures(stack, r)
    assert failures[0]["kind"] == "broken"
    assert "Overloaded: org-5678 (overloaded_error)" in failures[0]["detail"]
    assert db_rows(stack, "SELECT status FROM llm_requests WHERE session_id = "
                          f"'{r.headers['X-Parley-Session-Id']}'",
                   tenant=handbook_tenant.id) == [["error"]]


def test_a_key_anthropic_refuses(stack, anthropic, handbook_tenant):
    anthropic.reset(api_key="sk-ant-another-key")
    r = chat(stack, handbook_tenant.key, QUESTION)
    assert r.status_code == 502
    assert r.json()["error"]["code"] == "upstream_error"
    failures = call_failures(stack, r)
    assert failures[0]["kind"] == "refused"
    assert "HTTP 401" in failures[0]["detail"]
    assert "authentication_error" in failures[0]["detail"]


def test_silent_upstream_times_out(stack, anthropic, handbook_tenant):
    time_out_on_a_silent_upstream(stack, handbook_tenant, anthropic)


def test_a_client_hanging_up_cancels_the_call(stack, anthropic, handbook_tenant):
    hang_up_after_first_token(stack, handbook_tenant, anthropic)
