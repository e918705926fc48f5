"""`nginx -s reload` while streams are open drops none of them (SPEC 3.6):
the old workers finish the streams they carry, the new ones take new
requests, and the shared-memory zones keep their state."""

import time

from conftest import REPO, chat, make_tenant, open_stream

QUESTION = "How many vacation days do new employees get?"
STREAMS = 6


def content_of(events):
    return "".join(e["choices"][0]["delta"].get("content") or ""
                   for e in events if isinstance(e, dict) and e.get("choices"))


def nginx_workers(stack):
    master = int((stack.nginx_dir / "nginx.pid").read_text())
    children = open(f"/proc/{master}/task/{master}/children").read().split()
    return set(children)


def test_streams_opened_before_a_reload_all_finish_intact(stack, openai_engine):
    tenant = make_tenant(stack, REPO / "demo" / "handbook")
    openai_engine.reset(mode="gated")
    streams = [open_stream(stack, tenant) for _ in range(STREAMS)]
    # every stream now waits in the middle of its answer
    before = nginx_workers(stack)
    stack.reload_nginx()
    deadline = time.monotonic() + 10
    while not (nginx_workers(stack) - before) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert nginx_workers(stack) - before, "the reload started new workers"
    openai_engine.gate.set()
    for _, events in streams:
        rest = list(events)
        assert rest[-1] == "[DONE]"
        # the first token was read before the reload; the rest comes now
        assert content_of(rest) == "is twenty days [1]."
    # the new workers serve the same tenant with the cached key
    openai_engine.reset()
    after = chat(stack, tenant.key, QUESTION)
    assert after.status_code == 200
    assert after.json()["choices"][0]["message"]["content"] == \
        "Vacation is twenty days [1]."
