"""Widget tokens at the edge (SPEC 3.1): JWTs minted here with the stack's
key ring, as the engine mints them, are verified by nginx alone (the engine
is never asked), pass as a widget context, and every token that is not a
valid HS256 token of a key in the ring, for this audience, at this time, is
refused with 401 JSON.  Keys rotate by adding a line and reloading."""

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid

import pytest
import requests

from conftest import client_from, engine_log_events, make_tenant
from parley_context import verify_context
from test_edge_bootstrap import open_session
from test_edge_context import EngineTap, headers_named, now_ms, sent_to

AUDIENCE = "parley-widget"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def key_ring(stack):
    """[(kid, secret)] of the stack's widget.keys, the engine's signing key
    last."""
    ring = []
    for line in (stack.secrets / "widget.keys").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            kid, secret = line.split()
            ring.append((kid, secret))
    return ring


def claims_for(tenant=None, session=None, agent="support", lifetime=600,
               **overrides):
    now = int(time.time())
    claims = {"iss": "parley", "aud": AUDIENCE,
              "tid": tenant or str(uuid.uuid4()),
              "sid": session or secrets.token_urlsafe(12),
              "agt": agent, "org": "https://shop.example",
              "iat": now, "nbf": now, "exp": now + lifetime}
    claims.update(overrides)
    return claims


def mint(kid, secret, claims, alg="HS256", header=None):
    header = header or {"alg": alg, "typ": "JWT", "kid": kid}
    signing_input = (b64url(json.dumps(header).encode()) + "."
                     + b64url(json.dumps(claims).encode()))
    digest = {"HS256": hashlib.sha256,
              "HS512": hashlib.sha512}.get(alg, hashlib.sha256)
    sig = hmac.new(secret.encode(), signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64url(sig)}"


def current_key(stack):
    return key_ring(stack)[-1]


def widget_get(stack, token, path="/widget/v1/history", client=requests):
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return client.get(f"{stack.url}{path}", headers=headers, timeout=10)


def passed_the_edge(r):
    """The engine answered: it verified the context and looked the token's
    session up (these tests mint tokens for sessions it never created)."""
    return (r.status_code == 404
            and r.json()["error"]["code"] == "session_not_found")


def assert_invalid_widget_token(r):
    assert r.status_code == 401, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["WWW-Authenticate"] == "Bearer"
    error = r.json()["error"]
    assert (error["type"], error["code"]) == ("invalid_request_error",
                                              "invalid_widget_token")


def test_a_valid_token_passes_without_asking_the_engine(stack):
    kid, secret = current_key(stack)
    claims = claims_for()
    before = len(engine_log_events(stack, "introspect"))

    with EngineTap(stack) as tap:
        tap.clear()
        r = widget_get(stack, mint(kid, secret, claims))
        sent = sent_to(tap, "/widget/v1/history")

    assert passed_the_edge(r), r.text
    [(_, headers)] = sent
    assert headers_named(headers, "Authorization") == []
    [context] = headers_named(headers, "X-Parley-Context")
    fields = verify_context(stack.secret("edge.secret"), context, now_ms())
    assert fields["tenant"] == claims["tid"]
    assert (fields["kind"], fields["principal"]) == ("widget", claims["agt"])
    assert fields["session"] == claims["sid"]

    time.sleep(0.5)
    assert len(engine_log_events(stack, "introspect")) == before


def forged_tokens(stack):
    kid, secret = current_key(stack)
    now = int(time.time())
    good = mint(kid, secret, claims_for())
    head, payload, sig = good.split(".")
    other_payload = b64url(json.dumps(claims_for(tenant=str(uuid.uuid4())))
                           .encode())
    none_header = b64url(json.dumps({"alg": "none", "kid": kid}).encode())
    return {
        "alg none": f"{none_header}.{payload}.",
        "alg none with a signature": f"{none_header}.{payload}.{sig}",
        "alg HS512": mint(kid, secret, claims_for(), alg="HS512"),
        "alg RS256": mint(kid, secret, claims_for(), alg="RS256"),
        "alg hs256": mint(kid, secret, claims_for(), header={
            "alg": "hs256", "kid": kid}),
        "crit": mint(kid, secret, claims_for(), header={
            "alg": "HS256", "kid": kid, "crit": ["exp"]}),
        "no kid": mint(kid, secret, claims_for(), header={"alg": "HS256"}),
        "changed payload": f"{head}.{other_payload}.{sig}",
        "changed signature": f"{head}.{payload}.{b64url(bytes(32))}",
        "padded": good + "=",
        "unknown kid": mint("nobody", secret, claims_for()),
        "other secret": mint(kid, secrets.token_urlsafe(48), claims_for()),
        "wrong aud": mint(kid, secret, claims_for(aud="parley-api")),
        "aud list": mint(kid, secret, claims_for(aud=[AUDIENCE])),
        "expired": mint(kid, secret, claims_for(
            iat=now - 700, nbf=now - 700, exp=now - 100)),
        "not yet valid": mint(kid, secret, claims_for(
            iat=now, nbf=now + 300, exp=now + 600)),
        "issued in the future": mint(kid, secret, claims_for(
            iat=now + 300, nbf=now, exp=now + 600)),
        "lifetime over 15 minutes": mint(kid, secret, claims_for(
            lifetime=901)),
        "tenant not a uuid": mint(kid, secret, claims_for(tenant="acme")),
        "session with a dot": mint(kid, secret, claims_for(session="a.b")),
        "no session": mint(kid, secret, {
            k: v for k, v in claims_for().items() if k != "sid"}),
        "float exp": mint(kid, secret, claims_for(exp=now + 600.5)),
        "two parts": f"{head}.{payload}",
        "four parts": f"{good}.{sig}",
        "garbage": "not-a-token",
    }


def test_every_forged_or_unfit_token_is_refused(stack):
    for name, token in forged_tokens(stack).items():
        r = widget_get(stack, token)
        assert r.status_code == 401, name
        assert_invalid_widget_token(r)


def test_a_missing_token_is_refused(stack):
    assert_invalid_widget_token(widget_get(stack, None))


def test_the_clock_skew_is_small_but_allowed(stack):
    kid, secret = current_key(stack)
    now = int(time.time())
    # expired 10 s ago, within the 30 s of skew
    late = mint(kid, secret, claims_for(iat=now - 610, nbf=now - 610,
                                        exp=now - 10))
    assert passed_the_edge(widget_get(stack, late))
    # valid from 10 s on: another clock may be ahead of ours
    early = mint(kid, secret, claims_for(iat=now + 10, nbf=now + 10,
                                         exp=now + 610))
    assert passed_the_edge(widget_get(stack, early))


def token_kid(token):
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))[
        "kid"]


@pytest.fixture
def site(stack):
    """A tenant with an allowed origin and a publishable key: the engine
    mints tokens for it through the bootstrap route."""
    tenant = make_tenant(stack)
    origin = f"https://rotation-{secrets.token_hex(4)}.example"
    stack.parley("tenant", "update", "--slug", tenant.slug,
                 "--allowed-origin", origin, "--json")
    pk = stack.parley("key", "create", "--tenant", tenant.slug,
                      "--kind", "publishable", "--json")["key"]
    return pk, origin


def engine_token(stack, site, client):
    pk, origin = site
    r = open_session(stack, pk, origin, client=client)
    assert r.status_code == 200, r.text
    return r.json()["token"]


def wait_for_log(stack, event, count):
    deadline = time.monotonic() + 5
    while len(engine_log_events(stack, event)) < count:
        assert time.monotonic() < deadline, f"no {event} in the engine log"
        time.sleep(0.05)
    return engine_log_events(stack, event)[-1]


def test_rotation_keeps_old_tokens_valid_until_they_expire(stack, site):
    old_kid, old_secret = current_key(stack)
    old_token = mint(old_kid, old_secret, claims_for())
    reloads = len(engine_log_events(stack, "widget_keys_reloaded"))
    with client_from("127.0.0.61") as client:
        issued_before = engine_token(stack, site, client)
        assert token_kid(issued_before) == old_kid

        new_kid, new_secret = (f"w{secrets.token_hex(4)}",
                               secrets.token_urlsafe(48))
        ring = stack.secrets / "widget.keys"
        ring.write_text(ring.read_text().rstrip("\n")
                        + f"\n# rotated by {__name__}\n{new_kid} {new_secret}\n")
        new_token = mint(new_kid, new_secret, claims_for())
        assert_invalid_widget_token(widget_get(stack, new_token))

        stack.reload_nginx()
        time.sleep(1)   # the old workers have stopped accepting by now

        assert passed_the_edge(widget_get(stack, new_token))
        assert passed_the_edge(widget_get(stack, old_token))
        # the engine signs with the old key until it is reloaded itself
        assert token_kid(engine_token(stack, site, client)) == old_kid

        stack.reload_engine()
        assert wait_for_log(stack, "widget_keys_reloaded",
                            reloads + 1)["kid"] == new_kid
        issued_after = engine_token(stack, site, client)
        assert token_kid(issued_after) == new_kid

        # tokens of both keys, minted by the engine, work on the widget API
        for token in (issued_before, issued_after):
            r = widget_get(stack, token)
            assert r.status_code == 200, r.text
            assert r.json()["messages"] == []

    now = int(time.time())
    expired_old = mint(old_kid, old_secret, claims_for(
        iat=now - 700, nbf=now - 700, exp=now - 100))
    assert_invalid_widget_token(widget_get(stack, expired_old))


def test_a_bad_key_ring_on_reload_keeps_the_engines_key(stack, site):
    kid, _ = current_key(stack)
    failures = len(engine_log_events(stack, "widget_keys_reload_failed"))
    ring = stack.secrets / "widget.keys"
    good = ring.read_text()
    try:
        ring.write_text(good + "k-short tooshort\n")
        stack.reload_engine()
        failed = wait_for_log(stack, "widget_keys_reload_failed",
                              failures + 1)
        assert failed["kid"] == kid
        assert any("shorter than 32 bytes" in p for p in failed["problems"])
        assert "tooshort" not in json.dumps(failed)
    finally:
        ring.write_text(good)
    with client_from("127.0.0.62") as client:
        assert token_kid(engine_token(stack, site, client)) == kid


@pytest.mark.parametrize("ring, error", [
    ("", "has no key"),
    ("# only a comment\n", "has no key"),
    ("k1 short-secret\n", "shorter than 32 bytes"),
    ("k1 " + "s" * 40 + "\nk1 " + "t" * 40 + "\n", "duplicate key id"),
    ("k.1 " + "s" * 40 + "\n", "a key id is"),
    ("k1 " + "s" * 40 + " extra\n", "expected \"<kid> <secret>\""),
])
def test_a_bad_key_ring_is_a_configuration_error(
        nginx_check, tmp_path, ring, error):
    path = tmp_path / "widget.keys"
    path.write_text(ring)
    path.chmod(0o600)
    ok, output = nginx_check(f"parley_widget_keys {path};")
    assert not ok
    assert error in output
    # secrets never reach the log
    assert "s" * 40 not in output


# -- limits of the widget API ------------------------------------------------

def rate_limit(r):
    name, *params = r.headers["RateLimit"].split(";")
    return name, {k: int(v) for k, v in (p.split("=") for p in params)}


def test_the_session_limit_trips_on_its_own(stack):
    # parley-locations.conf: parley_limit session rate=60r/m burst=10
    kid, secret = current_key(stack)
    token = mint(kid, secret, claims_for())
    with client_from("127.0.0.21") as client:
        statuses = []
        for _ in range(14):
            r = widget_get(stack, token, client=client)
            statuses.append(r.status_code)
            if r.status_code == 429:
                break
        assert statuses.count(429) == 1, statuses
        assert len(statuses) >= 11
        assert r.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(r.headers["Retry-After"]) <= 1
        assert r.headers["RateLimit-Policy"] == '"session";q=60;w=60'
        assert rate_limit(r) == ('"session"', {"r": 0, "t": 1})

        # another session of the same browser is not affected
        other = widget_get(stack, mint(kid, secret, claims_for()),
                           client=client)
        assert passed_the_edge(other)
        assert other.headers["RateLimit-Policy"] == '"session";q=60;w=60'


def test_the_address_limit_trips_on_its_own(stack):
    # parley-locations.conf: parley_limit ip rate=300r/m burst=60
    kid, secret = current_key(stack)
    with client_from("127.0.0.22") as client:
        statuses = []
        for _ in range(120):
            # a new session each time: only the address is shared
            r = widget_get(stack, mint(kid, secret, claims_for()),
                           client=client)
            statuses.append(r.status_code)
            if r.status_code == 429:
                break
        assert statuses[-1] == 429, statuses
        assert len(statuses) > 61
        assert r.headers["RateLimit-Policy"] == '"ip";q=300;w=60'
        assert rate_limit(r)[0] == '"ip"'
        assert int(r.headers["Retry-After"]) == 1

    # another address is not affected
    with client_from("127.0.0.23") as client:
        r = widget_get(stack, mint(kid, secret, claims_for()), client=client)
        assert passed_the_edge(r)
