"""The widget bootstrap and CORS at the edge (SPEC 3.1, 3.3): through nginx,
a publishable key from one of the tenant's allowed origins gets a widget
token that then works on the widget API; the frame page keeps the engine's
CSP; the edge passes the site key on and nothing else of the client's
X-Parley-*; CORS headers go to allowed origins only, and preflights are
answered by the edge alone, from introspection it caches; the frame page's
calls from this host's own origin pass without CORS."""

import re
import secrets
import time

import pytest
import requests

from conftest import DATA, client_from, engine_log_events, make_tenant
from parley_context import NIL_TENANT, verify_context
from test_edge_context import EngineTap, headers_named, now_ms, sent_to

API_CSP = "default-src 'none'; frame-ancestors 'none'"


def fresh_origin():
    """An origin no other test has looked up (cached answers stay apart)."""
    return f"https://shop-{secrets.token_hex(4)}.example"


@pytest.fixture(scope="module")
def site(stack):
    """A tenant with two allowed origins of its own and a publishable key."""
    t = make_tenant(stack, DATA / "tenant_a")
    origins = [fresh_origin(),
               f"http://localhost:{3000 + secrets.randbelow(999)}"]
    stack.parley("tenant", "update", "--slug", t.slug,
                 *[a for o in origins for a in ("--allowed-origin", o)],
                 "--json")
    pk = stack.parley("key", "create", "--tenant", t.slug,
                      "--kind", "publishable", "--json")["key"]
    return t, pk, origins


def open_session(stack, pk, origin, client=requests, headers=None):
    h = {"X-Parley-Site-Key": pk, "Origin": origin}
    h.update(headers or {})
    return client.post(f"{stack.url}/widget/v1/session", json={}, headers=h,
                       timeout=10)


def history(stack, token, origin=None):
    h = {"Authorization": f"Bearer {token}"}
    if origin:
        h["Origin"] = origin
    return requests.get(f"{stack.url}/widget/v1/history", headers=h,
                        timeout=10)


def preflight(stack, path, origin, method="GET"):
    return requests.options(f"{stack.url}{path}", headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type"},
        timeout=10)


def vary(r):
    return [v.strip().lower() for v in r.headers.get("Vary", "").split(",")]


def assert_json_error(r, status, code):
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["error"]["code"] == code


def test_an_allowed_origin_gets_a_token_that_works_on_the_widget_api(
        stack, site):
    tenant, pk, origins = site
    with client_from("127.0.0.41") as client:
        r = open_session(stack, pk, origins[0], client=client)
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Origin"] == origins[0]
    assert "origin" in vary(r)
    assert r.headers["RateLimit-Policy"] == '"ip";q=30;w=60'
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    token, session = r.json()["token"], r.json()["session_id"]

    r = history(stack, token, origins[0])
    assert r.status_code == 200, r.text
    assert r.json() == {"session_id": session, "messages": []}
    assert r.headers["Access-Control-Allow-Origin"] == origins[0]
    assert "origin" in vary(r)

    # the token was issued to origins[0]: another page gets no CORS
    r = history(stack, token, origins[1])
    assert r.status_code == 200
    assert "Access-Control-Allow-Origin" not in r.headers

    # and a client without an Origin, none at all
    r = history(stack, token)
    assert r.status_code == 200
    assert "Access-Control-Allow-Origin" not in r.headers


def test_an_origin_not_in_the_tenants_list_is_refused(stack, site):
    _, pk, _ = site
    # allowed by another tenant: the engine refuses it for this key
    other = make_tenant(stack)
    elsewhere = fresh_origin()
    stack.parley("tenant", "update", "--slug", other.slug,
                 "--allowed-origin", elsewhere, "--json")
    with client_from("127.0.0.42") as client:
        r = open_session(stack, pk, elsewhere, client=client)
        assert_json_error(r, 403, "origin_not_allowed")

        # allowed by nobody: the edge refuses it, without CORS headers
        with EngineTap(stack) as tap:
            tap.clear()
            r = open_session(stack, pk, fresh_origin(), client=client)
            sent = sent_to(tap, "/widget/v1/")
    assert_json_error(r, 403, "origin_not_allowed")
    assert "Access-Control-Allow-Origin" not in r.headers
    assert sent == []


def test_the_site_key_is_the_one_client_parley_header_passed_on(
        stack, site):
    tenant, pk, origins = site
    secret = stack.secret("edge.secret")
    with EngineTap(stack) as tap, client_from("127.0.0.43") as client:
        tap.clear()
        r = open_session(stack, pk, origins[1], client=client, headers={
            "X-Parley-Context": "v1.forged",
            "X-Parley-Tenant-Id": tenant.id,
            "X_Parley_Site_Key": "pk_other",
            "Authorization": f"Bearer {tenant.key}",
        })
        [(_, headers)] = sent_to(tap, "/widget/v1/session")
    assert r.status_code == 200, r.text
    parley = sorted((n.lower(), v) for n, v in headers
                    if n.lower().replace("_", "-").startswith("x-parley-"))
    assert [n for n, _ in parley] == ["x-parley-context", "x-parley-site-key"]
    assert headers_named(headers, "X-Parley-Site-Key") == [pk]
    fields = verify_context(secret, headers_named(
        headers, "X-Parley-Context")[0], now_ms())
    assert (fields["tenant"], fields["kind"], fields["principal"]) == (
        NIL_TENANT, "edge", "public")
    assert headers_named(headers, "Authorization") == []
    assert headers_named(headers, "Origin") == [origins[1]]


def test_the_frame_page_keeps_the_engines_csp(stack, site):
    _, pk, origins = site
    nonces = []
    with client_from("127.0.0.44") as client:
        for _ in range(3):
            r = client.get(f"{stack.url}/widget/v1/frame",
                           params={"site_key": pk}, timeout=10)
            assert r.status_code == 200, r.text
            assert r.headers["Content-Type"].startswith("text/html")
            assert r.headers["X-Content-Type-Options"] == "nosniff"
            [csp] = [v for k, v in r.raw.headers.items()
                     if k.lower() == "content-security-policy"]
            directives = {d.split()[0]: d.split()[1:]
                          for d in (p.strip() for p in csp.split(";")) if d}
            assert directives["frame-ancestors"] == origins
            [script] = directives["script-src"]
            nonce = re.fullmatch(r"'nonce-([A-Za-z0-9_-]+)'", script).group(1)
            assert f'nonce="{nonce}"' in r.text
            nonces.append(nonce)

        # an answer without a CSP gets the API's, which allows nothing
        r = client.get(f"{stack.url}/widget/v1/frame",
                       params={"site_key": "pk_unknown"}, timeout=10)
    assert len(set(nonces)) == 3
    assert_json_error(r, 401, "invalid_site_key")
    assert r.headers["Content-Security-Policy"] == API_CSP


def test_a_preflight_from_an_allowed_origin_is_answered_at_the_edge(
        stack, site):
    _, _, origins = site
    with EngineTap(stack) as tap:
        tap.clear()
        r = preflight(stack, "/widget/v1/history", origins[0])
        s = preflight(stack, "/widget/v1/session", origins[1], "POST")
        sent = [t for t, _ in tap.requests()]
    assert r.status_code == 204, r.text
    assert r.headers["Access-Control-Allow-Origin"] == origins[0]
    assert r.headers["Access-Control-Allow-Methods"] == "GET, POST"
    allowed = [h.strip().lower() for h in
               r.headers["Access-Control-Allow-Headers"].split(",")]
    assert allowed == ["authorization", "content-type", "x-parley-site-key"]
    assert int(r.headers["Access-Control-Max-Age"]) > 0
    assert "origin" in vary(r)
    assert r.content == b""
    assert s.status_code == 204
    assert s.headers["Access-Control-Allow-Origin"] == origins[1]
    assert s.headers["Access-Control-Allow-Methods"] == "POST"
    # only introspection reached the engine, never the preflights
    assert all(t.startswith("/internal/v1/introspect?origin=") for t in sent)


def test_a_preflight_from_any_other_origin_is_refused(stack, site):
    for origin in (fresh_origin(), "null", "https://SHOP.example",
                   "https://shop.example/path"):
        r = preflight(stack, "/widget/v1/history", origin)
        assert_json_error(r, 403, "origin_not_allowed")
        assert "Access-Control-Allow-Origin" not in r.headers
    # an OPTIONS that is no preflight is a method the route does not have
    r = requests.options(f"{stack.url}/widget/v1/history", timeout=10)
    assert_json_error(r, 405, "method_not_allowed")


def test_origin_answers_are_cached_and_the_edge_fails_closed(stack, site):
    _, _, origins = site
    unknown = fresh_origin()

    def lookups():
        return len([e for e in engine_log_events(stack, "introspect")
                    if e.get("origin") in (origins[1], unknown)])

    before = lookups()
    for _ in range(3):
        assert preflight(stack, "/widget/v1/history",
                         origins[1]).status_code == 204
        assert preflight(stack, "/widget/v1/history",
                         unknown).status_code == 403
    assert lookups() - before <= 2
    assert len([e for e in engine_log_events(stack, "introspect")
                if e.get("origin") == unknown]) == 1

    stack.stop_engine()
    try:
        r = preflight(stack, "/widget/v1/history", fresh_origin())
    finally:
        stack.start_engine()
    assert_json_error(r, 503, "auth_unavailable")
    assert "Access-Control-Allow-Origin" not in r.headers


def test_the_bootstrap_limit_per_address_trips(stack, site):
    # parley-locations.conf: parley_limit ip rate=30r/m burst=10
    _, pk, origins = site
    with client_from("127.0.0.46") as client:
        token = open_session(stack, pk, origins[0], client=client).json()[
            "token"]
    with client_from("127.0.0.45") as client:
        statuses = []
        for _ in range(20):
            r = client.get(f"{stack.url}/widget/v1/frame",
                           params={"site_key": pk}, timeout=10)
            statuses.append(r.status_code)
            if r.status_code == 429:
                break
        assert statuses[-1] == 429, statuses
        assert len(statuses) >= 11
        assert r.headers["RateLimit-Policy"] == '"ip";q=30;w=60'
        assert int(r.headers["Retry-After"]) >= 1
        assert r.json()["error"]["code"] == "rate_limited"
        # the session route shares the bootstrap limit of the address
        assert open_session(stack, pk, origins[0],
                            client=client).status_code == 429
        # the widget API of the same address is limited apart
        r = client.get(f"{stack.url}/widget/v1/history",
                       headers={"Authorization": f"Bearer {token}"},
                       timeout=10)
        assert r.status_code == 200, r.text


def test_preflights_are_limited_per_address_before_any_lookup(stack, site):
    """Preflights carry no credential, and each made-up origin would be one
    more question to the engine: the address limit comes first."""
    # parley-locations.conf: parley_limit ip zone=parley_bootstrap 30r/m
    # burst=10 on the session route

    def origin_lookups():
        return len([e for e in engine_log_events(stack, "introspect")
                    if "origin" in e])

    before = origin_lookups()
    with client_from("127.0.0.47") as client:
        statuses = []
        started = time.monotonic()
        for _ in range(30):
            r = client.options(f"{stack.url}/widget/v1/session", headers={
                "Origin": fresh_origin(),
                "Access-Control-Request-Method": "POST"}, timeout=10)
            statuses.append(r.status_code)
            if r.status_code == 429:
                break
    elapsed = time.monotonic() - started
    assert statuses[-1] == 429, statuses
    assert set(statuses[:-1]) == {403}
    # the burst plus one, and what the rate (1 per 2 s) gave back meanwhile
    assert 11 <= len(statuses) <= 12 + elapsed / 2
    assert r.headers["RateLimit-Policy"] == '"ip";q=30;w=60'
    assert int(r.headers["Retry-After"]) >= 1
    assert r.json()["error"]["code"] == "rate_limited"
    time.sleep(0.5)   # the engine's log may trail its answers
    assert origin_lookups() - before == len(statuses) - 1


# -- the frame page's own origin on the bootstrap routes ----------------------

def test_the_frame_pages_own_origin_passes_the_bootstrap_routes(
        stack, site):
    _, site_key, _ = site
    own = f"http://127.0.0.1:{stack.port}"     # requests' Host: as sent
    with EngineTap(stack) as tap, client_from("127.0.0.80") as client:
        tap.clear()
        r = open_session(stack, site_key, own, client=client)
        sent = [t for t, _ in tap.requests()]
    # passed on to the engine, which checks the site key and the origin,
    # with no CORS headers and no question about the origin
    assert sent == ["/widget/v1/session"], sent
    assert r.status_code != 429
    assert "Access-Control-Allow-Origin" not in r.headers
    if r.status_code == 403:
        assert r.json()["error"]["code"] == "origin_not_allowed"


def test_this_hosts_https_origin_passes_where_a_proxy_ends_tls(stack, site):
    """parley-site.conf: TLS ends at a proxy in front of nginx, so the frame
    page's origin is https while nginx's connection is plain."""
    _, site_key, _ = site
    with EngineTap(stack) as tap, client_from("127.0.0.82") as client:
        tap.clear()
        open_session(stack, site_key, f"https://127.0.0.1:{stack.port}",
                     client=client)
        sent = [t for t, _ in tap.requests()]
    assert sent == ["/widget/v1/session"], sent


@pytest.mark.parametrize("origin", [
    "http://127.0.0.1:{other}",        # another port of the same host
    "http://127.0.0.1",                # the default port: another origin
    "http://localhost:{port}",         # another name of the host
])
def test_the_same_host_on_another_port_or_scheme_is_cross_origin(
        stack, site, origin):
    _, site_key, _ = site
    origin = origin.format(port=stack.port, other=stack.port + 1)
    with EngineTap(stack) as tap, client_from("127.0.0.81") as client:
        tap.clear()
        r = open_session(stack, site_key, origin, client=client)
        sent = [t for t, _ in tap.requests()]
    # asked about, unknown to every tenant, refused at the edge
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in r.headers
    assert all(t.startswith("/internal/v1/introspect?origin=")
               for t in sent), sent


@pytest.mark.parametrize("directives, error", [
    ("parley_cors on;",
     '"parley_cors" needs "parley_auth widget", "widget_stream" or '
     '"public"'),
    ("parley_auth public; parley_cors on;",
     '"parley_cors" needs "parley_methods"'),
    ("parley_auth public; parley_methods POST; parley_cors on;",
     '"parley_cors" needs "parley_key_cache"'),
    ("parley_methods GET BREW;", 'invalid method "BREW"'),
    ("parley_methods GET; parley_methods POST;", "is duplicate"),
])
def test_cors_and_methods_are_checked_at_configuration(
        nginx_check, directives, error):
    ok, output = nginx_check("server { listen 127.0.0.1:8; location /w/ { "
                             + directives + " } }")
    assert not ok
    assert error in output
