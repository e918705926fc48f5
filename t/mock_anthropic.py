"""A mock of Anthropic's Messages API speaking its documented wire format.

POST /v1/messages checks what api.anthropic.com checks first: the
`x-api-key` header (401 `authentication_error` when it is missing or not
the expected key) and the `anthropic-version` header (400
`invalid_request_error` when it is missing), then the body: `model`, an
integer `max_tokens`, `messages` alternating user and assistant from a user
message, no `system` role among them (the system prompt is a top-level
field).

With `"stream": true` it answers an HTTP/1.1 chunked `text/event-stream` of
named events, as documented: `message_start` (with the prompt's usage,
cache tokens included), `content_block_start`, a `ping`, then a
`content_block_delta` (`text_delta`) per token with a `ping` between,
`content_block_stop`, `message_delta` (stop reason, output tokens) and
`message_stop`. Errors have Anthropic's shape,
`{"type": "error", "error": {"type": ..., "message": ...}}`: as an HTTP
answer (529 `overloaded_error`) or as an `error` event mid-stream.

Tests steer it through `script` and read what it received in `requests`,
like mock_upstream.MockUpstream, whose gate and events it shares.
"""

import json

from mock_upstream import MockUpstream, StreamHandler

API_KEY = "sk-ant-test-0123456789"


class AnthropicScript:
    def __init__(self):
        self.tokens = ["Vacation ", "is ", "twenty ", "days ", "[1]."]
        # ok | gated (hold after the first token) | overloaded (HTTP 529) |
        # error (an error event after the first token) | silent
        self.mode = "ok"
        self.api_key = API_KEY          # the key it accepts
        self.error_type = "overloaded_error"
        self.error_message = "Overloaded"
        self.stop_reason = "end_turn"
        self.usage = {"input_tokens": 300, "cache_creation_input_tokens": 15,
                      "cache_read_input_tokens": 6, "output_tokens": 5}


def error_body(kind, message):
    return {"type": "error", "error": {"type": kind, "message": message}}


def body_problem(body):
    """What the Messages API would refuse in `body`, or None."""
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model: Field required"
    if not isinstance(body.get("max_tokens"), int):
        return "max_tokens: Field required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    for i, m in enumerate(messages):
        if m.get("role") not in ("user", "assistant"):
            return (f"messages.{i}.role: Input should be 'user' or "
                    "'assistant'")
        if not m.get("content"):
            return f"messages.{i}: text content blocks must be non-empty"
        expected = "user" if i % 2 == 0 else "assistant"
        if m["role"] != expected:
            return ("messages: roles must alternate between \"user\" and "
                    "\"assistant\", starting with \"user\"")
    if "system" in body and not isinstance(body["system"], (str, list)):
        return "system: Input should be a valid string"
    return None


class MockAnthropic(MockUpstream):
    script_class = AnthropicScript

    def _handler(self):
        mock = self

        class Handler(StreamHandler):
            def do_POST(self):
                body = self._read_json()
                s = mock.script
                if self.path != "/v1/messages":
                    return self._json(404, error_body(
                        "not_found_error", "Not found"))
                if self.headers.get("x-api-key") != s.api_key:
                    return self._json(401, error_body(
                        "authentication_error", "invalid x-api-key"))
                if not self.headers.get("anthropic-version"):
                    return self._json(400, error_body(
                        "invalid_request_error",
                        "anthropic-version: header is required"))
                problem = body_problem(body)
                if problem:
                    return self._json(400, error_body(
                        "invalid_request_error", problem))
                if s.mode == "overloaded":
                    return self._json(529, error_body(
                        "overloaded_error", s.error_message))
                self._answer(body, self._message)

            def _message(self, body):
                s = mock.script
                return {"id": "msg_mock", "type": "message",
                        "role": "assistant", "model": body["model"],
                        "content": [{"type": "text",
                                     "text": "".join(s.tokens)}],
                        "stop_reason": s.stop_reason, "stop_sequence": None,
                        "usage": s.usage}

            def _event(self, kind, data):
                self._send(f"event: {kind}\ndata: ".encode()
                           + json.dumps(data).encode() + b"\n\n")

            def _ping(self):
                self._event("ping", {"type": "ping"})

            def _stream(self, body, s):
                self._stream_head()
                if s.mode == "silent":
                    mock.gate.wait(60)
                    return
                start_usage = dict(s.usage, output_tokens=1)
                self._event("message_start", {
                    "type": "message_start",
                    "message": dict(self._message(body), content=[],
                                    stop_reason=None, usage=start_usage)})
                self._event("content_block_start", {
                    "type": "content_block_start", "index": 0,
                    "content_block": {"type": "text", "text": ""}})
                self._ping()
                for i, token in enumerate(s.tokens):
                    self._event("content_block_delta", {
                        "type": "content_block_delta", "index": 0,
                        "delta": {"type": "text_delta", "text": token}})
                    self._ping()
                    if i == 0:
                        mock.first_token_sent.set()
                        if s.mode == "gated":
                            mock.gate.wait(30)
                        if s.mode == "error":
                            self._event("error", error_body(
                                s.error_type, s.error_message))
                            self._send(b"")
                            return
                self._event("content_block_stop",
                            {"type": "content_block_stop", "index": 0})
                self._event("message_delta", {
                    "type": "message_delta",
                    "delta": {"stop_reason": s.stop_reason,
                              "stop_sequence": None},
                    "usage": {"output_tokens": s.usage["output_tokens"]}})
                self._event("message_stop", {"type": "message_stop"})
                self._send(b"")
                mock.finished.set()

        Handler.mock = mock
        return Handler

