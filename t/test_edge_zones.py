"""Full shared memory zones (issue 3, limits): a full limit zone forgets
idle keys, like limit_req, and otherwise refuses with 503 JSON, never
letting a request through nor forgetting an active key's state."""

import pytest

from conftest import client_from, extra_site
from parley_stack import free_port, port_open

# the smallest zones nginx allows: a few hundred keys fill them
ZONES = """
parley_limit_zone zone=tiny_active:32k;
parley_limit_zone zone=tiny_idle:32k;

server {{
    listen 127.0.0.1:{port};

    # each address may send one request a minute: its key stays active
    location = /active {{
        parley_limit ip zone=tiny_active rate=1r/m burst=0;
        parley_headers api;
        proxy_pass http://parley_engine/healthz;
    }}

    # a key is idle again 10 ms after its request
    location = /idle {{
        parley_limit ip zone=tiny_idle rate=6000r/m burst=0;
        parley_headers api;
        proxy_pass http://parley_engine/healthz;
    }}
}}
"""


def address(i):
    return f"127.3.{i // 250}.{i % 250 + 1}"


@pytest.fixture(scope="module")
def site(stack):
    port = free_port()
    with extra_site(stack, ZONES.format(port=port), "the zones site", lambda: port_open(port)):
        yield f"http://127.0.0.1:{port}"


def get(url, i):
    with client_from(address(i)) as client:
        return client.get(url, timeout=10)


def test_a_full_zone_forgets_idle_keys(site):
    for i in range(600):
        r = get(f"{site}/idle", i)
        assert r.status_code == 200, (i, r.text)


def test_a_zone_full_of_active_keys_refuses_and_forgets_none(site):
    statuses = []
    for i in range(600):
        r = get(f"{site}/active", i)
        statuses.append(r.status_code)
        if r.status_code != 200:
            break
    assert statuses[-1] == 503, statuses[-5:]
    assert len(statuses) > 50
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["error"]["code"] == "limit_unavailable"
    full = len(statuses) - 1

    # no new address gets in, and every known one keeps its state
    for i in range(full, full + 5):
        assert get(f"{site}/active", i).status_code == 503
    for i in (0, full // 2, full - 1):
        r = get(f"{site}/active", i)
        assert r.status_code == 429, (i, r.text)
