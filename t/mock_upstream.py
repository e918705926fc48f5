"""A mock OpenAI-compatible upstream speaking the real wire format.

POST /v1/chat/completions answers like api.openai.com does: with
`"stream": true` an HTTP/1.1 chunked `text/event-stream` of
`chat.completion.chunk` objects, a usage chunk with empty `choices` when
`stream_options.include_usage` is set, then `data: [DONE]`.

Tests steer it through `script` (what the next answers do) and read what it
received through `requests`. A gate lets a test hold the stream after the
first token, to prove that tokens reach the client while the upstream is
still sending.
"""

import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Script:
    def __init__(self):
        self.tokens = ["Vacation ", "is ", "twenty ", "days ", "[1]."]
        self.mode = "ok"          # ok | gated | http_error | drop | silent
        self.status = 500         # for http_error
        self.error_message = "The upstream is overloaded"  # for http_error
        self.delay = 0.0          # seconds between tokens
        self.usage = {"prompt_tokens": 321, "completion_tokens": 5,
                      "total_tokens": 326}
        # bearer keys answered with 401, quoting the key as OpenAI's
        # "Incorrect API key provided" does
        self.rejected_keys = ()


class StreamHandler(BaseHTTPRequestHandler):
    """What the mock upstreams' handlers share: HTTP/1.1, quiet, JSON
    answers, and a chunked event stream that notes a caller hanging up."""
    protocol_version = "HTTP/1.1"
    mock = None  # the mock this handler serves, set by its subclass

    def log_message(self, *args):
        pass

    def _read_json(self):
        """The request's JSON body, recorded with its headers."""
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        self.mock.requests.append((dict(self.headers), body))
        return body

    def _json(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _answer(self, body, whole):
        """A 200: `whole(body)` as JSON, or the mock's `_stream` when the
        request asks for a stream."""
        if not body.get("stream"):
            return self._json(200, whole(body))
        try:
            self._stream(body, self.mock.script)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the caller hung up: recorded

    def _stream_head(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _send(self, raw):
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(raw), raw))
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.mock.cancelled.set()
            raise

    def _drop(self):
        """The connection dies mid-stream."""
        self.close_connection = True
        self.wfile.flush()
        self.connection.shutdown(2)


class MockUpstream:
    script_class = Script

    def __init__(self, tls=None):
        """tls: (certificate file, key file) to speak HTTPS."""
        self.script = self.script_class()
        self.requests = []         # (headers dict, parsed body)
        self.gate = threading.Event()
        self.first_token_sent = threading.Event()
        self.finished = threading.Event()
        self.cancelled = threading.Event()  # the caller hung up mid-answer
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.scheme = "http"
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            # a failed handshake fails that accept only, not the server
            self.server.socket = context.wrap_socket(self.server.socket,
                                                     server_side=True)
            self.scheme = "https"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)

    @property
    def base_url(self):
        return (f"{self.scheme}://127.0.0.1:"
                f"{self.server.server_address[1]}/v1")

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()

    def reset(self, **script):
        self.script = self.script_class()
        for k, v in script.items():
            setattr(self.script, k, v)
        self.requests.clear()
        self.gate.clear()
        self.first_token_sent.clear()
        self.finished.clear()
        self.cancelled.clear()

    def _handler(self):
        mock = self

        class Handler(StreamHandler):
            def do_POST(self):
                body = self._read_json()
                if self.path != "/v1/chat/completions":
                    return self._json(404, {"error": {
                        "message": "not found", "type": "invalid_request_error",
                        "code": "not_found"}})
                s = mock.script
                key = self.headers.get("Authorization", "").removeprefix(
                    "Bearer ")
                if key in s.rejected_keys:
                    return self._json(401, {"error": {
                        "message": f"Incorrect API key provided: {key}.",
                        "type": "invalid_request_error",
                        "code": "invalid_api_key"}})
                if s.mode == "http_error":
                    return self._json(s.status, {"error": {
                        "message": s.error_message,
                        "type": "server_error", "code": "overloaded"}})
                self._answer(body, self._completion)

            def _completion(self, body):
                s = mock.script
                return {"id": "chatcmpl-mock", "object": "chat.completion",
                        "created": int(time.time()), "model": body.get("model"),
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant",
                                                 "content": "".join(s.tokens)}}],
                        "usage": s.usage}

            def _chunk(self, body, delta, finish=None):
                return {"id": "chatcmpl-mock", "object": "chat.completion.chunk",
                        "created": int(time.time()), "model": body.get("model"),
                        "choices": [{"index": 0, "delta": delta,
                                     "finish_reason": finish}]}

            def _event(self, obj):
                self._send(b"data: " + json.dumps(obj).encode() + b"\n\n")

            def _stream(self, body, s):
                self._stream_head()
                if s.mode == "silent":
                    mock.gate.wait(60)
                    return
                self._event(self._chunk(body, {"role": "assistant",
                                               "content": ""}))
                for i, token in enumerate(s.tokens):
                    self._event(self._chunk(body, {"content": token}))
                    if i == 0:
                        mock.first_token_sent.set()
                        if s.mode == "gated":
                            mock.gate.wait(30)
                        if s.mode == "drop":
                            return self._drop()
                    time.sleep(s.delay)
                self._event(self._chunk(body, {}, "stop"))
                if body.get("stream_options", {}).get("include_usage"):
                    self._event({"id": "chatcmpl-mock",
                                 "object": "chat.completion.chunk",
                                 "created": int(time.time()),
                                 "model": body.get("model"), "choices": [],
                                 "usage": s.usage})
                self._send(b"data: [DONE]\n\n")
                self._send(b"")
                mock.finished.set()

        Handler.mock = mock
        return Handler
