"""A mock OpenAI-compatible embeddings server speaking the real wire format.

POST /v1/embeddings takes {"model", "input": [texts], "encoding_format"} and
answers {"object": "list", "data": [{"object": "embedding", "index": i,
"embedding": [floats]}], "model", "usage"} as api.openai.com does. The items
come back in reverse order, each with its "index" (the format allows any
order; a client must place them by index).

Its "model" knows a few synonyms, so that it finds what a lexical search
cannot: "holiday", "leave" and "pto" mean "vacation". Words are hashed into
`dimensions` buckets; the vectors are deliberately left unnormalised.

Tests steer it through its attributes and read `requests` (what it received).
"""

import hashlib
import json
import re
import threading
import time
from http.server import ThreadingHTTPServer

from mock_upstream import StreamHandler

SYNONYMS = {"holiday": "vacation", "holidays": "vacation", "leave": "vacation",
            "pto": "vacation", "vacations": "vacation", "days": "day"}


def embed(text, dimensions):
    v = [0.0] * dimensions
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        word = SYNONYMS.get(word, word)
        h = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "big")
        v[h % dimensions] += 2.0 if (h >> 32) & 1 else 1.5
    return v


class MockEmbeddings:
    def __init__(self, dimensions=64):
        self.dimensions = dimensions
        self.requests = []          # (headers dict, parsed body)
        self.lock = threading.Lock()
        self.reset()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)

    def reset(self, status=200, delay=0.0, answer_dimensions=None):
        self.status = status            # an HTTP error status fails every request
        self.delay = delay              # seconds before each answer
        self.answer_dimensions = answer_dimensions  # a wrong length, if set
        with self.lock:
            self.requests.clear()

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def inputs(self):
        """Every text received, in order."""
        with self.lock:
            return [t for _, body in self.requests for t in body["input"]]

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        mock = self

        class Handler(StreamHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                with mock.lock:
                    mock.requests.append((dict(self.headers), body))
                time.sleep(mock.delay)
                if self.path != "/v1/embeddings":
                    return self._json(404, {"error": {
                        "message": "not found", "type": "invalid_request_error",
                        "code": "not_found"}})
                if mock.status != 200:
                    return self._json(mock.status, {"error": {
                        "message": "The embedding model is overloaded",
                        "type": "server_error", "code": "overloaded"}})
                inputs = body["input"]
                if isinstance(inputs, str):
                    inputs = [inputs]
                size = mock.answer_dimensions or mock.dimensions
                data = [{"object": "embedding", "index": i,
                         "embedding": embed(t, size)}
                        for i, t in enumerate(inputs)]
                tokens = sum(len(t.split()) for t in inputs)
                self._json(200, {"object": "list", "data": data[::-1],
                                 "model": body.get("model"),
                                 "usage": {"prompt_tokens": tokens,
                                           "total_tokens": tokens}})

        return Handler
