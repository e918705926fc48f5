"""Behind a trusted proxy (conf.examples/parley-site.conf): the per-address
limits key on the client address the proxy reports in X-Forwarded-For, and
only on connections from that proxy; anyone else's X-Forwarded-For changes
nothing.  An IPv6 client is one /64, and an IPv4 client stays itself when it
arrives IPv4-mapped."""

import pytest

from conftest import REPO, client_from, extra_site
from parley_stack import free_port, port_open

SITE = REPO / "conf.examples" / "parley-site.conf"
PROXY = "127.0.0.71"


@pytest.fixture(scope="module")
def site(stack):
    port = free_port()
    text = SITE.read_text()
    for old, new in (
            ("listen 10.0.0.10:8080;", f"listen 127.0.0.1:{port};"),
            ("set_real_ip_from 10.0.0.2;", f"set_real_ip_from {PROXY};"),
            ("include /etc/nginx/parley/parley-locations.conf;",
             f"include {REPO / 'conf.examples' / 'parley-locations.conf'};")):
        assert old in text
        text = text.replace(old, new)
    with extra_site(stack, text, "the site behind a proxy", lambda: port_open(port)):
        yield f"http://127.0.0.1:{port}"


def frame(client, url, forwarded_for=None):
    # the bootstrap routes: parley_limit ip zone=parley_bootstrap 30r/m
    # burst=10; no valid site key is needed to be counted
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.get(f"{url}/widget/v1/frame",
                      params={"site_key": "pk_unknown"}, headers=headers,
                      timeout=10).status_code


def exhaust(client, url, forwarded_for=None):
    """Requests until the address limit refuses; how many it took."""
    for n in range(1, 40):
        if frame(client, url, forwarded_for) == 429:
            return n
    raise AssertionError("the address limit never refused")


def test_the_proxy_reports_the_client_address(site):
    with client_from(PROXY) as proxy:
        assert exhaust(proxy, site, "203.0.113.7") >= 11
        assert frame(proxy, site, "203.0.113.7") == 429
        # another client behind the same proxy has its own limit
        assert frame(proxy, site, "203.0.113.8") == 401


def test_anyone_else_cannot_choose_their_address(site):
    with client_from("127.0.0.72") as client:
        for n in range(1, 40):
            # a new made-up address every time, ignored: the limit is the
            # connection's
            if frame(client, site, f"198.51.100.{n}") == 429:
                break
        assert 11 <= n < 39


def test_an_ipv6_client_is_one_64(site):
    with client_from(PROXY) as proxy:
        assert exhaust(proxy, site, "2001:db8:1:2::1") >= 11
        assert frame(proxy, site, "2001:db8:1:2:ffff:ffff:ffff:ffff") == 429
        assert frame(proxy, site, "2001:db8:1:3::1") == 401


def test_an_ipv4_mapped_client_is_its_ipv4_address(site):
    with client_from(PROXY) as proxy:
        assert exhaust(proxy, site, "203.0.113.9") >= 11
        assert frame(proxy, site, "::ffff:203.0.113.9") == 429
        assert frame(proxy, site, "::ffff:203.0.113.10") == 401
