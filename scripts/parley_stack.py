#!/usr/bin/env python3
"""A complete local Parley stack: PostgreSQL, the engine and nginx with the module.

One implementation serves both `make demo` (the stack lives in var/) and the
integration tests (each session gets its own stack in a temporary directory
on free ports), so what the tests run is what the demo runs.

    parley_stack.py up   --dir var --port 8080 [--demo]
    parley_stack.py down --dir var
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")
NGINX = "/usr/sbin/nginx"
IS_ROOT = os.geteuid() == 0

# The operator paths used in conf.examples/parley-http.conf, replaced by the
# stack's own when the stack renders its nginx.conf from that file.
EXAMPLE_ENGINE_SOCKET = "/run/parley/engine.sock"
EXAMPLE_EDGE_SECRET = "/etc/parley/edge.secret"
EXAMPLE_ADMIN_TOKEN = "/etc/parley/admin.token"
EXAMPLE_WIDGET_KEYS = "/etc/parley/widget.keys"


class StackError(RuntimeError):
    pass


def wait_for(what, predicate, timeout=30.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise StackError(f"timed out waiting for {what}")


def port_open(port):
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def unix_http_ok(path, target="/healthz"):
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(1)
            s.connect(str(path))
            s.sendall(f"GET {target} HTTP/1.1\r\nHost: engine\r\n"
                      "Connection: close\r\n\r\n".encode())
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_secret(path, value):
    path.write_text(value + "\n")
    path.chmod(0o600)


class Stack:
    """Paths, processes and CLI of one stack rooted at `root`."""

    def __init__(self, root, port, build=REPO / "build", edge_overrides=None):
        self.root = Path(root).resolve()
        self.port = port
        self.build = Path(build).resolve()
        self.parley_bin = self.build / "parley"
        self.module_so = self.build / "ngx_http_parley_module.so"
        # directive -> value, replacing the examples' values (tests use short
        # TTLs and small limits so that they run in seconds)
        self.edge_overrides = edge_overrides or {}
        # more of nginx's http { } block, after the stack's server (the edge
        # benchmark adds its own servers there)
        self.extra_http = ""
        # nginx's workers (the edge benchmark runs one, pinned to a CPU)
        self.worker_processes = 2
        self.worker_cpu_affinity = None
        # connections per worker, and more of nginx's main context (the
        # engine benchmark holds thousands of streams: it raises both, with
        # worker_rlimit_nofile)
        self.worker_connections = 4096
        self.main_directives = ""
        self.secrets = self.root / "secrets"
        self.pg_dir = self.root / "pg"
        self.run_dir = self.root / "run"
        self.log_dir = self.root / "log"
        self.nginx_dir = self.root / "nginx"
        self.config = self.root / "parley.yaml"
        self.engine_socket = self.run_dir / "engine.sock"
        self.engine_log = self.log_dir / "engine.log"
        self.engine_env = {}
        self.engine_proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    # -- lifecycle ---------------------------------------------------------

    def up(self):
        self.down()
        for d in (self.root, self.secrets, self.run_dir, self.log_dir,
                  self.nginx_dir):
            d.mkdir(parents=True, exist_ok=True)
        # postgres and nginx's workers run as other users: they must reach
        # their files (each file keeps its own tight mode)
        self.root.chmod(0o755)
        self.secrets.chmod(0o700)
        try:
            self._make_secrets()
            self._start_postgres()
            self._write_engine_config()
            self.parley("migrate", dsn_role="owner")
            self.start_engine()
            self._start_nginx()
        except BaseException:
            # never leave half a stack running behind a failed start
            self.down()
            raise

    def down(self):
        self._stop_pidfile(self.nginx_dir / "nginx.pid", signal.SIGQUIT)
        self.stop_engine()
        if (self.pg_dir / "data" / "postmaster.pid").exists():
            self._as_postgres([PG_BIN / "pg_ctl", "-D", self.pg_dir / "data",
                               "-m", "fast", "-w", "stop"], check=False)

    # -- secrets -------------------------------------------------------------

    def _make_secrets(self):
        for name, value in (
                ("edge.secret", secrets.token_urlsafe(48)),
                ("admin.token", secrets.token_urlsafe(32)),
                # the widget key ring: "<kid> <secret>" lines, the engine
                # signs with the last one
                ("widget.keys", f"w{secrets.token_hex(4)} "
                                f"{secrets.token_urlsafe(48)}"),
                # the master key ring that seals tenants' provider
                # credentials: the same "<kid> <secret>" lines
                ("master.keys", f"m{secrets.token_hex(4)} "
                                f"{secrets.token_urlsafe(48)}"),
                ("pg-superuser", secrets.token_urlsafe(24)),
                ("pg-owner", secrets.token_urlsafe(24)),
                ("pg-app", secrets.token_urlsafe(24)),
                ("pg-reporting", secrets.token_urlsafe(24))):
            path = self.secrets / name
            if not path.exists():
                write_secret(path, value)
        pgpass = self.secrets / "pgpass"
        lines = [f"*:*:*:parley_owner:{self.secret('pg-owner')}",
                 f"*:*:*:parley_app:{self.secret('pg-app')}",
                 f"*:*:*:parley_reporting:{self.secret('pg-reporting')}"]
        write_secret(pgpass, "\n".join(lines))

    def secret(self, name):
        return (self.secrets / name).read_text().strip()

    # -- PostgreSQL ----------------------------------------------------------

    def _as_postgres(self, argv, check=True, **kw):
        argv = [str(a) for a in argv]
        if IS_ROOT:
            argv = ["runuser", "-u", "postgres", "--"] + argv
        return subprocess.run(argv, check=check, capture_output=True,
                              text=True, **kw)

    def _start_postgres(self):
        data = self.pg_dir / "data"
        self.pg_dir.mkdir(exist_ok=True)
        if IS_ROOT:
            shutil.chown(self.pg_dir, user="postgres", group="postgres")
        if not (data / "PG_VERSION").exists():
            # initdb reads the password from a file its own user can open
            pwfile = self.pg_dir / "initdb.pw"
            write_secret(pwfile, self.secret("pg-superuser"))
            if IS_ROOT:
                shutil.chown(pwfile, user="postgres")
            try:
                self._as_postgres([PG_BIN / "initdb", "-D", data,
                                   "-U", "postgres", "--pwfile", pwfile,
                                   "--auth-local=scram-sha-256",
                                   "--auth-host=scram-sha-256",
                                   "-E", "UTF8", "--locale=C.UTF-8"])
            finally:
                pwfile.unlink()
        log = self.log_dir / "postgres.log"
        log.touch()
        if IS_ROOT:
            shutil.chown(log, user="postgres")
        # Unix socket only, in the stack's own directory: no port to collide
        self._as_postgres([PG_BIN / "pg_ctl", "-D", data, "-l", log, "-w",
                           "-o", f"-k {self.pg_dir} -c listen_addresses=''",
                           "start"])
        self._bootstrap_database()

    def psql(self, sql, user="postgres", db="postgres"):
        return self.psql_session([sql], user=user, db=db)

    def psql_session(self, statements, user="parley_owner", db="parley"):
        """Runs statements in one psql session; returns their rows as text."""
        env = dict(os.environ, PGPASSWORD=self.secret_for(user))
        argv = [PG_BIN / "psql", "-h", self.pg_dir, "-U", user, "-d", db,
                "-v", "ON_ERROR_STOP=1", "-qAtX"]
        for sql in statements:
            argv += ["-c", sql]
        r = subprocess.run(argv, env=env, capture_output=True, text=True)
        if r.returncode != 0:
            raise StackError(f"psql failed: {r.stderr.strip()}")
        return r.stdout

    def secret_for(self, user):
        return self.secret({"postgres": "pg-superuser",
                            "parley_owner": "pg-owner",
                            "parley_app": "pg-app",
                            "parley_reporting": "pg-reporting"}[user])

    def _bootstrap_database(self):
        exists = self.psql("SELECT 1 FROM pg_database WHERE datname='parley'")
        if exists.strip():
            return
        owner, app = self.secret("pg-owner"), self.secret("pg-app")
        self.psql(f"CREATE ROLE parley_owner LOGIN PASSWORD '{owner}'")
        # the engine's role: not the owner of anything, never bypasses RLS
        self.psql(f"CREATE ROLE parley_app LOGIN NOBYPASSRLS PASSWORD '{app}'")
        # reads usage across tenants (parley usage --all), nothing else
        reporting = self.secret("pg-reporting")
        self.psql(f"CREATE ROLE parley_reporting LOGIN NOBYPASSRLS PASSWORD '{reporting}'")
        self.psql("CREATE DATABASE parley OWNER parley_owner")
        self.psql("REVOKE ALL ON DATABASE parley FROM PUBLIC")
        self.psql("GRANT CONNECT ON DATABASE parley TO parley_app")
        self.psql("GRANT CONNECT ON DATABASE parley TO parley_reporting")

    def dsn(self, role):
        user = {"owner": "parley_owner", "app": "parley_app",
                "reporting": "parley_reporting"}[role]
        return (f"host={self.pg_dir} dbname=parley user={user} "
                f"passfile={self.secrets / 'pgpass'}")

    # -- engine --------------------------------------------------------------

    def _write_engine_config(self):
        config = {
            "server": {"socket": str(self.engine_socket),
                       "socket_mode": "0660", "threads": 2},
            "database": {"dsn": self.dsn("app"),
                         "migrate_dsn": self.dsn("owner"),
                         "reporting_dsn": self.dsn("reporting"), "pool_size": 8},
            "edge": {"secret_file": str(self.secrets / "edge.secret")},
            "widget": {"keys_file": str(self.secrets / "widget.keys")},
            "llm": {"provider": "extractive",
                    "master_keys_file": str(self.secrets / "master.keys")},
            "logging": {"level": "info", "file": str(self.engine_log)},
        }
        # JSON is valid YAML: no YAML writer needed on the Python side
        self.config.write_text(json.dumps(config, indent=2) + "\n")

    def parley(self, *args, dsn_role=None, check=True, input=None):
        """Runs the CLI; with --json output, returns the parsed answer."""
        env = dict(os.environ, PARLEY_CONFIG=str(self.config))
        env.update(self.engine_env)
        if dsn_role == "owner":
            env["PARLEY__DATABASE__DSN"] = self.dsn("owner")
        argv = [str(self.parley_bin)] + [str(a) for a in args]
        r = subprocess.run(argv, env=env, capture_output=True, text=True,
                           input=input)
        if check and r.returncode != 0:
            raise StackError(f"parley {' '.join(map(str, args))} failed "
                             f"({r.returncode}): {r.stderr.strip()}")
        if "--json" in argv and r.returncode == 0:
            return json.loads(r.stdout)
        return r

    def start_engine(self, env=None):
        """Starts (or restarts with other environment overrides) the engine."""
        self.stop_engine()
        if env is not None:
            self.engine_env = dict(env)
        self.engine_socket.unlink(missing_ok=True)
        full_env = dict(os.environ, PARLEY_CONFIG=str(self.config))
        full_env.update(self.engine_env)
        out = open(self.log_dir / "engine.out", "ab")
        self.engine_proc = subprocess.Popen(
            [str(self.parley_bin), "serve"], env=full_env, stdout=out,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        (self.run_dir / "engine.pid").write_text(f"{self.engine_proc.pid}\n")
        wait_for("the engine socket",
                 lambda: self._engine_alive() and unix_http_ok(self.engine_socket))
        if IS_ROOT:
            # nginx's workers (www-data) reach the engine through the group
            shutil.chown(self.engine_socket, group="www-data")

    def reload_engine(self):
        """SIGHUP: the engine re-reads its widget and master key rings."""
        os.kill(int((self.run_dir / "engine.pid").read_text()), signal.SIGHUP)

    def _engine_alive(self):
        if self.engine_proc is not None and self.engine_proc.poll() is not None:
            tail = (self.log_dir / "engine.out").read_text()[-2000:]
            raise StackError(f"the engine exited: {tail}")
        return True

    def stop_engine(self):
        if self.engine_proc is None:
            # an engine another process started (make stop)
            self._stop_pidfile(self.run_dir / "engine.pid", signal.SIGTERM)
            return
        # our child: waited for, so that it does not linger as a zombie
        # (which signal 0 would still find alive)
        self.engine_proc.terminate()
        try:
            self.engine_proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.engine_proc.kill()
            self.engine_proc.wait()
        (self.run_dir / "engine.pid").unlink(missing_ok=True)
        self.engine_proc = None

    # -- nginx ---------------------------------------------------------------

    def _render_http_block(self):
        text = (REPO / "conf.examples" / "parley-http.conf").read_text()
        text = text.replace(EXAMPLE_ENGINE_SOCKET, str(self.engine_socket))
        text = text.replace(EXAMPLE_EDGE_SECRET,
                            str(self.secrets / "edge.secret"))
        text = text.replace(EXAMPLE_ADMIN_TOKEN,
                            str(self.secrets / "admin.token"))
        text = text.replace(EXAMPLE_WIDGET_KEYS,
                            str(self.secrets / "widget.keys"))
        for directive, value in self.edge_overrides.items():
            text += f"{directive} {value};\n"
        return text

    def _write_nginx_config(self):
        tmp = self.nginx_dir / "tmp"
        tmp.mkdir(exist_ok=True)
        user = "user www-data;" if IS_ROOT else ""
        affinity = (f"worker_cpu_affinity {self.worker_cpu_affinity};"
                    if self.worker_cpu_affinity else "")
        if IS_ROOT:
            shutil.chown(tmp, user="www-data")
        conf = f"""\
load_module {self.module_so};
{user}
worker_processes {self.worker_processes};
{affinity}
{self.main_directives}
pid {self.nginx_dir / 'nginx.pid'};
error_log {self.log_dir / 'nginx-error.log'} info;
events {{ worker_connections {self.worker_connections}; }}
http {{
    access_log {self.log_dir / 'nginx-access.log'};
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    default_type application/octet-stream;

{self._render_http_block()}
    server {{
        listen 127.0.0.1:{self.port};
        include {REPO / 'conf.examples' / 'parley-locations.conf'};
    }}
{self.extra_http}
}}
"""
        path = self.nginx_dir / "nginx.conf"
        path.write_text(conf)
        return path

    def _nginx(self, *args):
        conf = self.nginx_dir / "nginx.conf"
        argv = [NGINX, "-p", str(self.nginx_dir), "-c", str(conf),
                "-e", str(self.log_dir / "nginx-error.log")] + list(args)
        r = subprocess.run(argv, capture_output=True, text=True)
        if r.returncode != 0:
            raise StackError(f"nginx {' '.join(args)} failed: {r.stderr}")
        return r

    def _start_nginx(self):
        self._write_nginx_config()
        self._nginx("-t", "-q")
        self._nginx()
        wait_for(f"nginx on port {self.port}", lambda: port_open(self.port))

    def reload_nginx(self):
        self._write_nginx_config()
        self._nginx("-s", "reload")

    # -- helpers ---------------------------------------------------------------

    @staticmethod
    def _stop_pidfile(pidfile, sig):
        try:
            pid = int(Path(pidfile).read_text())
        except (OSError, ValueError):
            return
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            Path(pidfile).unlink(missing_ok=True)
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
        Path(pidfile).unlink(missing_ok=True)


# -- the demo ------------------------------------------------------------------

DEMO_DIR = REPO / "demo"
# the website the demo tenant embeds its widget on
DEMO_ORIGIN = "http://localhost:3000"


def load_demo(stack):
    """Loads the demo tenant; returns its secret and its publishable key."""
    stack.parley("tenant", "create", "--slug", "demo",
                 "--name", "Northwind Outfitters",
                 "--allowed-origin", DEMO_ORIGIN, "--json")
    key = stack.parley("key", "create", "--tenant", "demo", "--kind", "secret",
                       "--json")
    site_key = stack.parley("key", "create", "--tenant", "demo",
                            "--kind", "publishable", "--json")
    stack.parley("agent", "create", "--tenant", "demo", "--code", "support",
                 "--name", "Northwind Support",
                 "--persona-file", DEMO_DIR / "persona.md", "--json")
    stack.parley("ingest", "--tenant", "demo", "--agent", "support",
                 DEMO_DIR / "handbook", "--json")
    return key["key"], site_key["key"]


def serve_demo_site(stack, site_key):
    """The demo tenant's website on its allowed origin, with the widget's tag:
    its page is written with this stack's URL and site key, and the stack's
    nginx serves it."""
    site = stack.root / "demo-site"
    site.mkdir(exist_ok=True)
    page = (DEMO_DIR / "site" / "index.html").read_text()
    page = page.replace("{{parley_url}}", stack.url).replace("{{site_key}}", site_key)
    (site / "index.html").write_text(page)
    shutil.copy(DEMO_DIR / "site" / "site.css", site / "site.css")
    port = DEMO_ORIGIN.rsplit(":", 1)[1]
    stack.extra_http = f"""
    server {{
        listen 127.0.0.1:{port};
        root {site};
        types {{ text/html html; text/css css; }}
    }}
"""
    stack.reload_nginx()
    return DEMO_ORIGIN + "/"


def demo_curl(stack, key):
    body = json.dumps({
        "model": "support", "stream": True,
        "messages": [{"role": "user",
                      "content": "How many vacation days do new employees get?"}]})
    return (f"curl -sN {stack.url}/v1/chat/completions \\\n"
            f"  -H 'Authorization: Bearer {key}' \\\n"
            f"  -H 'Content-Type: application/json' \\\n"
            f"  -d '{body}'")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("action", choices=["up", "down"])
    ap.add_argument("--dir", default=str(REPO / "var"))
    ap.add_argument("--port", type=int,
                    default=int(os.environ.get("PARLEY_PORT", "8080")))
    ap.add_argument("--demo", action="store_true",
                    help="load the demo tenant and print how to call it")
    args = ap.parse_args()
    stack = Stack(args.dir, args.port)
    try:
        stack.down()
        if args.action == "down":
            return 0
        if args.demo:
            # a demo always starts from scratch: same data, same answers
            shutil.rmtree(stack.root, ignore_errors=True)
        stack.up()
        if args.demo:
            key, site_key = load_demo(stack)
            print(f"PARLEY_URL={stack.url}")
            print(f"PARLEY_DEMO_KEY={key}")
            print(f"PARLEY_DEMO_SITE_KEY={site_key}")
            print(f"PARLEY_DEMO_ORIGIN={DEMO_ORIGIN}")
            print(f"PARLEY_DEMO_PAGE={serve_demo_site(stack, site_key)}")
            print("\nAsk the demo assistant (streams a cited answer):\n")
            print(demo_curl(stack, key))
    except (StackError, subprocess.CalledProcessError) as e:
        detail = getattr(e, "stderr", "") or ""
        print(f"parley stack: {e} {detail}".strip(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
