#!/usr/bin/env python3
"""The retrieval API through the edge: POST /v1/retrieve's latency for a
tenant of about 1,000 and one of about 100,000 chunks, the latter searched
exactly and then through HNSW (`tenant update --hnsw true`).

Both tenants' knowledge is real text (bench/retrieval.py's: SciFact
sentences, then Debian's documentation), ingested with `parley ingest` in
chunks of 20 tokens; the queries are SciFact claims.  The baseline, in the
same run, is GET /v1/models through the same nginx, module and engine: the
edge's key check, the context signature, one engine round trip and one small
PostgreSQL read, as every simple API call pays.  One client, kept-alive
connections, requests one after another, alternating baseline and retrieval
so both see the same machine.

    bench/run --only knowledge [--requests 400] [--scifact DIR]
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO / "bench"))

from parley_stack import Stack, free_port  # noqa: E402
from engine import bench_server  # noqa: E402
from retrieval import corpus, queries  # noqa: E402

CHUNK_TOKENS = 20
SENTENCES_PER_FILE = 500
# about 1.4 chunks of 20 tokens per SciFact/Debian sentence
SIZES = {"small": 720, "large": 72000}


def write_documents(folder, sentences):
    folder.mkdir()
    for n, start in enumerate(range(0, len(sentences), SENTENCES_PER_FILE)):
        part = sentences[start:start + SENTENCES_PER_FILE]
        (folder / f"doc-{n:05d}.txt").write_text("\n\n".join(part) + "\n")


def set_up_tenant(stack, root, slug, sentences):
    stack.parley("tenant", "create", "--slug", slug, "--name", slug.title(),
                 "--rpm", "10000000", "--burst", "1000000", "--json")
    stack.parley("tenant", "update", "--slug", slug, "--chunk-tokens",
                 CHUNK_TOKENS, "--chunk-overlap", 0, "--json")
    key = stack.parley("key", "create", "--tenant", slug, "--kind", "secret",
                       "--json")["key"]
    stack.parley("agent", "create", "--tenant", slug, "--code", "support",
                 "--name", "Support", "--json")
    write_documents(root / slug, sentences)
    done = stack.parley("ingest", "--tenant", slug, "--agent", "support",
                        root / slug, "--json")
    return key, done["chunks"]


def timed(session, method, url, **kw):
    started = time.perf_counter()
    r = session.request(method, url, timeout=600, **kw)  # a first HNSW build takes a while
    took = (time.perf_counter() - started) * 1000
    if r.status_code != 200:
        raise RuntimeError(f"{method} {url}: {r.status_code} {r.text[:200]}")
    return took


def measure(base_url, key, qs, n):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    models_url = f"{base_url}/v1/models"
    retrieve_url = f"{base_url}/v1/retrieve"
    # warm-up: the key in the edge's cache, the index built
    for q in qs[:20]:
        timed(session, "GET", models_url)
        timed(session, "POST", retrieve_url,
              json={"query": q, "model": "support", "top_k": 5})
    base, retrieve = [], []
    for i in range(n):
        base.append(timed(session, "GET", models_url))
        retrieve.append(timed(session, "POST", retrieve_url,
                              json={"query": qs[i % len(qs)],
                                    "model": "support", "top_k": 5}))
    return base, retrieve


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--scifact", type=Path,
                        default=REPO.parent / "shared" / "eval" / "scifact")
    parser.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()

    wanted = sum(SIZES.values())
    sentences, _ = corpus(args.scifact, wanted)
    qs = queries(args.scifact, args.requests)
    with tempfile.TemporaryDirectory(prefix="parley-bench-knowledge-") as tmp:
        root = Path(tmp)
        stack = Stack(root, free_port(),
                      edge_overrides={"parley_key_cache_ttl": "600s"})
        try:
            stack.up()
            stack.start_engine(env={})
            # the shipped locations with the per-key limit out of the way
            port = free_port()
            stack.extra_http = bench_server(root, port)
            stack.reload_nginx()
            rows = []
            start = 0
            for slug, count in SIZES.items():
                key, chunks = set_up_tenant(stack, root, slug,
                                            sentences[start:start + count])
                start += count
                base, retrieve = measure(f"http://127.0.0.1:{port}", key, qs,
                                         args.requests)
                rows.append((f"{chunks:>7} chunks, exact", base, retrieve))
            stack.parley("tenant", "update", "--slug", "large", "--hnsw", "true",
                         "--json")
            base, retrieve = measure(f"http://127.0.0.1:{port}", key, qs,
                                     args.requests)
            rows.append((f"{chunks:>7} chunks, HNSW ", base, retrieve))
        finally:
            stack.down()
    print(f"retrieval API through the edge: POST /v1/retrieve (top_k 5) "
          f"against GET /v1/models (the baseline: a simple API call), "
          f"{args.requests} each, alternating, one client")
    for label, base, retrieve in rows:
        b50, b99 = statistics.median(base), pct(base, 99)
        r50, r99 = statistics.median(retrieve), pct(retrieve, 99)
        print(f"  {label}  retrieve p50 {r50:.2f} ms  p99 {r99:.2f} ms"
              f"   baseline p50 {b50:.2f} ms  p99 {b99:.2f} ms"
              f"   ratio p50 {r50 / b50:.2f}x  p99 {r99 / b99:.2f}x")


if __name__ == "__main__":
    main()
