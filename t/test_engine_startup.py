"""serve fails closed at start-up: it refuses a database role that could
bypass row-level security, and when PostgreSQL cannot be reached yet it
serves no tenant route until that check has passed (/healthz answers,
/readyz and tenant routes say 503 not_ready), asking again with a backoff.
A privileged role found on a later attempt still ends the process with a
non-zero status.

Each test starts its own engine on its own socket, pointed at the stack's
PostgreSQL through a TCP port that the test opens when it wants the database
"back": a relay to PostgreSQL's Unix socket (the cluster listens on no TCP
port)."""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from conftest import engine_call, log_events, signed_context
from parley_stack import free_port

QUESTION = {"model": "support", "messages": [
    {"role": "user", "content": "What is the launch codename?"}]}


class PostgresRelay:
    """127.0.0.1:port -> PostgreSQL's Unix socket, once started."""

    def __init__(self, port, target):
        self.port, self.target = port, str(target)
        self.listener = None
        self.sockets = []

    def start(self):
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self):
        for s in [self.listener] + self.sockets:
            if s is not None:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b),
                                 daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass


class Engine:
    """A second `parley serve` with the stack's secrets and its own socket,
    log and database DSN."""

    def __init__(self, stack, dsn, env=None):
        self.dir = Path(tempfile.mkdtemp(prefix="pe-"))
        self.socket = self.dir / "engine.sock"
        self.log = self.dir / "engine.log"
        config = json.loads(stack.config.read_text())
        config["server"]["socket"] = str(self.socket)
        config["database"]["dsn"] = dsn
        config["logging"]["file"] = str(self.log)
        self.config = self.dir / "parley.yaml"
        self.config.write_text(json.dumps(config))
        self.stack = stack
        full_env = {k: v for k, v in os.environ.items() if k != "PGPASSWORD"}
        full_env.update(env or {}, PARLEY_CONFIG=str(self.config))
        self.proc = subprocess.Popen(
            [str(stack.parley_bin), "serve"], env=full_env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            stdin=subprocess.DEVNULL, start_new_session=True)

    def call(self, method, path, context=None, body=None):
        return engine_call(self.stack, method, path, context, body=body,
                           socket_path=self.socket)

    def wait_listening(self, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.proc.communicate()
            if self.socket.exists():
                try:
                    return self.call("GET", "/healthz")
                except OSError:
                    pass
            time.sleep(0.05)
        raise AssertionError("the engine did not open its socket")

    def events(self, name):
        return log_events(self.log, name)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def app_dsn(stack, port):
    return (f"host=127.0.0.1 port={port} dbname=parley user=parley_app "
            f"passfile={stack.secrets / 'pgpass'} connect_timeout=3")


def superuser_dsn(host, port=None):
    return (f"host={host} {f'port={port} ' if port else ''}dbname=parley "
            "user=postgres connect_timeout=3")


def pg_socket(stack):
    return stack.pg_dir / ".s.PGSQL.5432"


def error_code(payload):
    return json.loads(payload)["error"]["code"]


def wait_until(what, predicate, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def assert_not_ready(stack, engine, tenant):
    status, _, payload = engine.call("GET", "/healthz")
    assert status == 200, payload
    status, _, payload = engine.call("GET", "/readyz")
    assert status == 503 and error_code(payload) == "not_ready", payload
    for method, path, context, body in (
            ("POST", "/v1/chat/completions",
             signed_context(stack, "key", tenant.key_id, tenant.id), QUESTION),
            ("GET", "/v1/models",
             signed_context(stack, "key", tenant.key_id, tenant.id), None),
            ("GET", "/admin/v1/tenants",
             signed_context(stack, "admin", "token"), None),
            ("GET", "/internal/v1/introspect?key_hash=" + "0" * 64,
             signed_context(stack, "edge", "introspect"), None)):
        status, headers, payload = engine.call(method, path, context,
                                               body=body)
        assert status == 503, (path, payload)
        assert headers["content-type"] == "application/json"
        error = json.loads(payload)["error"]
        assert (error["type"], error["code"]) == ("server_error", "not_ready")
    # still no way in without a valid context
    status, _, _ = engine.call("POST", "/v1/chat/completions", None,
                               body=QUESTION)
    assert status == 401


def test_tenant_routes_wait_until_the_database_role_is_checked(stack, tenant_a):
    port = free_port()
    engine = Engine(stack, app_dsn(stack, port))
    relay = PostgresRelay(port, pg_socket(stack))
    try:
        engine.wait_listening()
        assert_not_ready(stack, engine, tenant_a)
        wait_until("a retry", lambda: len(engine.events("database_unavailable")) >= 2)
        assert_not_ready(stack, engine, tenant_a)

        relay.start()
        wait_until("readiness", lambda: engine.call("GET", "/readyz")[0] == 200)
        assert engine.events("database_role_checked")
        context = signed_context(stack, "key", tenant_a.key_id, tenant_a.id)
        status, _, payload = engine.call("POST", "/v1/chat/completions",
                                         context, body=QUESTION)
        assert status == 200, payload
        assert "ZEPHYR-7781" in payload
        assert engine.proc.poll() is None
    finally:
        engine.stop()
        relay.stop()


def test_a_privileged_role_stops_serve_before_it_listens(stack):
    engine = Engine(stack, superuser_dsn(stack.pg_dir),
                    env={"PGPASSWORD": stack.secret("pg-superuser")})
    try:
        _, err = engine.proc.communicate(timeout=20)
        assert engine.proc.returncode != 0
        assert "superuser" in err and "parley_app" in err, err
        assert not engine.socket.exists()
    finally:
        engine.stop()


def test_a_privileged_role_found_after_a_retry_stops_serve(stack, tenant_a):
    port = free_port()
    engine = Engine(stack, superuser_dsn("127.0.0.1", port),
                    env={"PGPASSWORD": stack.secret("pg-superuser")})
    relay = PostgresRelay(port, pg_socket(stack))
    try:
        engine.wait_listening()
        assert_not_ready(stack, engine, tenant_a)
        relay.start()
        _, err = engine.proc.communicate(timeout=30)
        assert engine.proc.returncode != 0
        assert "superuser" in err and "parley_app" in err, err
        [event] = engine.events("unsafe_database_role")
        assert event["level"] == "error"
        assert not engine.events("database_role_checked")
    finally:
        engine.stop()
        relay.stop()
