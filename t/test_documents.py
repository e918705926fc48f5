"""A tenant's documents through the edge (SPEC 4.1/4.2): uploads in every
format over multipart and JSON, processed in the background and then cited
in answers (with the page for a PDF); refusals that store nothing; duplicates;
deletion and assignment taking effect at the next question; and another
tenant that can do nothing with a tenant's documents, whatever id it tries."""

import base64
import io
import subprocess

import pytest
import requests

from conftest import (auth, chat, db_rows, document, engine_log_events, make_tenant,
                      settled, upload_json)

FACT_TXT = "The Zanzibar warehouse stores exactly 7,412 copper kettles."
FACT_MD = "Employees may bring one parrot named Basil to the Lisbon office."
FACT_HTML = "The Quimper bakery sells violet croissants on Tuesdays."
FACT_PDF = "The Reykjavik lighthouse keeper earns 3,141 kroner per shift."


def make_pdf(path, pages):
    """A text PDF with one string per page (reportlab)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setTitle("Harbour operations manual")
    for text in pages:
        c.drawString(72, 760, text)
        c.showPage()
    c.save()
    return path.read_bytes()


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory):
    d = tmp_path_factory.mktemp("pdfs")
    text = make_pdf(d / "manual.pdf", [
        "Chapter one: mooring lines are checked every morning.",
        FACT_PDF,
    ])
    subprocess.run(["qpdf", "--encrypt", "user-pw", "owner-pw", "256", "--",
                    str(d / "manual.pdf"), str(d / "locked.pdf")], check=True)
    from PIL import Image
    Image.new("RGB", (200, 100), "white").save(d / "scan.png")
    subprocess.run(["img2pdf", str(d / "scan.png"), "-o", str(d / "scan.pdf")],
                   check=True)
    return {"text": text,
            "encrypted": (d / "locked.pdf").read_bytes(),
            "scanned": (d / "scan.pdf").read_bytes()}


@pytest.fixture(scope="module")
def owner(stack):
    return make_tenant(stack)


def upload_file(stack, key, name, data, content_type=None, **fields):
    files = {"file": (name, data, content_type) if content_type
             else (name, data)}
    return requests.post(f"{stack.url}/v1/documents", headers=auth(key),
                         files=files, data=fields, timeout=30)


def cited(stack, tenant, question, model="support"):
    r = chat(stack, tenant.key, question, model=model)
    assert r.status_code == 200, r.text
    return r.json().get("citations", [])


def add_agent(stack, tenant, code):
    stack.parley("agent", "create", "--tenant", tenant.slug, "--code", code,
                 "--name", code.title(), "--json")


def documents_stored(stack, tenant):
    return int(db_rows(stack, "SELECT count(*) FROM documents",
                       tenant=tenant.id)[0][0])


@pytest.mark.parametrize("form", ["multipart", "json"])
@pytest.mark.parametrize("kind, name, body, question", [
    ("txt", "kettles.txt", FACT_TXT.encode(),
     "How many copper kettles are in the Zanzibar warehouse?"),
    ("md", "office.md",
     f"# Office rules\n\n## Pets\n\n{FACT_MD}\n".encode(),
     "What is the name of the parrot allowed in the Lisbon office?"),
    ("html", "bakery.html",
     ("<!doctype html><html><head><title>Quimper bakery</title>"
      "<script>var hidden = 'kiwi';</script></head><body><nav>Home | Menu</nav>"
      f"<h1>Weekly specials</h1><p>{FACT_HTML}</p></body></html>").encode(),
     "Which croissants does the Quimper bakery sell on Tuesdays?"),
])
def test_a_text_upload_is_processed_and_cited(stack, form, kind, name, body,
                                              question):
    tenant = make_tenant(stack)
    if form == "multipart":
        r = upload_file(stack, tenant.key, name, body, agents="support")
    else:
        r = upload_json(stack, tenant.key, content=body.decode(),
                        file_name=name, agents=["support"])
    assert r.status_code == 202, r.text
    doc = r.json()
    assert doc["status"] == "processing" and doc["duplicate"] is False
    assert doc["chunk_count"] is None
    done = settled(stack, tenant.key, doc["id"])
    assert done["status"] == "ready", done
    assert done["chunk_count"] >= 1
    assert done["agents"] == ["support"]
    citations = cited(stack, tenant, question)
    assert doc["id"] in [c["document_id"] for c in citations]
    if kind == "html":
        assert done["title"] == "Quimper bakery"
        chunks = db_rows(stack, "SELECT content FROM chunks", tenant=tenant.id)
        text = " ".join(row[0] for row in chunks)
        assert "kiwi" not in text and "Home | Menu" not in text
    if kind == "md":
        section = [c for c in citations if c["document_id"] == doc["id"]][0]
        assert section["section"] == "Office rules \u203a Pets"


@pytest.mark.parametrize("form", ["multipart", "json"])
def test_a_pdf_is_cited_with_its_page(stack, pdfs, form):
    tenant = make_tenant(stack)
    if form == "multipart":
        r = upload_file(stack, tenant.key, "manual.pdf", pdfs["text"],
                        "application/pdf", agents="support")
    else:
        r = upload_json(stack, tenant.key,
                        data=base64.b64encode(pdfs["text"]).decode(),
                        file_name="manual.pdf", agents=["support"])
    assert r.status_code == 202, r.text
    done = settled(stack, tenant.key, r.json()["id"])
    assert done["status"] == "ready", done
    assert done["mime_type"] == "application/pdf"
    assert done["title"] == "Harbour operations manual"
    citations = cited(stack, tenant,
                      "How much does the Reykjavik lighthouse keeper earn?")
    top = [c for c in citations if c["document_id"] == done["id"]]
    assert top and top[0]["page"] == 2, citations


@pytest.mark.parametrize("which, reason", [
    ("encrypted", "encrypted"),
    ("scanned", "no text layer"),
])
def test_unreadable_pdfs_fail_with_a_reason(stack, owner, pdfs, which, reason):
    r = upload_file(stack, owner.key, f"{which}.pdf", pdfs[which])
    assert r.status_code == 202, r.text
    done = settled(stack, owner.key, r.json()["id"])
    assert done["status"] == "failed"
    assert reason in done["error"]
    assert done["chunk_count"] is None


@pytest.mark.parametrize("name, data, content_type, code", [
    ("report.pdf", open("/bin/true", "rb").read(), "application/pdf",
     "unsupported_document"),
    ("page.html", b"\x89PNG\r\n\x1a\n" + bytes(200), "text/html",
     "unsupported_document"),
    ("notes.txt", b"hello\x00world", "text/plain", "unsupported_document"),
])
def test_disguised_or_binary_uploads_are_refused_and_store_nothing(
        stack, name, data, content_type, code):
    tenant = make_tenant(stack)
    r = upload_file(stack, tenant.key, name, data, content_type)
    assert r.status_code == 415, r.text
    assert r.json()["error"]["code"] == code
    j = upload_json(stack, tenant.key, data=base64.b64encode(data).decode(),
                    file_name=name)
    assert j.status_code == 415, j.text
    assert documents_stored(stack, tenant) == 0


def test_nul_in_json_content_is_refused(stack):
    tenant = make_tenant(stack)
    r = upload_json(stack, tenant.key, content="one\u0000two", title="x")
    assert r.status_code == 415, r.text
    assert documents_stored(stack, tenant) == 0


@pytest.mark.parametrize("body, code", [
    ({"title": "no content"}, "missing_content"),
    ({"content": "a", "data": "YQ=="}, "missing_content"),
    ({"data": "not base64!"}, "invalid_type"),
    ({"content": "a", "colour": "red"}, "unknown_field"),
    ({"content": "a", "agents": "support"}, "invalid_type"),
    ({"content": "a", "title": "bad\u0007title"}, "invalid_title"),
    ({"content": "Some words.", "agents": ["nobody"]}, "agent_not_found"),
])
def test_malformed_uploads_are_refused_and_store_nothing(stack, body, code):
    tenant = make_tenant(stack)
    r = upload_json(stack, tenant.key, **body)
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["error"]["code"] == code
    assert documents_stored(stack, tenant) == 0


def test_a_file_name_with_path_tricks_is_neutralised(stack):
    tenant = make_tenant(stack)
    # sent as written, without the client library's escaping
    body = (b"--b0undary\r\nContent-Disposition: form-data; name=\"file\"; "
            b"filename=\"../../etc/cron.d/evil\x01\x1b.txt\"\r\n\r\n"
            b"Plain facts about nothing.\r\n--b0undary--\r\n")
    r = requests.post(f"{stack.url}/v1/documents",
                      headers={**auth(tenant.key), "Content-Type":
                               "multipart/form-data; boundary=b0undary"},
                      data=body, timeout=10)
    assert r.status_code == 202, r.text
    assert r.json()["source_uri"] == "evil.txt"
    assert r.json()["title"] == "evil.txt"


def test_identical_content_is_stored_once_and_merges_agents(stack):
    tenant = make_tenant(stack)
    add_agent(stack, tenant, "sales")
    first = upload_file(stack, tenant.key, "a.txt", FACT_TXT.encode(),
                        agents="support")
    assert first.status_code == 202
    settled(stack, tenant.key, first.json()["id"])
    again = upload_json(stack, tenant.key, content=FACT_TXT, agents=["sales"])
    assert again.status_code == 200, again.text
    assert again.json()["duplicate"] is True
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["agents"] == ["sales", "support"]
    assert documents_stored(stack, tenant) == 1


def test_a_failed_document_is_replaced_by_a_new_upload(stack, pdfs):
    tenant = make_tenant(stack)
    r = upload_file(stack, tenant.key, "scan.pdf", pdfs["scanned"])
    first = settled(stack, tenant.key, r.json()["id"])
    assert first["status"] == "failed"
    again = upload_file(stack, tenant.key, "scan.pdf", pdfs["scanned"])
    assert again.status_code == 202, again.text
    assert again.json()["id"] != first["id"]
    assert document(stack, tenant.key, first["id"]).status_code == 404


def test_deleting_a_document_removes_its_knowledge_at_once(stack):
    tenant = make_tenant(stack)
    r = upload_file(stack, tenant.key, "k.txt", FACT_TXT.encode(),
                    agents="support")
    doc_id = r.json()["id"]
    settled(stack, tenant.key, doc_id)
    question = "How many copper kettles are in the Zanzibar warehouse?"
    assert doc_id in [c["document_id"] for c in cited(stack, tenant, question)]
    d = requests.delete(f"{stack.url}/v1/documents/{doc_id}",
                        headers=auth(tenant.key), timeout=10)
    assert d.status_code == 200, d.text
    assert d.json() == {"id": doc_id, "object": "document", "deleted": True}
    assert cited(stack, tenant, question) == []
    assert document(stack, tenant.key, doc_id).status_code == 404
    assert db_rows(stack, "SELECT count(*) FROM chunks",
                   tenant=tenant.id) == [["0"]]
    again = requests.delete(f"{stack.url}/v1/documents/{doc_id}",
                            headers=auth(tenant.key), timeout=10)
    assert again.status_code == 404


def test_assignment_decides_what_an_agent_sees(stack):
    tenant = make_tenant(stack)
    add_agent(stack, tenant, "sales")
    r = upload_file(stack, tenant.key, "k.txt", FACT_TXT.encode(),
                    agents="support")
    doc_id = r.json()["id"]
    settled(stack, tenant.key, doc_id)
    question = "How many copper kettles are in the Zanzibar warehouse?"
    assert cited(stack, tenant, question, model="sales") == []
    url = f"{stack.url}/v1/agents/sales/documents/{doc_id}"
    on = requests.put(url, headers=auth(tenant.key), timeout=10)
    assert on.status_code == 200, on.text
    assert on.json()["enabled"] is True and on.json()["changed"] is True
    assert doc_id in [c["document_id"]
                      for c in cited(stack, tenant, question, model="sales")]
    listed = requests.get(f"{stack.url}/v1/documents?agent=sales",
                          headers=auth(tenant.key), timeout=10).json()
    assert [d["id"] for d in listed["data"]] == [doc_id]
    off = requests.delete(url, headers=auth(tenant.key), timeout=10)
    assert off.status_code == 200 and off.json()["enabled"] is False
    assert cited(stack, tenant, question, model="sales") == []
    missing = requests.put(f"{stack.url}/v1/agents/nobody/documents/{doc_id}",
                           headers=auth(tenant.key), timeout=10)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "agent_not_found"


def test_listing_is_paged_newest_first_and_filtered(stack):
    tenant = make_tenant(stack)
    ids = []
    for i in range(5):
        r = upload_json(stack, tenant.key, content=f"Fact number {i} about owls.",
                        title=f"Owls {i}")
        ids.append(r.json()["id"])
    for doc_id in ids:
        settled(stack, tenant.key, doc_id)
    url = f"{stack.url}/v1/documents"
    first = requests.get(url, params={"limit": 2}, headers=auth(tenant.key),
                         timeout=10).json()
    assert [d["id"] for d in first["data"]] == ids[::-1][:2]
    assert first["has_more"] is True and first["last_id"] == ids[3]
    rest = requests.get(url, params={"limit": 10, "after": first["last_id"]},
                        headers=auth(tenant.key), timeout=10).json()
    assert [d["id"] for d in rest["data"]] == ids[::-1][2:]
    assert rest["has_more"] is False
    ready = requests.get(url, params={"status": "failed"},
                         headers=auth(tenant.key), timeout=10).json()
    assert ready["data"] == []
    bad = requests.get(url, params={"limit": 0}, headers=auth(tenant.key),
                       timeout=10)
    assert bad.status_code == 400


def test_retrieve_shows_the_ranks_behind_each_passage(stack):
    tenant = make_tenant(stack)
    r = upload_file(stack, tenant.key, "k.txt", FACT_TXT.encode(),
                    agents="support")
    settled(stack, tenant.key, r.json()["id"])
    got = requests.post(f"{stack.url}/v1/retrieve", headers=auth(tenant.key),
                        json={"query": "copper kettles Zanzibar",
                              "model": "support", "top_k": 3}, timeout=10)
    assert got.status_code == 200, got.text
    top = got.json()["data"][0]
    assert top["document_id"] == r.json()["id"]
    assert top["rank"] == 1 and top["lexical_rank"] == 1
    assert top["vector_rank"] is not None and top["score"] > 0
    assert "kettles" in top["content"]
    for body in ({"query": "", "model": "support"},
                 {"query": "x", "model": "support", "top_k": 0},
                 {"query": "x"}):
        bad = requests.post(f"{stack.url}/v1/retrieve",
                            headers=auth(tenant.key), json=body, timeout=10)
        assert bad.status_code == 400, body
    unknown = requests.post(f"{stack.url}/v1/retrieve",
                            headers=auth(tenant.key),
                            json={"query": "x", "model": "nobody"}, timeout=10)
    assert unknown.status_code == 404


def test_another_tenant_cannot_touch_a_tenants_documents(stack, owner):
    r = upload_file(stack, owner.key, "secret.txt",
                    b"The vault combination is 31-41-59.", agents="support")
    doc_id = r.json()["id"]
    settled(stack, owner.key, doc_id)
    intruder = make_tenant(stack)
    h = auth(intruder.key)
    assert requests.get(f"{stack.url}/v1/documents/{doc_id}", headers=h,
                        timeout=10).status_code == 404
    listed = requests.get(f"{stack.url}/v1/documents", headers=h,
                          timeout=10).json()
    assert doc_id not in [d["id"] for d in listed["data"]]
    assert requests.delete(f"{stack.url}/v1/documents/{doc_id}", headers=h,
                           timeout=10).status_code == 404
    assert requests.put(f"{stack.url}/v1/agents/support/documents/{doc_id}",
                        headers=h, timeout=10).status_code == 404
    got = requests.post(f"{stack.url}/v1/retrieve", headers=h,
                        json={"query": "vault combination", "model": "support"},
                        timeout=10)
    assert got.status_code == 200 and got.json()["data"] == []
    # the same content uploaded by the intruder is its own document
    mine = upload_file(stack, intruder.key, "secret.txt",
                       b"The vault combination is 31-41-59.")
    assert mine.status_code == 202 and mine.json()["id"] != doc_id
    assert settled(stack, owner.key, doc_id)["status"] == "ready"
    for bad in ("not-a-uuid", doc_id.upper(), doc_id + "%00", "%2e%2e"):
        assert requests.get(f"{stack.url}/v1/documents/{bad}", headers=h,
                            timeout=10).status_code in (400, 404)


def test_the_edge_admits_uploads_only_where_they_belong(stack, owner):
    h = auth(owner.key)
    put = requests.put(f"{stack.url}/v1/documents", headers=h, timeout=10)
    assert put.status_code == 405
    assert "POST" in put.headers["Allow"]
    assert requests.put(f"{stack.url}/v1/models", headers=h,
                        timeout=10).status_code == 405
    assert requests.get(f"{stack.url}/v1/retrieve", headers=h,
                        timeout=10).status_code == 405
    plain = requests.post(f"{stack.url}/v1/documents",
                          headers={**h, "Content-Type": "text/plain"},
                          data=b"hello", timeout=10)
    assert plain.status_code == 415
    assert plain.json()["error"]["code"] == "unsupported_media_type"
    # multipart elsewhere in /v1/ is still refused
    chat_form = requests.post(f"{stack.url}/v1/chat/completions", headers=h,
                              files={"file": ("a.txt", b"x")}, timeout=10)
    assert chat_form.status_code == 415
    # no key: 401 before anything else
    anon = requests.post(f"{stack.url}/v1/documents",
                         files={"file": ("a.txt", b"x")}, timeout=10)
    assert anon.status_code == 401
    big = requests.post(f"{stack.url}/v1/documents", headers=h,
                        files={"file": ("big.txt", io.BytesIO(b"a" * (25 << 20)))},
                        timeout=60)
    assert big.status_code == 413
    assert big.json()["error"]["code"] == "request_too_large"


def test_an_oversized_document_inside_the_edge_limit_is_refused(stack):
    tenant = make_tenant(stack)
    r = upload_file(stack, tenant.key, "big.txt", b"word " * (17 << 18))
    assert r.status_code == 413, r.text
    assert r.json()["error"]["code"] == "document_too_large"
    assert documents_stored(stack, tenant) == 0


def test_a_truncated_multipart_body_is_refused(stack):
    tenant = make_tenant(stack)
    body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
            b"filename=\"a.txt\"\r\n\r\nsome text that never ends")
    r = requests.post(f"{stack.url}/v1/documents",
                      headers={**auth(tenant.key),
                               "Content-Type": "multipart/form-data; boundary=XyZ"},
                      data=body, timeout=10)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "invalid_multipart"
    assert documents_stored(stack, tenant) == 0


def test_a_tenants_chunk_size_applies_to_its_next_uploads(stack):
    tenant = make_tenant(stack)
    text = " ".join(f"Sentence {i} tells of owls and their habits." for i in range(40))
    before = upload_json(stack, tenant.key, content=text, title="Owls")
    assert settled(stack, tenant.key, before.json()["id"])["chunk_count"] == 1
    # a size below the default overlap, with no overlap of its own, still cuts
    small = stack.parley("tenant", "update", "--slug", tenant.slug,
                         "--chunk-tokens", 40, "--json")
    assert small["chunk_tokens"] == 40 and small["chunk_overlap"] is None
    odd = upload_json(stack, tenant.key, content=text + " Odd.", title="Owls odd")
    assert settled(stack, tenant.key, odd.json()["id"])["status"] == "ready"
    changed = stack.parley("tenant", "update", "--slug", tenant.slug,
                           "--chunk-tokens", 40, "--chunk-overlap", 5, "--json")
    assert (changed["chunk_tokens"], changed["chunk_overlap"]) == (40, 5)
    after = upload_json(stack, tenant.key, content=text + " The end.",
                        title="Owls again")
    assert settled(stack, tenant.key, after.json()["id"])["chunk_count"] >= 8
    for args, code in [(["--chunk-tokens", 5], "invalid_chunk_tokens"),
                       (["--chunk-overlap", 40], "invalid_chunk_overlap")]:
        r = stack.parley("tenant", "update", "--slug", tenant.slug, *args,
                         "--json", check=False)
        assert r.returncode != 0 and code in r.stdout + r.stderr


def test_a_tenant_switched_to_hnsw_is_searched_through_it(stack):
    tenant = make_tenant(stack)
    r = upload_file(stack, tenant.key, "k.txt", FACT_TXT.encode(),
                    agents="support")
    settled(stack, tenant.key, r.json()["id"])
    question = "How many copper kettles are in the Zanzibar warehouse?"
    assert r.json()["id"] in [c["document_id"] for c in cited(stack, tenant, question)]
    switched = stack.parley("tenant", "update", "--slug", tenant.slug,
                            "--hnsw", "true", "--json")
    assert switched["hnsw"] is True
    assert r.json()["id"] in [c["document_id"] for c in cited(stack, tenant, question)]
    loads = [e for e in engine_log_events(stack, "index_load")
             if e["tenant_id"] == tenant.id]
    assert loads[-1]["hnsw"] is True
    assert not any(e["hnsw"] for e in loads[:-1])
