"""The widget token vectors (shared/test-vectors/widget_token.json) through
nginx with the module: each token is checked by a real nginx whose clock
reads the vector's time (libfaketime, the wall clock frozen there), with the
vectors' key ring and skew.  A valid token passes the edge as the widget
identity of its claims, the tenant limit taking the plan it carries (pln)
over the directive's; an invalid one is refused with 401 JSON, and the
error log names the vector's reason.  The engine's unit tests check the same
vectors against what it mints (engine/tests/widget_token_vectors_test.cpp)."""

import json
import os
import re
import secrets
import signal
import subprocess
import time
from itertools import groupby

import pytest
import requests

from conftest import REPO
from parley_context import verify_context
from parley_stack import NGINX, free_port, port_open, wait_for

VECTORS = json.loads(
    (REPO / "shared" / "test-vectors" / "widget_token.json").read_text())
MODULE = REPO / "build" / "ngx_http_parley_module.so"
FAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

# the module's words for a refusal (ngx_http_parley_jwt_error()), by the
# vectors' reasons
REASONS = {
    "malformed": "malformed",
    "algorithm not allowed": "algorithm",
    "unknown key id": "unknown_key",
    "bad signature": "signature",
    "bad claims": "claims",
    "lifetime too long": "lifetime",
    "expired": "expired",
    "not yet valid": "not_yet_valid",
}
REFUSAL = re.compile(r"parley: invalid widget token: ([a-z ]+)")

# the tenant limit of CONF, which a token's plan (pln) overrides
DEFAULT_RPM, DEFAULT_BURST = 600, 50

CONF = """\
load_module {module};
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
env FAKETIME;
events {{ }}
http {{
    access_log off;
    parley_edge_secret_file {dir}/edge.secret;
    parley_widget_keys {dir}/widget.keys;
    parley_widget_clock_skew {skew}s;
    parley_limit_zone zone=parley_limits:1m;

    server {{
        listen 127.0.0.1:{port};

        location /widget/v1/ {{
            parley_auth widget;
            parley_limit tenant zone=parley_limits rate=600r/m burst=50;
            stub_status;
            add_header X-Test-Context $parley_context always;
        }}
    }}
}}
"""


class FrozenNginx:
    """nginx with the module, its wall clock frozen at `now`, with the key
    ring and skew of `VECTORS` and the configuration `CONF`."""

    VECTORS = VECTORS
    CONF = CONF
    REFUSAL = REFUSAL

    def __init__(self, root, now):
        self.root = root
        self.now = now
        self.port = free_port()
        self.secret = secrets.token_urlsafe(48)
        self.log = root / "error.log"

    def __enter__(self):
        self.root.mkdir()
        for name, text in (
                ("edge.secret", self.secret),
                ("widget.keys", "\n".join(f"{k['kid']} {k['secret']}"
                                          for k in self.VECTORS["keys"]))):
            path = self.root / name
            path.write_text(text + "\n")
            path.chmod(0o600)
        conf = self.root / "nginx.conf"
        conf.write_text(self.CONF.format(module=MODULE, dir=self.root,
                                         port=self.port,
                                         skew=self.VECTORS["skew"]))
        frozen = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.now))
        env = dict(os.environ, TZ="UTC", LD_PRELOAD=FAKETIME,
                   FAKETIME=frozen, FAKETIME_DONT_FAKE_MONOTONIC="1")
        subprocess.run([NGINX, "-p", str(self.root), "-c", str(conf),
                        "-e", str(self.log)], env=env, check=True,
                       capture_output=True)
        wait_for("the frozen nginx", lambda: port_open(self.port))
        return self

    def __exit__(self, *exc):
        pid = int((self.root / "nginx.pid").read_text())
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)

    def get(self, token, path="/widget/v1/history"):
        """GET `path` with the token as a bearer token (None: without):
        the response, the refusals' words in the error log, and all that
        the request wrote there."""
        r, refusals, _ = self.get_logged(path, None if token is None else {
            "Authorization": f"Bearer {token}"})
        return r, refusals

    def get_logged(self, path, headers=None):
        offset = self.log.stat().st_size
        r = requests.get(f"http://127.0.0.1:{self.port}{path}",
                         headers=headers or {}, timeout=10)
        # the worker writes its line before it answers
        with open(self.log, errors="replace") as f:
            f.seek(offset)
            logged = f.read()
        return r, self.REFUSAL.findall(logged), logged


def assert_plan_applies(r, v):
    """The tenant limit of the response `r` to the vector `v` is its plan's
    (pln), the directive's for what the plan does not set.  Each vector with
    a plan names a tenant of its own: its first request shows the whole
    burst left."""
    plan = v["claims"].get("pln", {})
    rpm = plan.get("rpm", DEFAULT_RPM)
    assert r.headers["RateLimit-Policy"] == f'"tenant";q={rpm};w=60', \
        v["name"]
    if plan:
        burst = plan.get("burst", DEFAULT_BURST)
        assert r.headers["RateLimit"].startswith(f'"tenant";r={burst};'), \
            (v["name"], r.headers["RateLimit"])


def by_time(vectors):
    ordered = sorted(vectors, key=lambda v: v["now"])
    return [(now, list(vs)) for now, vs in groupby(ordered,
                                                   key=lambda v: v["now"])]


def test_the_vectors_cover_the_contract():
    reasons = {v["reason"] for v in VECTORS["invalid"]}
    assert reasons == set(REASONS.values())
    assert len(VECTORS["valid"]) >= 4
    # plans: each of its own tenant, and malformed ones
    plans = [v for v in VECTORS["valid"] if "pln" in v["claims"]]
    assert len(plans) >= 2
    assert len({v["claims"]["tid"] for v in plans}) == len(plans)
    assert not {v["claims"]["tid"] for v in plans} & {
        v["claims"]["tid"] for v in VECTORS["valid"] if v not in plans}
    assert [v for v in VECTORS["invalid"] if "pln" in v["name"]]
    # the ring's last key, the engine's, is the shortest a ring allows
    assert len(VECTORS["keys"][-1]["secret"]) == 32


def assert_passed_as_its_claims(nginx, now, v, r, refusals):
    """Vector `v` passed the edge as the widget identity of its claims, the
    tenant limit taking its plan."""
    assert r.status_code == 200, (v["name"], refusals, r.text)
    assert refusals == [], v["name"]
    fields = verify_context(nginx.secret, r.headers["X-Test-Context"],
                            now * 1000)
    claims = v["claims"]
    assert fields["tenant"] == claims["tid"], v["name"]
    assert (fields["kind"], fields["principal"]) == \
        ("widget", claims["agt"]), v["name"]
    assert fields["session"] == claims["sid"], v["name"]
    assert_plan_applies(r, v)


def test_valid_vectors_pass_the_edge_at_their_time(tmp_path):
    for now, vectors in by_time(VECTORS["valid"]):
        with FrozenNginx(tmp_path / str(now), now) as nginx:
            for v in vectors:
                assert_passed_as_its_claims(nginx, now, v,
                                            *nginx.get(v["token"]))


def test_invalid_vectors_are_refused_for_their_reason(tmp_path):
    for now, vectors in by_time(VECTORS["invalid"]):
        with FrozenNginx(tmp_path / str(now), now) as nginx:
            for v in vectors:
                r, refusals = nginx.get(v["token"])
                assert r.status_code == 401, (v["name"], r.text)
                assert r.headers["Content-Type"] == "application/json"
                assert r.json()["error"]["code"] == "invalid_widget_token"
                assert [REASONS[w] for w in refusals] == [v["reason"]], \
                    v["name"]


@pytest.mark.parametrize("v", VECTORS["valid"][:1], ids=["a valid token"])
def test_a_valid_token_is_refused_once_its_time_is_over(tmp_path, v):
    # the frozen clock is the one that decides: the same token, later
    later = v["claims"]["exp"] + VECTORS["skew"]
    with FrozenNginx(tmp_path / "later", later) as nginx:
        r, refusals = nginx.get(v["token"])
    assert r.status_code == 401
    assert [REASONS[w] for w in refusals] == ["expired"]
