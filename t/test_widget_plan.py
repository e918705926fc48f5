"""The tenant's plan on widget traffic (SPEC 3.1, 3.2): the engine signs the
tenant's plan into every widget token and stream id it mints ("pln",
shared/parley_widget_token.h), and the edge limits the widget's requests
and streams by it with no engine call, as it limits a secret key's by
introspection: the tenant limit shares one count with the tenant's API
traffic, and the plan's maximum of streams holds the widget's streams.
A plan nobody signed is refused with the token."""

import base64
import hashlib
import hmac
import json
import time

import requests

from conftest import REPO, auth, client_from, make_tenant
from test_edge_bootstrap import fresh_origin, open_session
from test_edge_streams import assert_too_many_streams

STREAMS = "/widget/v1/streams/"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def claims_of(credential):
    return json.loads(b64url_decode(credential.split(".")[1]))


def resigned(credential, claims, secret):
    """The credential's header with `claims`, signed with `secret`."""
    header = credential.split(".")[0]
    signing_input = (header + "."
                     + b64url(json.dumps(claims, sort_keys=True,
                                         separators=(",", ":")).encode()))
    sig = hmac.new(secret.encode(), signing_input.encode(),
                   hashlib.sha256).digest()
    return f"{signing_input}.{b64url(sig)}"


class Site:
    """A tenant of `plan` (make_tenant()'s keywords), with an allowed origin
    and a publishable key; its widget sessions come through the edge, each
    from an address of its own (the bootstrap limit is per address)."""

    _addresses = iter(range(10, 250))

    def __init__(self, stack, docs=None, **plan):
        self.stack = stack
        self.tenant = make_tenant(stack, docs, **plan)
        self.origin = fresh_origin()
        stack.parley("tenant", "update", "--slug", self.tenant.slug,
                     "--allowed-origin", self.origin, "--json")
        self.pk = stack.parley("key", "create", "--tenant", self.tenant.slug,
                               "--kind", "publishable", "--json")["key"]

    def session(self, body=None):
        with client_from(f"127.0.9.{next(self._addresses)}") as client:
            if body is None:
                r = open_session(self.stack, self.pk, self.origin,
                                 client=client)
            else:
                r = client.post(f"{self.stack.url}/widget/v1/session",
                                json=body, headers={"Origin": self.origin},
                                timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def history(self, token, client=requests):
        return client.get(f"{self.stack.url}/widget/v1/history",
                          headers={"Authorization": f"Bearer {token}",
                                   "Origin": self.origin}, timeout=10)

    def ask(self, token, content="How many vacation days do I get?"):
        r = requests.post(f"{self.stack.url}/widget/v1/messages",
                          json={"content": content},
                          headers={"Authorization": f"Bearer {token}",
                                   "Origin": self.origin}, timeout=10)
        assert r.status_code == 202, r.text
        return r.json()["stream_id"]

    def stream(self, stream_id):
        return requests.get(f"{self.stack.url}{STREAMS}{stream_id}",
                            headers={"Origin": self.origin}, stream=True,
                            timeout=30)


def rate_limit(r):
    name, *params = r.headers["RateLimit"].split(";")
    return name, {k: int(v) for k, v in (p.split("=") for p in params)}


def error_log(stack):
    return (stack.log_dir / "nginx-error.log").read_text(errors="replace")


# -- what the engine mints ---------------------------------------------------

def test_tokens_and_stream_ids_carry_the_tenants_current_plan(stack):
    site = Site(stack, REPO / "demo" / "handbook", rpm=240, burst=30,
                max_streams=4)
    plan = {"rpm": 240, "burst": 30, "streams": 4}

    opened = site.session()
    assert claims_of(opened["token"])["pln"] == plan
    # the resume credential is the engine's own: no plan in it
    assert "pln" not in claims_of(opened["resume"])

    stream_id = site.ask(opened["token"])
    assert claims_of(stream_id)["pln"] == plan

    # the plan changes: what is minted from now on says so, whichever way
    # the session goes on (a renewal, a new question), and only that
    stack.parley("tenant", "update", "--slug", site.tenant.slug, "--rpm",
                 "120", "--max-streams", "2", "--json")
    changed = {"rpm": 120, "burst": 30, "streams": 2}
    assert claims_of(opened["token"])["pln"] == plan

    renewed = site.session({"resume": opened["resume"]})
    assert renewed["session_id"] == opened["session_id"]
    assert claims_of(renewed["token"])["pln"] == changed

    # the first answer ends before the next question may start
    assert "event: done" in site.stream(stream_id).text
    for _ in range(20):
        r = requests.post(f"{stack.url}/widget/v1/messages",
                          json={"content": "And sick days?"},
                          headers={"Authorization":
                                   f"Bearer {renewed['token']}",
                                   "Origin": site.origin}, timeout=10)
        if r.status_code != 409:  # generation_in_progress, a moment more
            break
        time.sleep(0.2)
    assert r.status_code == 202, r.text
    assert claims_of(r.json()["stream_id"])["pln"] == changed

    # a new session of the site key reads the plan too
    assert claims_of(site.session()["token"])["pln"] == changed


def test_a_tenant_without_plan_values_gets_no_plan_claim(stack):
    site = Site(stack, REPO / "demo" / "handbook")
    opened = site.session()
    claims = claims_of(opened["token"])
    assert "pln" not in claims
    assert claims["tid"] == site.tenant.id
    assert "pln" not in claims_of(site.ask(opened["token"]))
    renewed = site.session({"resume": opened["resume"]})
    assert "pln" not in claims_of(renewed["token"])


def test_a_plan_that_sets_some_limits_claims_those_only(stack):
    site = Site(stack, max_streams=3)
    assert claims_of(site.session()["token"])["pln"] == {"streams": 3}


# -- the edge applies it -----------------------------------------------------

def test_the_plans_rate_limits_the_widget_api_at_the_edge(stack):
    # rpm=3 burst=1: two requests at once, then one every 20 s; the
    # session's limit (burst 10) and the address's (burst 60) would allow
    # far more
    site = Site(stack, rpm=3, burst=1)
    token = site.session()["token"]
    assert claims_of(token)["pln"] == {"rpm": 3, "burst": 1}

    with client_from("127.0.9.1") as client:
        statuses = []
        for _ in range(6):
            r = site.history(token, client=client)
            statuses.append(r.status_code)
            if r.status_code == 429:
                break
        assert statuses == [200, 200, 429], statuses
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["error"]["code"] == "rate_limited"
    assert "tenant" in r.json()["error"]["message"]
    assert r.headers["RateLimit-Policy"] == '"tenant";q=3;w=60'
    # a retry passes after one interval (20 s) at most, never before
    retry = int(r.headers["Retry-After"])
    assert 1 <= retry <= 20
    assert rate_limit(r) == ('"tenant"', {"r": 0, "t": retry})

    # the whole tenant: another session, from another address, too
    other = site.session()["token"]
    with client_from("127.0.9.2") as client:
        r = site.history(other, client=client)
    assert r.status_code == 429
    assert r.headers["RateLimit-Policy"] == '"tenant";q=3;w=60'


def test_api_and_widget_traffic_of_a_tenant_share_its_plan(stack):
    # /v1/ and /widget/v1/ limit the tenant in the same zone, on the same
    # key: one count, whichever credential names the tenant
    site = Site(stack, rpm=3, burst=2)
    token = site.session()["token"]

    r = requests.get(f"{stack.url}/v1/models", headers=auth(site.tenant.key),
                     timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["RateLimit-Policy"] == '"tenant";q=3;w=60'
    assert rate_limit(r)[1]["r"] == 2

    with client_from("127.0.9.3") as client:
        r = site.history(token, client=client)
        assert r.status_code == 200, r.text
        assert r.headers["RateLimit-Policy"] == '"tenant";q=3;w=60'
        assert rate_limit(r)[1]["r"] == 1
        assert site.history(token, client=client).status_code == 200
        r = site.history(token, client=client)
    assert r.status_code == 429
    assert r.headers["RateLimit-Policy"] == '"tenant";q=3;w=60'

    # and the API is refused for what the widget spent
    r = requests.get(f"{stack.url}/v1/models", headers=auth(site.tenant.key),
                     timeout=10)
    assert r.status_code == 429
    assert r.headers["RateLimit-Policy"] == '"tenant";q=3;w=60'


def test_a_forged_plan_is_refused_with_its_token(stack):
    site = Site(stack, rpm=3, burst=1, max_streams=1)
    opened = site.session()
    token = opened["token"]
    generous = {"rpm": 10000000, "burst": 10000000, "streams": 10000000}
    claims = dict(claims_of(token), pln=generous)

    # re-signed with a key the edge does not have, under the ring's kid
    forged = resigned(token, claims, "not-the-ring-secret-" + "x" * 32)
    r = site.history(forged)
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "invalid_widget_token"
    assert "parley: invalid widget token: bad signature" in error_log(stack)

    # the claims swapped under the engine's own signature
    tampered = ".".join([token.split(".")[0], forged.split(".")[1],
                         token.split(".")[2]])
    r = site.history(tampered)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "invalid_widget_token"

    # a stream id likewise
    stream_id = site.ask(token)
    claims = dict(claims_of(stream_id), pln=generous)
    r = site.stream(resigned(stream_id, claims,
                             "not-the-ring-secret-" + "x" * 32))
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "invalid_widget_stream"

    # the genuine token still works, with its genuine plan: its question
    # and this are the two requests at once that rpm=3 burst=1 allows
    r = site.history(token)
    assert r.status_code == 200, r.text
    assert r.headers["RateLimit-Policy"] == '"tenant";q=3;w=60'
    assert site.history(token).status_code == 429


def test_a_plan_with_a_bad_pln_shape_is_refused(stack):
    # signed with the ring's own key: a pln the edge cannot read refuses
    # the token for its claims (the vectors have the other shapes)
    site = Site(stack)
    token = site.session()["token"]
    kid = json.loads(b64url_decode(token.split(".")[0]))["kid"]
    secret = dict(line.split() for line in
                  (stack.secrets / "widget.keys").read_text().splitlines()
                  if line.strip() and not line.startswith("#"))[kid]
    bad = resigned(token, dict(claims_of(token), pln={"rpm": -1}), secret)
    r = site.history(bad)
    assert r.status_code == 401
    assert "parley: invalid widget token: bad claims" in error_log(stack)


# -- streams (the engine answering through the gated mock upstream) ----------

def test_the_plans_maximum_of_streams_holds_widget_streams_at_the_edge(
        stack, openai_engine):
    mock = openai_engine
    mock.reset(mode="gated")
    # the location's default is max=20; the plan says 1
    site = Site(stack, REPO / "demo" / "handbook", max_streams=1)
    first = site.session()
    second = site.session()
    assert claims_of(first["token"])["pln"] == {"streams": 1}

    held_id = site.ask(first["token"])
    held = site.stream(held_id)
    try:
        assert held.status_code == 200, held.text
        assert held.headers["Content-Type"].startswith("text/event-stream")
        assert mock.first_token_sent.wait(10)

        # the answer is held upstream: its stream is open, its slot taken;
        # another session's stream of the tenant is refused at the edge
        other_id = site.ask(second["token"])
        r = site.stream(other_id)
        assert_too_many_streams(r, 1)

        # and so is a second reader of the same stream
        assert_too_many_streams(site.stream(held_id), 1)
    finally:
        mock.gate.set()
        # the answer ends: its stream ends, and gives its slot back
        for _ in held.iter_lines():
            pass
        held.close()

    deadline = time.monotonic() + 5
    while True:
        r = site.stream(other_id)
        if r.status_code != 429 or time.monotonic() > deadline:
            break
        r.close()
        time.sleep(0.1)
    assert r.status_code == 200, r.text
    assert "event: done" in r.text
