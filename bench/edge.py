#!/usr/bin/env python3
"""The edge benchmark (issue 3): what the module costs per request.

One nginx serves the same small static file three ways, on loopback:

  a  no module directive: the baseline;
  b  through the module: secret key auth (the key warm in the shared memory
     cache), the tenant and key rate limits (high enough never to refuse)
     and the security and RateLimit headers;
  c  the conventional open-source setup: auth_request to a small auth
     endpoint (an nginx server checking the key, over kept-alive
     connections) plus limit_req;
  h  for reference, a with the same response headers as b added by
     add_header: what the headers alone cost, without the module.

nginx runs one worker and, with two CPUs or more, that worker is pinned to
the last CPU and wrk to the first: the worker is then the bottleneck (the
output shows how busy it was), and its requests/s are what the edge costs.
wrk drives each scenario for a few seconds, in rounds that alternate them
(each round starts with another one).  A round's ratios compare runs
seconds apart, so that the machine's drift between rounds cancels out; the
median round is reported with the range of all rounds.  Prints requests/s,
p99 latency and the worker's busy share per scenario, and the ratios b/a
(target >= 0.9), b/c (target >= 2) and b/h.

    bench/run [--seconds 2] [--rounds 21] [--connections 32]
"""

import argparse
import os
import re
import statistics
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

from parley_stack import Stack, StackError, free_port  # noqa: E402

BODY = '{"ok":true}\n'

# the module's headers (ngx_http_parley_headers.c), for scenario h
PERMISSIONS = ("accelerometer=(), camera=(), geolocation=(), gyroscope=(), "
               "microphone=(), payment=(), usb=()")
CSP = "default-src 'none'; frame-ancestors 'none'"

SCENARIOS = {
    "a": "no module directives",
    "b": "module: key auth + limits + headers",
    "c": "auth_request + limit_req",
    "h": "a + the same headers by add_header",
}


def bench_http(root, port, auth_port, key):
    """Servers added to the stack's nginx: the three scenarios on `port`,
    the auth endpoint of scenario c on `auth_port`."""
    return f"""
    limit_req_zone $http_authorization zone=bench_c:1m rate=1000000r/s;

    upstream bench_auth {{
        server 127.0.0.1:{auth_port};
        keepalive 32;
    }}

    server {{
        listen 127.0.0.1:{auth_port};
        access_log off;

        location = /check {{
            if ($http_authorization = "Bearer {key}") {{
                return 204;
            }}
            return 401;
        }}
    }}

    server {{
        listen 127.0.0.1:{port};
        access_log off;

        location = /_parley/introspect {{
            internal;
            proxy_pass http://parley_engine/internal/v1/introspect;
            proxy_set_header X-Parley-Context $parley_context;
            proxy_pass_request_headers off;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}

        location = /a/static.json {{
            alias {root}/static.json;
        }}

        location = /b/static.json {{
            parley_auth secret;
            parley_introspect /_parley/introspect;
            parley_limit tenant zone=parley_limits rate=10000000r/m
                         burst=1000000;
            parley_limit key zone=parley_limits rate=10000000r/m
                         burst=1000000;
            parley_limit lookup zone=parley_limits rate=120r/m burst=60;
            parley_headers api;
            alias {root}/static.json;
        }}

        location = /h/static.json {{
            add_header X-Content-Type-Options nosniff;
            add_header Referrer-Policy no-referrer;
            add_header Permissions-Policy "{PERMISSIONS}";
            add_header Cross-Origin-Resource-Policy same-origin;
            add_header Content-Security-Policy "{CSP}";
            add_header RateLimit-Policy '"tenant";q=10000000;w=60';
            add_header RateLimit '"tenant";r=1000000;t=1';
            alias {root}/static.json;
        }}

        location = /c/static.json {{
            auth_request /_auth;
            limit_req zone=bench_c burst=1000000 nodelay;
            alias {root}/static.json;
        }}

        location = /_auth {{
            internal;
            proxy_pass http://bench_auth/check;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
"""


def wrk(url, key, seconds, connections, cpu):
    pin = ["taskset", "-c", str(cpu)] if cpu is not None else []
    r = subprocess.run(
        pin + ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
               "-H", f"Authorization: Bearer {key}", url],
        capture_output=True, text=True, check=True)
    out = r.stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
    value, unit = re.search(r"\s99%\s+([0-9.]+)(us|ms|s)\b", out).groups()
    p99_ms = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    if non2xx or errors:
        raise RuntimeError(f"{url}: not every request succeeded:\n{out}")
    return rps, p99_ms


def nginx_workers(stack):
    """The pids of the stack's nginx workers (children of its master)."""
    master = (stack.nginx_dir / "nginx.pid").read_text().strip()
    workers = []
    for proc in Path("/proc").iterdir():
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == master:
            workers.append(int(proc.name))
    return workers


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_worker(stack):
    """Waits for the reload to leave a single worker; returns its pid."""
    for _ in range(200):
        workers = nginx_workers(stack)
        if len(workers) == 1:
            return workers[0]
        time.sleep(0.05)
    raise RuntimeError(f"nginx still has workers {workers} after reload")


def check(url, key):
    """Each scenario must really serve the file (and b must pass the edge)."""
    r = subprocess.run(["curl", "-s", "-D", "-", "-H",
                        f"Authorization: Bearer {key}", url],
                       capture_output=True, text=True, check=True)
    if " 200 " not in r.stdout.splitlines()[0] or BODY not in r.stdout:
        raise RuntimeError(f"{url} does not serve the file:\n{r.stdout}")
    return r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seconds", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--connections", type=int, default=32)
    args = ap.parse_args()

    if shutil.which("wrk") is None:
        print("bench: wrk is missing (scripts/deps.sh installs it)",
              file=sys.stderr)
        return 1

    cpus = os.cpu_count()
    wrk_cpu = 0 if cpus >= 2 else None
    root = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    stack = Stack(root, free_port(),
                  edge_overrides={"parley_key_cache_ttl": "600s"})
    try:
        stack.up()
        stack.parley("tenant", "create", "--slug", "bench", "--name", "Bench",
                     "--rpm", "10000000", "--burst", "1000000", "--json")
        key = stack.parley("key", "create", "--tenant", "bench",
                           "--kind", "secret", "--json")["key"]

        www = root / "www"
        www.mkdir()
        (www / "static.json").write_text(BODY)
        www.chmod(0o755)
        (www / "static.json").chmod(0o644)

        port, auth_port = free_port(), free_port()
        stack.extra_http = bench_http(www, port, auth_port, key)
        stack.worker_processes = 1
        if wrk_cpu is not None:
            # the worker on the last CPU, as nginx's bit mask
            stack.worker_cpu_affinity = "1" + "0" * (cpus - 1)
        stack.reload_nginx()
        worker = one_worker(stack)

        urls = {s: f"http://127.0.0.1:{port}/{s}/static.json"
                for s in SCENARIOS}
        for s, url in urls.items():
            # b's first request puts the key into the cache
            headers = check(url, key)
            if s == "b" and "RateLimit-Policy" not in headers:
                raise RuntimeError(f"{url} did not pass the module:\n"
                                   f"{headers}")

        runs = {s: [] for s in SCENARIOS}
        order = list(SCENARIOS)
        for n in range(args.rounds):
            # each round starts with another scenario: none always runs
            # right after the heavy c
            for s in order[n % len(order):] + order[:n % len(order)]:
                url = urls[s]
                cpu = cpu_seconds(worker)
                t = time.monotonic()
                rps, p99 = wrk(url, key, args.seconds, args.connections,
                               wrk_cpu)
                busy = (cpu_seconds(worker) - cpu) / (time.monotonic() - t)
                runs[s].append((rps, p99, busy))
                print(f"round {n + 1}  {s}  {rps:10.0f} req/s  "
                      f"p99 {p99:7.3f} ms  worker busy {busy:4.0%}",
                      file=sys.stderr)
    except (StackError, subprocess.CalledProcessError, RuntimeError) as e:
        detail = getattr(e, "stderr", "") or ""
        print(f"bench: {e} {detail}".strip(), file=sys.stderr)
        return 1
    finally:
        stack.down()
        shutil.rmtree(root, ignore_errors=True)

    report(runs, args, cpus, wrk_cpu)
    return 0


def report(runs, args, cpus, wrk_cpu):
    pinning = ("worker and wrk pinned to their own CPUs"
               if wrk_cpu is not None else "unpinned (one CPU)")
    print(f"edge benchmark: wrk -t1 -c{args.connections} -d{args.seconds}s "
          f"on loopback, one nginx worker, {pinning}, {cpus} CPUs, "
          f"{args.rounds} rounds (medians)")
    for s, title in SCENARIOS.items():
        rps, p99, busy = (statistics.median(r[i] for r in runs[s])
                          for i in range(3))
        print(f"  {s}  {title:<38} {rps:10.0f} req/s   p99 {p99:7.3f} ms   "
              f"worker busy {busy:4.0%}")
    for other, target, note in (("a", 0.9, "target >= 0.9"),
                                ("c", 2.0, "target >= 2"),
                                ("h", None, "the module's work without "
                                            "the cost of its headers")):
        ratios = [b[0] / o[0] for b, o in zip(runs["b"], runs[other])]
        median = statistics.median(ratios)
        verdict = ""
        if target is not None:
            verdict = "  met" if median >= target else "  MISSED"
        print(f"  b/{other} = {median:.2f}  (rounds {min(ratios):.2f}"
              f"..{max(ratios):.2f}; {note}){verdict}")


if __name__ == "__main__":
    sys.exit(main())
