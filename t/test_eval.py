"""parley eval (SPEC 4.2): retrieval measured on a BEIR-format data set, the
corpus indexed as a tenant's knowledge is. A tiny data set whose answers are
plain to see scores exactly what a person would compute by hand."""

import json

import pytest

CORPUS = [
    {"_id": "d1", "title": "Vacation days",
     "text": "New employees receive twenty paid vacation days per year."},
    {"_id": "d2", "title": "Remote work",
     "text": "Employees may work remotely up to three days per week."},
    {"_id": "d3", "title": "Travel expenses",
     "text": "Trains are preferred for trips under five hours."},
]
QUERIES = [
    {"_id": "q1", "text": "how many paid vacation days"},
    {"_id": "q2", "text": "trains for trips"},
    {"_id": "q3", "text": "not judged, so not asked"},
]


def write_set(root, qrels):
    (root / "corpus.jsonl").write_text(
        "\n".join(json.dumps(d) for d in CORPUS) + "\n")
    (root / "queries.jsonl").write_text(
        "\n".join(json.dumps(q) for q in QUERIES) + "\n")
    (root / "qrels.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" +
        "".join(f"{q}\t{d}\t{s}\n" for q, d, s in qrels))
    return ["--corpus", root / "corpus.jsonl", "--queries",
            root / "queries.jsonl", "--qrels", root / "qrels.tsv"]


def test_plain_answers_score_perfectly(stack, tmp_path):
    files = write_set(tmp_path, [("q1", "d1", 1), ("q2", "d3", 1)])
    result = stack.parley("eval", *files, "--json")
    assert result["queries"] == 2 and result["documents"] == 3
    assert result["ndcg_at_10"] == pytest.approx(1.0)
    assert result["recall_at_100"] == pytest.approx(1.0)
    assert result["mrr_at_10"] == pytest.approx(1.0)
    assert 0 < result["latency_ms_p50"] <= result["latency_ms_p99"]


def test_a_judgement_the_index_cannot_meet_lowers_the_scores(stack, tmp_path):
    # q2's judged answer is the remote-work page: ranked below the travel page
    files = write_set(tmp_path, [("q1", "d1", 1), ("q2", "d2", 1)])
    result = stack.parley("eval", *files, "--json")
    assert result["mrr_at_10"] < 1.0 and result["ndcg_at_10"] < 1.0
    assert result["mrr_at_10"] >= 0.5  # q1 still first


def test_a_broken_data_set_is_an_explicit_error(stack, tmp_path):
    files = write_set(tmp_path, [("q1", "d1", 1)])
    (tmp_path / "corpus.jsonl").write_text("{not json\n")
    r = stack.parley("eval", *files, "--json", check=False)
    assert r.returncode != 0
    assert json.loads(r.stdout or r.stderr)["error"]["code"] == "bad_data_set"
