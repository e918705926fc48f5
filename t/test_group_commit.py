"""Group commit (engine/src/store/commit_group.hpp): the turns that end while
another turn's transaction is committing are stored together in the next
transaction, each under its own tenant.  A turn whose rows cannot be stored
fails alone, with the explicit storage error: the turns it shared a
transaction with are stored, each tenant's rows stay its own, and none of the
failed turn's rows are kept."""

import os
import re
import subprocess
import time

import requests

from conftest import DATA, db_rows, make_tenant, open_stream
from parley_stack import PG_BIN

BLUEFIN = "What is the launch codename of Project Bluefin?"
GROUP_SAMPLE = re.compile(
    r'^parley_db_commit_group_writes_(bucket\{le="2"\}|count) (\S+)$', re.M)


class LockedUsage:
    """A session holding usage_daily locked, as a long transaction would:
    every turn's write waits behind it (each turn counts its usage)."""

    def __init__(self, stack):
        self.stack = stack
        env = dict(os.environ, PGPASSWORD=stack.secret_for("parley_owner"))
        self.psql = subprocess.Popen(
            [PG_BIN / "psql", "-h", stack.pg_dir, "-U", "parley_owner",
             "-d", "parley", "-qAtX", "-v", "ON_ERROR_STOP=1"],
            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.psql.stdin.write("BEGIN;\nLOCK TABLE usage_daily IN EXCLUSIVE MODE;\n"
                              "SELECT 'locked';\n")
        self.psql.stdin.flush()
        assert self.psql.stdout.readline().strip() == "locked"

    def waiting(self):
        """Transactions waiting for the lock."""
        return int(self.stack.psql(
            "SELECT count(*) FROM pg_locks WHERE NOT granted").strip())

    def release(self):
        self.psql.stdin.write("COMMIT;\n")
        self.psql.stdin.close()
        assert self.psql.wait(timeout=10) == 0


def commit_groups(stack):
    """Committed transactions of the group commit, and how many of them held
    more than two writes."""
    text = requests.get(f"{stack.url}/_parley/metrics", timeout=10).text
    found = dict(GROUP_SAMPLE.findall(text))
    count = float(found.get("count", 0))
    return count, count - float(found.get('bucket{le="2"}', 0))


def rest_of(stream):
    response, events = stream
    return response, list(events)


def stored(stack, tenant, response):
    """The turn of a streamed answer is stored whole, under its tenant (RLS
    shows a tenant its own rows only)."""
    session = response.headers["X-Parley-Session-Id"]
    return (db_rows(stack, "SELECT count(*) FROM messages WHERE "
                           f"session_id = '{session}'", tenant=tenant.id) == [["2"]]
            and db_rows(stack, "SELECT count(*) FROM llm_requests WHERE "
                               f"session_id = '{session}'", tenant=tenant.id) == [["1"]])


def test_turns_stored_together_keep_their_tenants_and_fail_alone(
        stack, unstorable_questions):
    # Writes go to lanes by tenant (two with the default pool): of the three
    # tenants whose turns are stored, two at least share a lane and a group.
    a, b, c, d = (make_tenant(stack, DATA / "tenant_a") for _ in range(4))
    # with a budget: its spend is settled in the shared transaction, last
    stack.parley("tenant", "update", "--slug", c.slug,
                 "--budget-tokens-day", "1000000", "--json")
    _, big_groups_before = commit_groups(stack)

    lock = LockedUsage(stack)
    try:
        # The first turn's transaction waits for the lock ...
        first = open_stream(stack, a, BLUEFIN)
        deadline = time.monotonic() + 20
        while lock.waiting() == 0:
            assert time.monotonic() < deadline, "the first turn never waited"
            time.sleep(0.05)
        # ... and the turns ending meanwhile queue for the next transaction
        # of their lane: tenants a, c and d in turn, and one of tenant b that
        # cannot be stored.
        queued = [(t, open_stream(stack, t, BLUEFIN)) for t in (a, c, d) * 3]
        unstorable = open_stream(stack, b, unstorable_questions)
        time.sleep(1)  # their answers end and their writes queue
    finally:
        lock.release()

    for tenant, stream in [(a, first)] + queued:
        response, events = rest_of(stream)
        assert events[-1] == "[DONE]", events[-3:]
        assert stored(stack, tenant, response)

    response, events = rest_of(unstorable)
    assert "[DONE]" not in events
    assert events[-1]["error"]["code"] == "storage_error"
    session = response.headers["X-Parley-Session-Id"]
    for tenant in (a, b, c, d):
        assert db_rows(stack, f"SELECT count(*) FROM sessions WHERE id = '{session}'",
                       tenant=tenant.id) == [["0"]]
    assert db_rows(stack, "SELECT count(*) FROM llm_requests", tenant=b.id) == [["0"]]

    # c's spend is what its calls used, settled under its own tenant
    used = db_rows(stack, "SELECT sum(prompt_tokens + completion_tokens) "
                          "FROM llm_requests", tenant=c.id)
    assert db_rows(stack, "SELECT day_tokens FROM tenant_spend",
                   tenant=c.id) == used

    # one transaction committed three writes or more, without b's
    _, big_groups = commit_groups(stack)
    assert big_groups > big_groups_before
