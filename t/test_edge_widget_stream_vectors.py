"""The widget stream id vectors (shared/test-vectors/widget_stream.json)
through nginx with the module, as the widget token vectors are: each id is
the last segment of GET /widget/v1/streams/<id> to a real nginx whose
clock reads the vector's time.  A valid id passes the edge as the widget
identity of its claims, the tenant limit taking the plan it carries (pln),
and is refused as a widget token; an invalid one
is refused with 401 JSON, the error log naming the vector's reason and
never the id.  The valid ids are exactly what minting their claims gives,
the rule the engine follows (the file's comment)."""

import base64
import hashlib
import hmac
import json
import re

import pytest

from conftest import REPO
from test_edge_widget_vectors import (REASONS, FrozenNginx,
                                      assert_passed_as_its_claims, by_time)

VECTORS = json.loads(
    (REPO / "shared" / "test-vectors" / "widget_stream.json").read_text())
TOKEN_VECTORS = json.loads(
    (REPO / "shared" / "test-vectors" / "widget_token.json").read_text())

STREAMS = "/widget/v1/streams/"

CONF = """\
load_module {module};
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
env FAKETIME;
events {{ }}
http {{
    access_log {dir}/access.log;
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

            location /widget/v1/streams/ {{
                parley_auth widget_stream;
                stub_status;
                add_header X-Test-Context $parley_context always;
            }}
        }}
    }}
}}
"""


class StreamNginx(FrozenNginx):
    VECTORS = VECTORS
    CONF = CONF
    REFUSAL = re.compile(r"parley: invalid widget (?:stream|token): "
                         r"([a-z ]+)")

    def stream(self, token):
        r, refusals, logged = self.get_logged(STREAMS + token)
        # the id is a credential: the module's lines and the request line
        # that nginx adds to them never show it
        assert token not in logged
        return r, refusals


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def minted(kid, claims):
    """The minting rule of the vectors' comment."""
    secret = {k["kid"]: k["secret"] for k in VECTORS["keys"]}[kid]

    def compact(obj):
        return b64url(json.dumps(obj, sort_keys=True,
                                 separators=(",", ":")).encode())

    signing_input = (compact({"alg": "HS256", "kid": kid, "typ": "JWT"})
                     + "." + compact(claims))
    sig = hmac.new(secret.encode(), signing_input.encode(),
                   hashlib.sha256).digest()
    return f"{signing_input}.{b64url(sig)}"


def test_the_vectors_cover_the_contract():
    reasons = {v["reason"] for v in VECTORS["invalid"]}
    assert reasons == set(REASONS.values())
    assert len(VECTORS["valid"]) >= 4
    # the same ring as the widget token's: one key ring signs both
    assert VECTORS["keys"] == TOKEN_VECTORS["keys"]
    assert VECTORS["skew"] == TOKEN_VECTORS["skew"]
    for v in VECTORS["valid"]:
        assert v["claims"]["aud"] == "parley-widget-stream"
        assert v["claims"]["sti"]
    # a stream id carries the plan as a token does
    assert [v for v in VECTORS["valid"] if "pln" in v["claims"]]
    assert [v for v in VECTORS["invalid"] if "pln" in v["name"]]
    # the audiences cross in neither direction: a widget token is here
    tokens = {v["token"] for v in TOKEN_VECTORS["valid"]}
    assert tokens & {v["token"] for v in VECTORS["invalid"]
                     if v["reason"] == "claims"}


@pytest.mark.parametrize("v", VECTORS["valid"], ids=lambda v: v["name"])
def test_each_valid_id_is_what_minting_its_claims_gives(v):
    assert v["token"] == minted(v["kid"], v["claims"])


def test_valid_ids_pass_the_edge_at_their_time(tmp_path):
    for now, vectors in by_time(VECTORS["valid"]):
        with StreamNginx(tmp_path / str(now), now) as nginx:
            for v in vectors:
                assert_passed_as_its_claims(nginx, now, v,
                                            *nginx.stream(v["token"]))

                # a stream id is no widget token
                r, refusals = nginx.get(v["token"])
                assert r.status_code == 401, v["name"]
                assert r.json()["error"]["code"] == "invalid_widget_token"
                assert [REASONS[w] for w in refusals] == ["claims"], \
                    v["name"]

            # the request line nginx logs names no stream id
            access = (nginx.root / "access.log").read_text()
            for v in vectors:
                assert v["token"] not in access
            assert f"GET {STREAMS}[stream id] HTTP/1.1" in access


def test_invalid_ids_are_refused_for_their_reason(tmp_path):
    for now, vectors in by_time(VECTORS["invalid"]):
        with StreamNginx(tmp_path / str(now), now) as nginx:
            for v in vectors:
                r, refusals = nginx.stream(v["token"])
                assert r.status_code == 401, (v["name"], r.text)
                assert r.headers["Content-Type"] == "application/json"
                assert r.json() == {"error": {
                    "message": "Invalid or expired widget stream.",
                    "type": "invalid_request_error",
                    "code": "invalid_widget_stream"}}
                assert [REASONS[w] for w in refusals] == [v["reason"]], \
                    v["name"]


@pytest.mark.parametrize("v", VECTORS["valid"][:1], ids=["a valid id"])
def test_a_valid_id_is_refused_once_its_time_is_over(tmp_path, v):
    later = v["claims"]["exp"] + VECTORS["skew"]
    with StreamNginx(tmp_path / "later", later) as nginx:
        r, refusals = nginx.stream(v["token"])
    assert r.status_code == 401
    assert [REASONS[w] for w in refusals] == ["expired"]
