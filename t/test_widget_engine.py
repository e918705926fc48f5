"""The engine's widget routes, called straight on its Unix socket with the
contexts the edge would sign (CONTRACTS "Issue 3 additions"): a publishable
key plus an allowed Origin opens an anonymous widget session and mints its
token; history shows one session's messages only; the frame page carries a
fresh CSP nonce and frame-ancestors of the tenant's origins; introspection
answers origin lookups for CORS preflights."""

import base64
import hashlib
import hmac
import json
import re
import time
import urllib.parse

import pytest

from conftest import (DATA, db_rows, engine_call, engine_log_events,
                      make_tenant, signed_context)

ORIGINS = ["https://shop.example.com", "http://localhost:3000"]
GREETING = "Hi! Ask me anything about our products."


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def ring(stack):
    return [tuple(line.split()) for line in
            (stack.secrets / "widget.keys").read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def public_context(stack):
    return signed_context(stack, "edge", "public")


def open_session(stack, site_key, origin=ORIGINS[0], body=None):
    headers = {}
    if site_key is not None:
        headers["X-Parley-Site-Key"] = site_key
    if origin is not None:
        headers["Origin"] = origin
    return engine_call(stack, "POST", "/widget/v1/session",
                       public_context(stack), body=body, headers=headers)


def error_code(payload):
    return json.loads(payload)["error"]["code"]


@pytest.fixture(scope="module")
def site(stack):
    """A tenant with allowed origins, a publishable key, a greeting agent
    (the first one created) and a second agent."""
    t = make_tenant(stack, DATA / "tenant_a", agent="support")
    stack.parley("tenant", "update", "--slug", t.slug,
                 *[a for o in ORIGINS for a in ("--allowed-origin", o)],
                 "--json")
    db_rows(stack, f"UPDATE agents SET greeting = '{GREETING}' "
                   f"WHERE code = 'support'", tenant=t.id)
    stack.parley("agent", "create", "--tenant", t.slug, "--code", "sales",
                 "--name", "Sales desk", "--greeting", "Looking to buy?",
                 "--json")
    pk = stack.parley("key", "create", "--tenant", t.slug,
                      "--kind", "publishable", "--json")
    assert pk["key"].startswith("pk_") and pk["kind"] == "publishable"
    return t, pk["key"]


def test_a_site_key_from_an_allowed_origin_opens_a_session(stack, site):
    tenant, pk = site
    before = int(time.time())
    status, headers, payload = open_session(stack, pk)
    assert status == 200, payload
    answer = json.loads(payload)
    assert headers["cache-control"] == "no-store"
    assert answer["agent"] == {"code": "support", "name": f"{tenant.slug} support",
                               "greeting": GREETING}
    sid = answer["session_id"]
    assert db_rows(stack, f"SELECT tenant_id, channel, is_anonymous FROM sessions "
                          f"WHERE id = '{sid}'", user="postgres") == [
        [tenant.id, "widget", "t"]]

    head, body, sig = answer["token"].split(".")
    header = json.loads(b64url_decode(head))
    kid, secret = ring(stack)[-1]
    assert header == {"alg": "HS256", "typ": "JWT", "kid": kid}
    expected = hmac.new(secret.encode(), f"{head}.{body}".encode(),
                        hashlib.sha256).digest()
    assert hmac.compare_digest(b64url_decode(sig), expected)
    claims = json.loads(b64url_decode(body))
    assert claims["iss"] == "parley"
    assert claims["aud"] == "parley-widget"
    assert (claims["tid"], claims["sid"], claims["agt"], claims["org"]) == (
        tenant.id, sid, "support", ORIGINS[0])
    assert claims["nbf"] == claims["iat"]
    assert before <= claims["iat"] <= int(time.time())
    assert claims["exp"] - claims["iat"] == 600
    assert answer["expires_at"] == claims["exp"]


def test_the_session_is_logged_without_its_token(stack, site):
    _, pk = site
    status, _, payload = open_session(stack, pk, origin=ORIGINS[1])
    assert status == 200, payload
    answer = json.loads(payload)
    [event] = [e for e in engine_log_events(stack, "widget_session")
               if e.get("session_id") == answer["session_id"]]
    assert event["origin"] == ORIGINS[1]
    log = stack.engine_log.read_text()
    assert answer["token"] not in log
    assert answer["token"].split(".")[2] not in log
    assert pk not in log


def test_the_body_may_name_the_agent(stack, site):
    _, pk = site
    status, _, payload = open_session(stack, pk, body={"agent": "sales"})
    assert status == 200, payload
    answer = json.loads(payload)
    assert answer["agent"] == {"code": "sales", "name": "Sales desk",
                               "greeting": "Looking to buy?"}
    claims = json.loads(b64url_decode(answer["token"].split(".")[1]))
    assert claims["agt"] == "sales"

    status, _, payload = open_session(stack, pk, body={"agent": "nobody"})
    assert status == 404 and error_code(payload) == "agent_not_found"
    status, _, payload = open_session(stack, pk, body={"agent": 7})
    assert status == 400
    status, _, payload = open_session(stack, pk, body={"tenant": "x"})
    assert status == 400 and error_code(payload) == "unknown_field"


def test_bad_site_keys_are_refused_with_401(stack, site):
    tenant, pk = site
    revoked = stack.parley("key", "create", "--tenant", tenant.slug,
                           "--kind", "publishable", "--json")
    stack.parley("key", "revoke", "--key-id", revoked["id"], "--json")
    unknown = "pk_" + "a" * 12 + "_" + "b" * 43
    sessions = db_rows(stack, "SELECT count(*) FROM sessions", user="postgres")
    for name, key in {"missing": None, "garbage": "hello",
                      "unknown": unknown, "revoked": revoked["key"],
                      "secret key as site key": tenant.key,
                      "a key's prefix only": pk[:16]}.items():
        status, headers, payload = open_session(stack, key)
        assert status == 401, (name, payload)
        assert headers["content-type"] == "application/json"
        assert json.loads(payload)["error"] == {
            "message": "The site key is missing, unknown or revoked.",
            "type": "invalid_request_error", "code": "invalid_site_key"}
    assert db_rows(stack, "SELECT count(*) FROM sessions", user="postgres") == sessions


def test_an_origin_not_allowed_is_refused_with_403(stack, site):
    _, pk = site
    sessions = db_rows(stack, "SELECT count(*) FROM sessions", user="postgres")
    for origin in ("https://evil.example", "https://shop.example.com/",
                   "https://SHOP.example.com", "http://shop.example.com",
                   "https://shop.example.com:443", "null", "", None):
        status, _, payload = open_session(stack, pk, origin=origin)
        assert status == 403, (origin, payload)
        assert error_code(payload) == "origin_not_allowed"
    assert db_rows(stack, "SELECT count(*) FROM sessions", user="postgres") == sessions


def test_a_deactivated_tenants_site_key_stops_working(stack):
    t = make_tenant(stack)
    stack.parley("tenant", "update", "--slug", t.slug, "--allowed-origin",
                 ORIGINS[0], "--json")
    pk = stack.parley("key", "create", "--tenant", t.slug, "--kind",
                      "publishable", "--json")["key"]
    assert open_session(stack, pk)[0] == 200
    stack.parley("tenant", "update", "--slug", t.slug, "--active", "false",
                 "--json")
    assert open_session(stack, pk)[0] == 401


def test_the_bootstrap_routes_need_the_edge_context(stack, site):
    tenant, pk = site
    headers = {"X-Parley-Site-Key": pk, "Origin": ORIGINS[0]}
    key_context = signed_context(stack, "key", tenant.key_id, tenant.id)
    for context in (None, key_context):
        status, _, _ = engine_call(stack, "POST", "/widget/v1/session",
                                   context, headers=headers)
        assert status == 401
        status, _, _ = engine_call(stack, "GET",
                                   f"/widget/v1/frame?site_key={pk}", context)
        assert status == 401


# -- history -----------------------------------------------------------------

def widget_context(stack, tenant_id, session, agent="support"):
    return signed_context(stack, "widget", agent, tenant_id, session)


def history(stack, tenant_id, session):
    return engine_call(stack, "GET", "/widget/v1/history",
                       widget_context(stack, tenant_id, session))


def ask(stack, tenant, session, question):
    """A chat turn through the API, stored in `session` (its session_id
    extension) or in a new API session; returns the session's id."""
    context = signed_context(stack, "key", tenant.key_id, tenant.id)
    body = {"model": "support",
            "messages": [{"role": "user", "content": question}]}
    if session is not None:
        body["session_id"] = session
    status, headers, payload = engine_call(stack, "POST", "/v1/chat/completions",
                                           context, body=body)
    assert status == 200, payload
    return headers["x-parley-session-id"]


def test_history_returns_only_that_sessions_messages(stack, site):
    tenant, pk = site
    first = json.loads(open_session(stack, pk)[2])["session_id"]
    second = json.loads(open_session(stack, pk)[2])["session_id"]
    status, _, payload = history(stack, tenant.id, first)
    assert status == 200, payload
    assert json.loads(payload) == {"session_id": first, "messages": []}

    ask(stack, tenant, first, "What is the launch codename?")
    ask(stack, tenant, second, "Who is the office dog?")

    status, headers, payload = history(stack, tenant.id, first)
    assert status == 200, payload
    assert headers["cache-control"] == "no-store"
    messages = json.loads(payload)["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[0]["content"] == "What is the launch codename?"
    assert messages[0]["citations"] == []
    assert "ZEPHYR-7781" in messages[1]["content"]
    assert messages[1]["citations"], "the grounded answer keeps its citations"
    for m in messages:
        assert set(m) == {"id", "role", "content", "citations", "created_at"}
        assert abs(m["created_at"] - time.time()) < 120
    assert "office dog" not in payload

    second_messages = json.loads(history(stack, tenant.id, second)[2])["messages"]
    assert [m["content"] for m in second_messages][:1] == ["Who is the office dog?"]
    assert not {m["id"] for m in messages} & {m["id"] for m in second_messages}


def test_history_of_another_tenants_session_is_not_found(stack, site):
    tenant, pk = site
    sid = json.loads(open_session(stack, pk)[2])["session_id"]
    ask(stack, tenant, sid, "What is the launch codename?")
    other = make_tenant(stack)
    status, _, payload = history(stack, other.id, sid)
    assert status == 404 and error_code(payload) == "session_not_found"
    assert "ZEPHYR" not in payload
    # an API session of the same tenant is not a widget session
    api_session = ask(stack, tenant, None, "What is the launch codename?")
    status, _, payload = history(stack, tenant.id, api_session)
    assert status == 404 and "ZEPHYR" not in payload
    # nor is a session id that is not a UUID
    assert history(stack, tenant.id, "not-a-uuid")[0] == 404


def test_history_needs_a_widget_context(stack, site):
    tenant, pk = site
    sid = json.loads(open_session(stack, pk)[2])["session_id"]
    for context in (None, signed_context(stack, "key", tenant.key_id, tenant.id, sid),
                    signed_context(stack, "edge", "public")):
        status, _, _ = engine_call(stack, "GET", "/widget/v1/history", context)
        assert status == 401


# -- frame ---------------------------------------------------------------------

def frame(stack, site_key):
    return engine_call(stack, "GET", f"/widget/v1/frame?site_key={site_key}",
                       public_context(stack))


def csp_directives(header):
    return {d.split()[0]: d.split()[1:] for d in
            (part.strip() for part in header.split(";")) if d}


def test_the_frame_page_has_a_fresh_nonce_and_the_tenants_ancestors(stack, site):
    """Without ?origin= (the loader always names it), every allowed origin may
    frame the page, and it carries no ticket: it cannot open a session."""
    _, pk = site
    nonces = []
    for _ in range(3):
        status, headers, page = frame(stack, pk)
        assert status == 200, page
        assert headers["content-type"] == "text/html; charset=utf-8"
        assert headers["cache-control"] == "no-store"
        csp = csp_directives(headers["content-security-policy"])
        assert csp["default-src"] == ["'none'"]
        assert csp["connect-src"] == ["'self'"]
        assert csp["frame-ancestors"] == ORIGINS
        [script_src] = csp["script-src"]
        assert csp["style-src"] == [script_src]
        nonce = re.fullmatch(r"'nonce-([A-Za-z0-9_-]+)'", script_src).group(1)
        assert len(b64url_decode(nonce)) >= 16
        tags = re.findall(r"<(?:script|style|link)\b[^>]*>", page)
        assert len(tags) >= 2
        assert all(f'nonce="{nonce}"' in tag for tag in tags)
        assert GREETING in page
        assert 'data-ticket=""' in page
        nonces.append(nonce)
    assert len(set(nonces)) == 3


def test_a_tenant_without_origins_cannot_be_framed(stack):
    t = make_tenant(stack)
    pk = stack.parley("key", "create", "--tenant", t.slug, "--kind",
                      "publishable", "--json")["key"]
    status, headers, _ = frame(stack, pk)
    assert status == 200
    assert csp_directives(headers["content-security-policy"])[
        "frame-ancestors"] == ["'none'"]


def test_an_unknown_site_key_gets_a_json_401_not_a_page(stack, site):
    tenant, _ = site
    for key in ("pk_" + "z" * 12 + "_" + "y" * 43, tenant.key, "", "x"):
        status, headers, payload = frame(stack, key)
        assert status == 401
        assert headers["content-type"] == "application/json"
        assert "content-security-policy" not in headers
        assert error_code(payload) == "invalid_site_key"


# -- introspection of origins -------------------------------------------------

def introspect(stack, query):
    return engine_call(stack, "GET", f"/internal/v1/introspect?{query}",
                       signed_context(stack, "edge", "introspect"))


def test_introspection_answers_whether_an_origin_is_allowed(stack, site):
    before = len(engine_log_events(stack, "introspect"))
    status, headers, payload = introspect(stack, "origin=https%3A%2F%2Fshop.example.com")
    assert status == 200, payload
    assert int(headers["x-parley-cache-ttl"]) > 0
    for origin in ("https%3A%2F%2Fevil.example", "https%3A%2F%2Fshop.example.com%2F",
                   "not-an-origin"):
        status, _, _ = introspect(stack, f"origin={origin}")
        assert status == 404, origin
    assert len(engine_log_events(stack, "introspect")) == before + 4
    assert introspect(stack, "origin=x&key_hash=" + "0" * 64)[0] == 400


def test_introspection_of_a_publishable_key_hash_finds_nothing(stack, site):
    tenant, pk = site
    status, _, _ = introspect(stack, "key_hash=" + hashlib.sha256(pk.encode()).hexdigest())
    assert status == 404
    status, _, _ = introspect(stack, "key_hash=" + hashlib.sha256(tenant.key.encode()).hexdigest())
    assert status == 200


def frame_for(stack, site_key, origin, agent=None):
    query = f"site_key={site_key}&origin={urllib.parse.quote(origin, safe='')}"
    if agent:
        query += f"&agent={agent}"
    return engine_call(stack, "GET", f"/widget/v1/frame?{query}",
                       public_context(stack))


def ticket_of(page):
    return re.search(r'data-ticket="([^"]*)"', page).group(1)


def bootstrap(stack, body, headers=None):
    """The frame's own POST /widget/v1/session (same origin: no site key)."""
    status, _, payload = engine_call(stack, "POST", "/widget/v1/session",
                                     public_context(stack), body=body,
                                     headers=headers)
    return status, json.loads(payload)


def from_frame(stack, site_key, origin, resume=None, agent=None):
    """What the frame page for `origin` does: its ticket (and the stored
    resume credential) traded for a session."""
    _, _, page = frame_for(stack, site_key, origin, agent=agent)
    body = {"ticket": ticket_of(page)}
    if resume:
        body["resume"] = resume
    return bootstrap(stack, body)


def test_a_frame_for_an_allowed_origin_is_framed_only_there(stack, site):
    _, pk = site
    status, headers, page = frame_for(stack, pk, ORIGINS[1])
    assert status == 200, page
    csp = csp_directives(headers["content-security-policy"])
    assert csp["frame-ancestors"] == [ORIGINS[1]]
    claims = json.loads(b64url_decode(ticket_of(page).split(".")[1]))
    assert claims["aud"] == "parley-widget-ticket"
    assert claims["org"] == ORIGINS[1]
    assert claims["exp"] - claims["iat"] <= 120


def test_a_frame_for_an_origin_the_tenant_does_not_allow_is_refused(stack, site):
    _, pk = site
    status, headers, payload = frame_for(stack, pk, "https://evil.example")
    assert status == 403 and error_code(payload) == "origin_not_allowed"
    assert "content-security-policy" not in headers or \
        "frame-ancestors https://evil" not in headers["content-security-policy"]


def test_the_frames_ticket_opens_a_session_for_its_origin(stack, site):
    tenant, pk = site
    status, answer = from_frame(stack, pk, ORIGINS[0], agent="sales")
    assert status == 200, answer
    assert answer["agent"]["code"] == "sales" and answer["resumed"] is False
    claims = json.loads(b64url_decode(answer["token"].split(".")[1]))
    assert claims["org"] == ORIGINS[0] and claims["sid"] == answer["session_id"]
    assert claims["tid"] == tenant.id


def test_a_resume_credential_picks_the_conversation_up_and_renews(stack, site):
    _, pk = site
    _, first = from_frame(stack, pk, ORIGINS[0])
    # a reload: a new page, a new ticket, the stored resume credential
    status, again = from_frame(stack, pk, ORIGINS[0], resume=first["resume"])
    assert status == 200 and again["resumed"] is True
    assert again["session_id"] == first["session_id"]
    # renewal before the token expires: the resume credential alone
    status, renewed = bootstrap(stack, {"resume": again["resume"]})
    assert status == 200 and renewed["session_id"] == first["session_id"]
    assert renewed["resume_expires_at"] >= again["resume_expires_at"]


def test_a_resume_credential_does_not_cross_origins(stack, site):
    _, pk = site
    _, first = from_frame(stack, pk, ORIGINS[0])
    status, other = from_frame(stack, pk, ORIGINS[1], resume=first["resume"])
    assert status == 200 and other["resumed"] is False
    assert other["session_id"] != first["session_id"]


@pytest.mark.parametrize("field", ["ticket", "resume"])
def test_forged_tickets_and_resume_credentials_are_refused(stack, site, field):
    _, pk = site
    _, _, page = frame_for(stack, pk, ORIGINS[0])
    _, first = bootstrap(stack, {"ticket": ticket_of(page)})
    genuine = ticket_of(page) if field == "ticket" else first["resume"]
    header, claims, sig = genuine.split(".")
    forged = json.loads(b64url_decode(claims))
    forged["org"] = "https://evil.example"
    forged = ".".join([header, b64url(json.dumps(forged).encode()), sig])
    # a token is not a ticket, nor a resume credential
    for text in (forged, first["token"]):
        status, answer = bootstrap(stack, {field: text})
        assert status == 401, answer
        assert answer["error"]["code"] == f"invalid_{field}"


def test_the_loader_is_cached_and_revalidated(stack):
    status, headers, body = engine_call(stack, "GET", "/widget.js",
                                        public_context(stack))
    assert status == 200 and "data-site-key" in body
    assert headers["content-type"] == "text/javascript; charset=utf-8"
    assert headers["cache-control"] == "public, max-age=300"
    status, _, body = engine_call(stack, "GET", "/widget.js",
                                  public_context(stack),
                                  headers={"If-None-Match": headers["etag"]})
    assert status == 304 and body == ""
    # as a compressing proxy (nginx's gzip) passes it on
    status, _, _ = engine_call(stack, "GET", "/widget.js", public_context(stack),
                               headers={"If-None-Match":
                                        f'"old", W/{headers["etag"]}'})
    assert status == 304


def test_frame_assets_are_versioned_and_only_the_public_ones(stack, site):
    _, pk = site
    _, _, page = frame_for(stack, pk, ORIGINS[0])
    url = re.search(r'src="(/widget/v1/assets/frame\.js\?v=[0-9a-f]+)"',
                    page).group(1)
    status, headers, _ = engine_call(stack, "GET", url, public_context(stack))
    assert status == 200
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    for name in ("frame.html", "widget.js", "parley.yaml"):
        status, _, _ = engine_call(stack, "GET", f"/widget/v1/assets/{name}",
                                   public_context(stack))
        assert status == 404, name
