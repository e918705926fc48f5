// The retrieval benchmark's measuring half (bench/retrieval.py prepares the text
// and prints the report): the engine's exact and HNSW indexes against FAISS's
// IndexFlatIP on the same vectors, one thread, one query at a time.
//
//   retrieval_bench --texts FILE --queries FILE [--k 10] [--rounds 5]
//                   [--m 16] [--ef-construction 200] [--ef-search 64]
//
// FILE holds one text per line. Prints one JSON object on stdout.

#include <faiss/IndexFlat.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "rag/exact_index.hpp"
#include "rag/hashing_embedder.hpp"
#include "rag/hnsw_index.hpp"

namespace {

using namespace parley::rag;
using clock_type = std::chrono::steady_clock;

constexpr std::size_t dimensions = 384;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(std::move(line));
  }
  return lines;
}

// Keeps the optimiser from dropping a search whose result is not otherwise used.
volatile std::uint64_t sink = 0;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

double recall(const std::vector<std::vector<std::uint32_t>>& truth,
              const std::vector<std::vector<std::uint32_t>>& found) {
  double total = 0;
  for (std::size_t q = 0; q < truth.size(); ++q) {
    const std::set<std::uint32_t> rows(truth[q].begin(), truth[q].end());
    std::size_t hit = 0;
    for (const auto r : found[q]) hit += rows.count(r);
    total += truth[q].empty() ? 1.0 : static_cast<double>(hit) / truth[q].size();
  }
  return total / static_cast<double>(truth.size());
}

std::string json_list(const std::vector<double>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

}  // namespace

int main(int argc, char** argv) try {
  std::string texts_path, queries_path;
  std::size_t k = 10, rounds = 5;
  hnsw_params params;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--texts")
      texts_path = value;
    else if (flag == "--queries")
      queries_path = value;
    else if (flag == "--k")
      k = std::stoul(value);
    else if (flag == "--rounds")
      rounds = std::max<std::size_t>(std::stoul(value), 1);
    else if (flag == "--m")
      params.m = std::stoul(value);
    else if (flag == "--ef-construction")
      params.ef_construction = std::stoul(value);
    else if (flag == "--ef-search")
      params.ef_search = std::stoul(value);
    else
      throw std::invalid_argument("unknown option " + flag);
  }
  if (texts_path.empty() || queries_path.empty()) {
    throw std::invalid_argument("usage: retrieval_bench --texts FILE --queries FILE [options]");
  }
  omp_set_num_threads(1);

  const hashing_embedder embedder(dimensions);
  const auto texts = read_lines(texts_path);
  const auto query_texts = read_lines(queries_path);
  const std::size_t rows = texts.size();
  const std::size_t nq = query_texts.size();
  if (rows == 0 || nq == 0) throw std::invalid_argument("no texts or no queries");

  auto start = clock_type::now();
  std::vector<float> vectors;
  vectors.reserve(rows * dimensions);
  for (const auto& t : texts) {
    const auto v = embedder.embed(t);
    vectors.insert(vectors.end(), v.begin(), v.end());
  }
  const double embed_s = seconds_since(start);
  std::vector<std::vector<float>> queries;
  for (const auto& t : query_texts) queries.push_back(embedder.embed(t));

  // Building: what the engine does when a tenant's knowledge changes.
  start = clock_type::now();
  exact_index exact(dimensions);
  exact.reserve(rows);
  for (std::size_t r = 0; r < rows; ++r) exact.add({vectors.data() + r * dimensions, dimensions});
  const double exact_build_s = seconds_since(start);

  start = clock_type::now();
  faiss::IndexFlatIP flat(dimensions);
  flat.add(static_cast<faiss::Index::idx_t>(rows), vectors.data());
  const double faiss_build_s = seconds_since(start);

  start = clock_type::now();
  hnsw_index hnsw(dimensions, rows, params);
  for (std::size_t r = 0; r < rows; ++r) hnsw.add({vectors.data() + r * dimensions, dimensions});
  const double hnsw_build_s = seconds_since(start);

  const std::vector<std::uint8_t> all(rows, 1);
  std::vector<std::uint8_t> quarter(rows, 0);
  for (std::size_t r = 0; r < rows; r += 4) quarter[r] = 1;

  std::vector<std::vector<std::uint32_t>> exact_top(nq), hnsw_top(nq), faiss_top(nq);
  std::vector<float> distances(k);
  std::vector<faiss::Index::idx_t> labels(k);

  const auto run_exact = [&](std::size_t q) {
    const auto hits = exact.search(queries[q], k, all);
    exact_top[q].clear();
    for (const auto& h : hits) exact_top[q].push_back(h.row);
  };
  const auto run_faiss = [&](std::size_t q) {
    flat.search(1, queries[q].data(), static_cast<faiss::Index::idx_t>(k), distances.data(),
                labels.data());
    faiss_top[q].assign(labels.begin(), labels.end());
  };
  const auto run_hnsw = [&](std::size_t q) {
    const auto hits = hnsw.search(queries[q], k, all);
    hnsw_top[q].clear();
    for (const auto& h : hits) hnsw_top[q].push_back(h.row);
  };

  // Warm-up: page the matrices in, settle the clocks.
  for (std::size_t q = 0; q < std::min<std::size_t>(nq, 20); ++q) {
    run_exact(q);
    run_faiss(q);
    run_hnsw(q);
  }

  // Rounds over slices of the queries, alternating which search goes first.
  std::vector<double> exact_over_faiss, hnsw_speedup, exact_ms, faiss_ms, hnsw_ms;
  for (std::size_t round = 0; round < rounds; ++round) {
    const std::size_t begin = nq * round / rounds, end = nq * (round + 1) / rounds;
    double t_exact = 0, t_faiss = 0, t_hnsw = 0;
    const auto timed = [&](auto&& run) {
      const auto s = clock_type::now();
      for (std::size_t q = begin; q < end; ++q) run(q);
      return seconds_since(s);
    };
    if (round % 2 == 0) {
      t_exact = timed(run_exact);
      t_faiss = timed(run_faiss);
      t_hnsw = timed(run_hnsw);
    } else {
      t_hnsw = timed(run_hnsw);
      t_faiss = timed(run_faiss);
      t_exact = timed(run_exact);
    }
    const double n = static_cast<double>(end - begin);
    exact_over_faiss.push_back(t_exact / t_faiss);
    hnsw_speedup.push_back(t_exact / t_hnsw);
    exact_ms.push_back(1e3 * t_exact / n);
    faiss_ms.push_back(1e3 * t_faiss / n);
    hnsw_ms.push_back(1e3 * t_hnsw / n);
  }
  std::size_t agree = 0;
  for (std::size_t q = 0; q < nq; ++q) {
    agree += !exact_top[q].empty() && !faiss_top[q].empty() &&
             exact_top[q][0] == static_cast<std::uint32_t>(faiss_top[q][0]);
  }

  // With a filter: an agent that sees every fourth row.
  std::vector<std::vector<std::uint32_t>> filtered_truth(nq), filtered_found(nq);
  for (std::size_t q = 0; q < nq; ++q) {
    for (const auto& h : exact.search(queries[q], k, quarter)) filtered_truth[q].push_back(h.row);
  }
  start = clock_type::now();
  for (std::size_t q = 0; q < nq; ++q) {
    for (const auto& h : hnsw.search(queries[q], k, quarter)) filtered_found[q].push_back(h.row);
  }
  const double filtered_ms = 1e3 * seconds_since(start) / static_cast<double>(nq);
  for (const auto& found : filtered_found) {
    for (const auto r : found) sink = sink + (quarter[r] == 0 ? 1000000 : 0);
  }
  if (sink >= 1000000) throw std::logic_error("the filtered search returned a disallowed row");

  const double exact_median_ms = median(exact_ms);
  std::printf(
      "{\"rows\":%zu,\"dimensions\":%zu,\"queries\":%zu,\"k\":%zu,\"rounds\":%zu,"
      "\"kernel\":\"%s\",\"m\":%zu,\"ef_construction\":%zu,\"ef_search\":%zu,"
      "\"embed_s\":%f,\"exact_build_s\":%f,\"faiss_build_s\":%f,\"hnsw_build_s\":%f,"
      "\"exact_bytes\":%zu,\"hnsw_bytes\":%zu,"
      "\"exact_ms\":%f,\"faiss_ms\":%f,\"hnsw_ms\":%f,\"exact_gbs\":%f,"
      "\"exact_over_faiss\":%s,\"hnsw_speedup\":%s,\"top1_agree\":%f,"
      "\"hnsw_recall\":%f,\"hnsw_filtered_recall\":%f,\"hnsw_filtered_ms\":%f}\n",
      rows, dimensions, nq, k, rounds, dot_is_vectorised() ? "AVX2+FMA" : "portable", params.m,
      params.ef_construction, params.ef_search, embed_s, exact_build_s, faiss_build_s, hnsw_build_s,
      exact.memory_bytes(), hnsw.memory_bytes(), exact_median_ms, median(faiss_ms), median(hnsw_ms),
      static_cast<double>(rows * dimensions * sizeof(float)) / exact_median_ms / 1e6,
      json_list(exact_over_faiss).c_str(), json_list(hnsw_speedup).c_str(),
      static_cast<double>(agree) / static_cast<double>(nq), recall(exact_top, hnsw_top),
      recall(filtered_truth, filtered_found), filtered_ms);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "retrieval_bench: " << e.what() << "\n";
  return 1;
}
