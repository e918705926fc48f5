"""Shared memory zones keep their kind across a reload: all of the module's
zones share one tag, so nginx hands a zone of the same name and size to
whichever directive names it after `nginx -s reload`.  A zone made by one
directive (a limit's times, a cache's verdicts, the status counters) and
named by another after the reload would be read as what it is not; the
reload is refused with an EMERG naming the zone, like limit_req's with a
changed key, and the old workers keep serving."""

import time

import pytest
import requests

from conftest import auth, make_tenant
from test_edge_reload import nginx_workers

STATUS = "/_parley/status"


def error_log(stack):
    return (stack.log_dir / "nginx-error.log").read_text(errors="replace")


def reload_and_wait(stack):
    """A reload that must succeed: returns once the new workers alone
    run."""
    before = nginx_workers(stack)
    stack.reload_nginx()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        workers = nginx_workers(stack)
        if not workers & before and len(workers) == stack.worker_processes:
            return
        time.sleep(0.05)
    raise AssertionError("the reload did not replace the workers")


def reload_refused(stack, conf, zone):
    """Reloads with `conf`; the EMERG line the master logged about `zone`."""
    offset = len(error_log(stack))
    (stack.nginx_dir / "nginx.conf").write_text(conf)
    stack._nginx("-s", "reload")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for line in error_log(stack)[offset:].splitlines():
            if "[emerg]" in line and f'"{zone}"' in line:
                return line
        time.sleep(0.05)
    raise AssertionError(f"no [emerg] about zone {zone!r}; the log says:\n"
                         + error_log(stack)[offset:])


def current_conf(stack):
    return (stack.nginx_dir / "nginx.conf").read_text()


def swap(conf, old, new):
    assert conf.count(old) == 1, old
    return conf.replace(old, new)


# (zone, what it is, the directive that names it after the reload): each
# keeps its name and size, only its kind changes
CASES = {
    "limit zone to stream zone": (
        "kind_switch", "parley_limit_zone zone=kind_switch:32k;",
        "parley_stream_zone zone=kind_switch:32k;"),
    "stream zone to limit zone": (
        "kind_switch", "parley_stream_zone zone=kind_switch:32k;",
        "parley_limit_zone zone=kind_switch:32k;"),
    "status zone to limit zone": (
        "parley_status", None,
        "parley_limit_zone zone=parley_status:32k;"),
    "key cache to stream zone": (
        "parley_keys", None,
        "parley_stream_zone zone=parley_keys:1m;"),
}

# the examples' own zones, renamed where the test gives their name away
RENAMED = {
    "parley_status": ("parley_status_zone zone=parley_status:32k;",
                      "parley_status_zone zone=parley_status_next:32k;"),
    "parley_keys": ("parley_key_cache zone=parley_keys:1m;",
                    "parley_key_cache zone=parley_keys_next:1m;"),
}


@pytest.fixture
def restore(stack):
    yield
    stack.extra_http = ""
    reload_and_wait(stack)


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_reload_never_hands_a_zone_to_another_kind(stack, restore, case):
    zone, before, after = CASES[case]
    tenant = make_tenant(stack)
    assert requests.get(f"{stack.url}/v1/models", headers=auth(tenant.key),
                        timeout=10).status_code == 200

    if before:
        stack.extra_http = before
        reload_and_wait(stack)

    conf = current_conf(stack)
    if before:
        conf = swap(conf, before, after)
    else:
        old, renamed = RENAMED[zone]
        conf = swap(conf, old, f"{renamed}\n{after}")

    workers = nginx_workers(stack)
    line = reload_refused(stack, conf, zone)
    assert "previously" in line, line

    # the reload was refused: the old workers go on serving, the zone's
    # old kind with them
    time.sleep(0.5)
    assert nginx_workers(stack) == workers
    r = requests.get(f"{stack.url}/v1/models", headers=auth(tenant.key),
                     timeout=10)
    assert r.status_code == 200, r.text
    r = requests.get(f"{stack.url}{STATUS}", timeout=10)
    assert r.status_code == 200
    assert "parley_requests_allowed_total" in r.text
