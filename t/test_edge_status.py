"""The status page (SPEC 3.7): the edge's counters in the Prometheus text
format, shared by all workers, reachable from the configured addresses only
(parley-locations.conf allows 127.0.0.1 and ::1)."""

import re

import requests

from conftest import auth, client_from, make_tenant

STATUS = "/_parley/status"
FAMILIES = ("parley_requests_allowed_total", "parley_requests_refused_total",
            "parley_auth_failures_total", "parley_dry_run_refusals_total",
            "parley_key_cache_lookups_total", "parley_active_streams",
            "parley_zone_pages", "parley_tenant_streams")
SAMPLE = re.compile(r'^([a-z_]+)(\{[^}]*\})? ([0-9]+)$')


def metrics(stack):
    r = requests.get(f"{stack.url}{STATUS}", timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/plain; version=0.0.4"
    samples = {}
    for line in r.text.splitlines():
        if line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, line
        samples[m.group(1) + (m.group(2) or "")] = int(m.group(3))
    return r.text, samples


def test_the_page_has_every_family_and_every_zone(stack):
    text, samples = metrics(stack)
    for family in FAMILIES:
        assert f"# TYPE {family} " in text
    for zone in ("parley_keys", "parley_limits", "parley_streams",
                 "parley_status"):
        used = samples[f'parley_zone_pages{{zone="{zone}",state="used"}}']
        free = samples[f'parley_zone_pages{{zone="{zone}",state="free"}}']
        assert used >= 1 and free >= 1


def test_counters_follow_what_the_edge_does(stack):
    tenant = make_tenant(stack)
    _, before = metrics(stack)

    requests.get(f"{stack.url}/v1/models", timeout=10)
    requests.get(f"{stack.url}/v1/models", headers=auth("sk_bad"), timeout=10)
    for _ in range(3):
        assert requests.get(f"{stack.url}/v1/models", headers=auth(tenant.key),
                            timeout=10).status_code == 200
    requests.get(f"{stack.url}/admin/v1/x", headers=auth("x" * 40),
                 timeout=10)

    _, after = metrics(stack)

    def delta(name):
        return after[name] - before[name]

    assert delta('parley_requests_refused_total{reason="no_credential"}') == 1
    assert delta('parley_requests_refused_total'
                 '{reason="invalid_api_key"}') == 1
    assert delta('parley_requests_refused_total'
                 '{reason="invalid_admin_token"}') == 1
    assert delta('parley_auth_failures_total{credential="secret"}') == 1
    assert delta('parley_auth_failures_total{credential="admin"}') == 1
    assert delta('parley_requests_allowed_total{credential="secret"}') == 3
    # the first request of a key asks the engine, the next ones do not
    assert delta('parley_key_cache_lookups_total{result="miss"}') == 1
    assert delta('parley_key_cache_lookups_total{result="hit"}') == 2


def test_other_addresses_are_refused(stack):
    with client_from("127.0.0.2") as client:
        r = client.get(f"{stack.url}{STATUS}", timeout=10)
    assert r.status_code == 403
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["error"]["code"] == "forbidden"


def test_only_get_and_head(stack):
    r = requests.post(f"{stack.url}{STATUS}", timeout=10)
    assert r.status_code == 405
    r = requests.head(f"{stack.url}{STATUS}", timeout=10)
    assert r.status_code == 200
    assert r.text == ""
