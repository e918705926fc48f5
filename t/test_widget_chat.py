"""The widget's chat on the engine (SPEC 4.1), called on its Unix socket with
the contexts the edge signs: a question starts its answer at once; the answer
streams as numbered events (token, citations, done, error) that a reconnect
with Last-Event-ID resumes with nothing lost or repeated; an answer nobody
listens to is cancelled upstream after the grace period; and the turn lands
in the conversation's history. The same pipeline as /v1/chat/completions:
one upstream call per question, one llm_requests row."""

import json
import socket
import time

import pytest

from conftest import (REPO, db_rows, engine_call, engine_through, make_tenant,
                      signed_context)

ORIGIN = "https://shop.example.com"
QUESTION = "How many vacation days do new employees get?"
GRACE_S = 2


@pytest.fixture(scope="module")
def widget_engine(stack, mock_upstream):
    """The engine answering through the mock upstream, with a short grace."""
    with engine_through(stack, mock_upstream,
                        PARLEY__WIDGET__STREAM_GRACE_S=str(GRACE_S),
                        PARLEY__LLM__HEARTBEAT_MS="300") as mock:
        yield mock


@pytest.fixture(scope="module")
def site(stack):
    t = make_tenant(stack, REPO / "demo" / "handbook")
    stack.parley("tenant", "update", "--slug", t.slug, "--allowed-origin",
                 ORIGIN, "--json")
    pk = stack.parley("key", "create", "--tenant", t.slug, "--kind",
                      "publishable", "--json")["key"]
    return t, pk


def new_session(stack, pk):
    status, _, payload = engine_call(
        stack, "POST", "/widget/v1/session",
        signed_context(stack, "edge", "public"),
        headers={"X-Parley-Site-Key": pk, "Origin": ORIGIN})
    assert status == 200, payload
    return json.loads(payload)["session_id"]


def widget_context(stack, tenant, session):
    return signed_context(stack, "widget", tenant.agent, tenant=tenant.id,
                          session=session)


def ask(stack, tenant, session, body):
    if not isinstance(body, dict):
        body = {"content": body}
    status, headers, payload = engine_call(
        stack, "POST", "/widget/v1/messages",
        widget_context(stack, tenant, session), body=body,
        headers={"Origin": ORIGIN})
    return status, headers, json.loads(payload)


class EventStream:
    """GET /widget/v1/streams/{id} read event by event off the socket."""

    def __init__(self, stack, tenant, session, stream_id, last_event_id=None):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(20)
        self.sock.connect(str(stack.engine_socket))
        head = [f"GET /widget/v1/streams/{stream_id} HTTP/1.1", "Host: engine",
                "Connection: close",
                f"X-Parley-Context: {widget_context(stack, tenant, session)}"]
        if last_event_id is not None:
            head.append(f"Last-Event-ID: {last_event_id}")
        self.sock.sendall("\r\n".join(head).encode() + b"\r\n\r\n")
        self.raw = b""
        self.text = ""
        self.status = None
        self.ended = False

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            self.ended = True
        self.raw += data
        if self.status is None and b"\r\n\r\n" in self.raw:
            head, _, self.raw = self.raw.partition(b"\r\n\r\n")
            self.status = int(head.split()[1])
        while self.status is not None and b"\r\n" in self.raw:
            size_line, _, rest = self.raw.partition(b"\r\n")
            size = int(size_line, 16)
            if len(rest) < size + 2:
                break
            self.text += rest[:size].decode()
            self.raw = rest[size + 2:]

    def next_event(self):
        """(id, event, data) of the next event; None at the stream's end."""
        while True:
            while "\n\n" in self.text:
                block, _, self.text = self.text.partition("\n\n")
                fields = dict(line.split(": ", 1) for line in block.split("\n")
                              if not line.startswith(":"))
                if "event" in fields:
                    return (int(fields["id"]), fields["event"],
                            json.loads(fields["data"]))
            if self.ended:
                return None
            self._fill()

    def events(self, limit=None):
        out = []
        while limit is None or len(out) < limit:
            e = self.next_event()
            if e is None:
                break
            out.append(e)
        return out

    def close(self):
        self.sock.close()


def answer_text(events):
    return "".join(data["delta"] for _, kind, data in events if kind == "token")


def test_a_question_streams_its_cited_answer_and_lands_in_history(
        stack, widget_engine, site):
    mock = widget_engine
    mock.reset()
    tenant, pk = site
    session = new_session(stack, pk)
    status, headers, posted = ask(stack, tenant, session, QUESTION)
    assert status == 202, posted
    assert headers["cache-control"] == "no-store"
    stream = EventStream(stack, tenant, session, posted["stream_id"])
    events = stream.events()
    assert stream.status == 200
    ids = [i for i, _, _ in events]
    assert ids == list(range(1, len(ids) + 1))
    kinds = [k for _, k, _ in events]
    assert kinds[-2:] == ["citations", "done"]
    assert answer_text(events) == "".join(mock.script.tokens)
    citations = events[-2][2]
    assert citations and citations[0]["index"] == 1 and citations[0]["title"]
    done = events[-1][2]
    assert done["usage"]["completion_tokens"] == 5
    assert len(mock.requests) == 1
    # the prompt stays server-side: the upstream got the grounded prompt
    assert mock.requests[0][1]["messages"][-1]["content"].endswith(QUESTION)

    status, _, history = engine_call(stack, "GET", "/widget/v1/history",
                                     widget_context(stack, tenant, session))
    messages = json.loads(history)["messages"]
    assert [(m["id"], m["role"]) for m in messages] == [
        (posted["message_id"], "user"), (done["message_id"], "assistant")]
    assert messages[1]["content"] == "".join(mock.script.tokens)
    assert messages[1]["citations"] == citations
    rows = db_rows(stack, "SELECT status FROM llm_requests l JOIN messages m "
                          "ON m.id = l.message_id WHERE m.session_id = "
                          f"'{session}'", tenant=tenant.id)
    assert rows == [["ok"]]
    # the stream id is a credential: the engine's log never shows it
    log = (stack.log_dir / "engine.log").read_text()
    assert posted["stream_id"] not in log
    assert '"path":"/widget/v1/streams/{stream_id}"' in log


def test_a_reconnect_resumes_after_the_last_event_seen(stack, widget_engine,
                                                        site):
    mock = widget_engine
    mock.reset(delay=0.2)
    tenant, pk = site
    session = new_session(stack, pk)
    _, _, posted = ask(stack, tenant, session, QUESTION)
    first = EventStream(stack, tenant, session, posted["stream_id"])
    seen = first.events(limit=2)
    first.close()  # the connection drops mid-answer
    assert [i for i, _, _ in seen] == [1, 2]
    again = EventStream(stack, tenant, session, posted["stream_id"],
                        last_event_id=2)
    rest = again.events()
    ids = [i for i, _, _ in seen + rest]
    assert ids == list(range(1, len(ids) + 1))
    assert answer_text(seen + rest) == "".join(mock.script.tokens)
    assert rest[-1][1] == "done"
    assert len(mock.requests) == 1  # resumed, not asked again


def test_an_answer_nobody_reads_is_cancelled_after_the_grace_period(
        stack, widget_engine, site):
    mock = widget_engine
    mock.reset(tokens=["word "] * 60, delay=0.2)  # 12 s of answer
    tenant, pk = site
    session = new_session(stack, pk)
    status, _, posted = ask(stack, tenant, session, QUESTION)
    assert status == 202
    assert mock.cancelled.wait(GRACE_S + 8), "the upstream call went on"
    assert not mock.finished.is_set()

    def row():
        return db_rows(stack, "SELECT status, usage_estimated FROM llm_requests"
                              " l JOIN messages m ON m.id = l.message_id "
                              f"WHERE m.session_id = '{session}'",
                       tenant=tenant.id)
    deadline = time.monotonic() + 5
    while not row() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert row() == [["cancelled", "t"]]


def test_a_session_has_one_answer_generating_at_a_time(stack, widget_engine,
                                                      site):
    mock = widget_engine
    mock.reset(mode="gated")
    tenant, pk = site
    session = new_session(stack, pk)
    status, _, first = ask(stack, tenant, session, QUESTION)
    assert status == 202
    assert mock.first_token_sent.wait(10)
    status, _, second = ask(stack, tenant, session, "And sick days?")
    assert status == 409
    assert second["error"]["code"] == "generation_in_progress"
    # another session of the same visitor's site is not held up
    other = new_session(stack, pk)
    mock.gate.set()
    stream = EventStream(stack, tenant, session, first["stream_id"])
    assert stream.events()[-1][1] == "done"
    mock.reset()
    status, _, posted = ask(stack, tenant, other, QUESTION)
    assert status == 202
    assert EventStream(stack, tenant, other,
                       posted["stream_id"]).events()[-1][1] == "done"


@pytest.mark.parametrize("body,code", [
    ({}, "invalid_field"),
    ({"content": ""}, "invalid_field"),
    ({"content": "  \n"}, "invalid_field"),
    ({"content": 42}, "invalid_field"),
    ({"content": "hi", "role": "system"}, "unknown_field"),
    ({"content": "x" * 4001}, "invalid_field"),
    ({"content": "a\u0000b"}, "invalid_content"),
])
def test_bad_questions_are_refused_and_change_nothing(stack, widget_engine,
                                                      site, body, code):
    mock = widget_engine
    mock.reset()
    tenant, pk = site
    session = new_session(stack, pk)
    status, _, answer = ask(stack, tenant, session, body)
    assert status == 400 and answer["error"]["code"] == code
    assert db_rows(stack, "SELECT count(*) FROM messages WHERE session_id = "
                          f"'{session}'", tenant=tenant.id) == [["0"]]
    assert mock.requests == []


def test_a_stream_is_only_its_own_sessions(stack, widget_engine, site):
    mock = widget_engine
    mock.reset()
    tenant, pk = site
    session, other = new_session(stack, pk), new_session(stack, pk)
    _, _, posted = ask(stack, tenant, session, QUESTION)
    stranger = EventStream(stack, tenant, other, posted["stream_id"])
    assert stranger.events() == [] and stranger.status == 404
    made_up = EventStream(stack, tenant, session, posted["stream_id"][:-2] + "AA")
    assert made_up.events() == [] and made_up.status == 404
    own = EventStream(stack, tenant, session, posted["stream_id"])
    assert own.events()[-1][1] == "done"


def test_an_ended_session_cannot_ask(stack, widget_engine, site):
    tenant, pk = site
    status, _, answer = ask(stack, tenant, "0b6a3f1e-3a43-4b4e-9a2e-0d6f1f6a4e11",
                            QUESTION)
    assert status == 404 and answer["error"]["code"] == "session_not_found"


def test_an_idle_stream_sends_heartbeats(stack, widget_engine, site):
    """Before the first token (a slow model) the stream pings, so that no
    proxy on the way takes it for dead."""
    mock = widget_engine
    mock.reset(mode="silent")
    tenant, pk = site
    session = new_session(stack, pk)
    _, _, posted = ask(stack, tenant, session, QUESTION)
    stream = EventStream(stack, tenant, session, posted["stream_id"])
    deadline = time.monotonic() + 5
    while stream.text.count(": ping") < 2 and time.monotonic() < deadline:
        stream._fill()
    assert stream.status == 200 and stream.text.count(": ping") >= 2
    stream.close()
    mock.gate.set()


def the_only_event_is_an_error(stack, tenant):
    """A visitor's question on the tenant's site whose answer is one error
    event: that event's data."""
    pk = stack.parley("key", "create", "--tenant", tenant.slug, "--kind",
                      "publishable", "--json")["key"]
    session = new_session(stack, pk)
    status, _, posted = ask(stack, tenant, session, QUESTION)
    assert status == 202, posted
    events = EventStream(stack, tenant, session, posted["stream_id"]).events()
    assert [kind for _, kind, _ in events] == ["error"]
    return events[0][2]


def test_a_tenant_over_its_budget_ends_the_answer_with_insufficient_quota(
        stack, widget_engine):
    widget_engine.reset()
    tenant = make_tenant(stack, REPO / "demo" / "handbook")
    stack.parley("tenant", "update", "--slug", tenant.slug, "--allowed-origin",
                 ORIGIN, "--budget-tokens-day", "10", "--json")
    error = the_only_event_is_an_error(stack, tenant)
    assert error["code"] == "insufficient_quota"
    assert "daily token budget" in error["message"]
    assert widget_engine.requests == []


def test_a_tenant_credential_that_cannot_be_used_is_not_explained_to_visitors(
        stack, widget_engine):
    """What the operator must fix about a tenant's provider key is in the
    API's errors and the engine's log; a visitor reads that the assistant is
    unavailable, and the operator's key is not used instead."""
    widget_engine.reset()
    tenant = make_tenant(stack, REPO / "demo" / "handbook")
    stack.parley("tenant", "update", "--slug", tenant.slug, "--allowed-origin",
                 ORIGIN, "--json")
    stack.parley("credential", "set", "--tenant", tenant.slug, "--provider",
                 "openai", "--json", input="sk-tenant-widget-0123456789\n")
    # its master key has left the ring
    stack.psql("UPDATE provider_credentials SET key_id = 'retired' "
               f"WHERE tenant_id = '{tenant.id}'", db="parley")
    error = the_only_event_is_an_error(stack, tenant)
    assert error["code"] == "assistant_unavailable"
    assert error["message"].startswith("The assistant is unavailable right now.")
    assert "credential" not in error["message"]
    assert widget_engine.requests == []
