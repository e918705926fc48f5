// parley eval --corpus F --queries F --qrels F [--embedder NAME] [--limit N] [--json]
//
// Measures retrieval on a BEIR-format data set (SPEC 4.2): corpus.jsonl ({_id,
// title, text}), queries.jsonl ({_id, text}) and a qrels .tsv (query-id, corpus-id,
// score, with a header line). The corpus is chunked and indexed in memory exactly
// as a tenant's knowledge is (the configured default embedder or the one named,
// exact search and BM25 fused by reciprocal rank fusion); every judged query is
// embedded and searched, its chunks ranked into
// documents, and nDCG@10, Recall@100, MRR@10 and query latency p50/p99 reported.
// No database is needed.

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "cli/embedding_loop.hpp"
#include "rag/chunker.hpp"
#include "rag/eval_metrics.hpp"
#include "rag/knowledge_index.hpp"

namespace parley::cli {

namespace {

using json = nlohmann::json;

constexpr std::string_view eval_agent = "eval";
constexpr std::size_t ranked_documents = 100;   // Recall@100
constexpr std::size_t chunks_per_document = 3;  // enough chunks to fill 100 documents

struct query {
  std::string id;
  std::string text;
};

std::ifstream open_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw command_error("file_unreadable", "cannot read " + path);
  return in;
}

// Each line a JSON object; `what` names the file in errors.
template <class Fn>
void each_json_line(const std::string& path, Fn&& fn) {
  auto in = open_file(path);
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    const auto row = json::parse(line, nullptr, false);
    if (row.is_discarded() || !row.is_object() || !row.contains("_id"))
      throw command_error("bad_data_set", fmt::format("{}:{}: not a BEIR JSON line", path, n));
    fn(row);
  }
}

std::string text_field(const json& row, const char* name) {
  const auto it = row.find(name);
  return it != row.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string id_of(const json& row) {
  const auto& id = row.at("_id");
  return id.is_string() ? id.get<std::string>() : id.dump();
}

rag::corpus read_corpus(const std::string& path, const config::retrieval_config& cfg,
                        llm::embedder& embedder) {
  rag::corpus c;
  std::vector<std::string> texts;
  each_json_line(path, [&](const json& row) {
    const auto id = id_of(row);
    const auto title = text_field(row, "title");
    c.documents.push_back({id, title, ""});
    c.assignments.push_back({std::string(eval_agent), id});
    // As `parley ingest` stores a file: the title with the document, the text in
    // chunks (the index matches each chunk's terms and its document's title).
    int ordinal = 0;
    for (auto& piece :
         rag::chunk_text(text_field(row, "text"), cfg.chunk_tokens, cfg.chunk_overlap)) {
      texts.push_back(piece.content);
      c.chunks.push_back({id + "#" + std::to_string(ordinal),
                          id,
                          ordinal,
                          std::move(piece.content),
                          embedder.model(),
                          {},
                          {},
                          0});
      ++ordinal;
    }
  });
  auto vectors = embedder.embed_blocking(std::move(texts), llm::embedding_purpose::document);
  for (std::size_t i = 0; i < vectors.size(); ++i) c.chunks[i].embedding = std::move(vectors[i]);
  return c;
}

std::map<std::string, rag::judgements> read_qrels(const std::string& path) {
  auto in = open_file(path);
  std::map<std::string, rag::judgements> out;
  std::string line;
  std::getline(in, line);  // the header
  for (std::size_t n = 2; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    std::string query_id, doc_id;
    int grade = 0;
    if (!(fields >> query_id >> doc_id >> grade))
      throw command_error("bad_data_set",
                          fmt::format("{}:{}: not query-id corpus-id score", path, n));
    out[query_id][doc_id] = grade;
  }
  return out;
}

std::vector<query> read_queries(const std::string& path,
                                const std::map<std::string, rag::judgements>& judged) {
  std::vector<query> out;
  each_json_line(path, [&](const json& row) {
    auto id = id_of(row);
    if (judged.contains(id)) out.push_back({std::move(id), text_field(row, "text")});
  });
  return out;
}

// The documents of the best chunks, each once, best first.
std::vector<std::string> ranked_document_ids(const std::vector<rag::retrieved_passage>& passages) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (const auto& p : passages) {
    if (out.size() == ranked_documents) break;
    if (seen.insert(p.document_id).second) out.push_back(p.document_id);
  }
  return out;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::ranges::sort(values);
  const auto at = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[at];
}

struct totals {
  double ndcg10 = 0, recall100 = 0, mrr10 = 0;
  std::vector<double> latency_ms;
};

totals run_queries(const rag::knowledge_index& index, llm::embedder& embedder,
                   const std::vector<query>& queries,
                   const std::map<std::string, rag::judgements>& judged,
                   const rag::retrieval_options& options, bool show_progress) {
  totals t;
  for (std::size_t i = 0; i < queries.size(); ++i) {
    const auto& q = queries[i];
    const auto started = std::chrono::steady_clock::now();
    auto vectors = embedder.embed_blocking({q.text}, llm::embedding_purpose::query);
    const auto passages = index.search(eval_agent, q.text, vectors.front(), options);
    t.latency_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count());
    const auto ranked = ranked_document_ids(passages);
    const auto& j = judged.at(q.id);
    t.ndcg10 += rag::ndcg_at(ranked, j, 10);
    t.recall100 += rag::recall_at(ranked, j, 100);
    t.mrr10 += rag::reciprocal_rank_at(ranked, j, 10);
    if (show_progress && (i % 25 == 0 || i + 1 == queries.size()))
      std::fprintf(stderr, "\rqueries %zu/%zu", i + 1, queries.size());
  }
  if (show_progress) std::fputc('\n', stderr);
  return t;
}

}  // namespace

int eval(const invocation& inv) {
  inv.opts.allow_only({"config", "json", "corpus", "queries", "qrels", "embedder", "limit"});
  const auto cfg = load_config(inv);
  embedding_loop loop(cfg, inv.env);
  const auto embedder_name = inv.opts.get("embedder").value_or(loop.embedders().default_name());
  auto& embedder = loop.require(embedder_name);
  const auto judged = read_qrels(inv.opts.require("qrels"));
  auto queries = read_queries(inv.opts.require("queries"), judged);
  if (const auto limit = inv.opts.get_int("limit", 1, 1'000'000);
      limit && queries.size() > static_cast<std::size_t>(*limit))
    queries.resize(static_cast<std::size_t>(*limit));
  if (queries.empty()) throw command_error("bad_data_set", "no query has judgements");

  const auto build_started = std::chrono::steady_clock::now();
  auto corpus = read_corpus(inv.opts.require("corpus"), cfg.retrieval, embedder);
  const auto documents = corpus.documents.size();
  const rag::knowledge_index index(std::move(corpus),
                                   {embedder_name, embedder.model(), embedder.dimensions()});
  const double build_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - build_started).count();

  const bool progress = !inv.out.json && isatty(STDERR_FILENO);
  // The configured retrieval, read deep enough to rank 100 documents.
  rag::retrieval_options options;
  options.top_k = ranked_documents * chunks_per_document;
  options.min_score = config::min_score_for(cfg.retrieval, embedder_name);
  options.fusion = {cfg.retrieval.fusion.k, cfg.retrieval.fusion.lexical_weight,
                    cfg.retrieval.fusion.vector_weight};
  options.bm25 = {cfg.retrieval.bm25.k1, cfg.retrieval.bm25.b};
  auto t = run_queries(index, embedder, queries, judged, options, progress);
  const double n = static_cast<double>(queries.size());
  const json result = {{"queries", queries.size()},
                       {"documents", documents},
                       {"chunks", index.chunk_count()},
                       {"ndcg_at_10", t.ndcg10 / n},
                       {"recall_at_100", t.recall100 / n},
                       {"mrr_at_10", t.mrr10 / n},
                       {"latency_ms_p50", percentile(t.latency_ms, 0.5)},
                       {"latency_ms_p99", percentile(t.latency_ms, 0.99)},
                       {"index_build_s", build_s},
                       {"embedder", embedder_name},
                       {"embedding_model", embedder.model()}};
  inv.out.result(result,
                 fmt::format("{} queries over {} documents ({} chunks, index built in {:.1f} s)\n"
                             "nDCG@10 {:.4f}  Recall@100 {:.4f}  MRR@10 {:.4f}\n"
                             "query latency p50 {:.3f} ms  p99 {:.3f} ms",
                             queries.size(), documents, index.chunk_count(), build_s, t.ndcg10 / n,
                             t.recall100 / n, t.mrr10 / n, percentile(t.latency_ms, 0.5),
                             percentile(t.latency_ms, 0.99)));
  return 0;
}

}  // namespace parley::cli
