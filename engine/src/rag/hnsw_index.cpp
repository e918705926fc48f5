#include "rag/hnsw_index.hpp"

#include <hnswlib/hnswlib.h>  // defines functions: include it in this file only

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>
#include <stdexcept>
#include <utility>

namespace parley::rag {

namespace {

// hnswlib's InnerProductSpace, with exact_index's dot product: hnswlib picks its
// kernel when it is compiled (SSE in a portable build), ours by the CPU it runs on.
class inner_product_space : public hnswlib::SpaceInterface<float> {
 public:
  explicit inner_product_space(std::size_t dimensions) : dimensions_(dimensions) {}
  std::size_t get_data_size() override { return dimensions_ * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return distance; }
  void* get_dist_func_param() override { return &dimensions_; }

 private:
  static float distance(const void* a, const void* b, const void* dimensions) {
    return 1.0F - dot(static_cast<const float*>(a), static_cast<const float*>(b),
                      *static_cast<const std::size_t*>(dimensions));
  }

  std::size_t dimensions_;
};

}  // namespace

struct hnsw_index::graph {
  // The space holds the dimension hnswlib's distance reads through a pointer: it
  // must not move, hence here, behind the index's unique_ptr.
  inner_product_space space;
  hnswlib::HierarchicalNSW<float> nsw;

  graph(std::size_t dimensions, std::size_t capacity, const hnsw_params& p)
      : space(dimensions),
        nsw(&space, std::max<std::size_t>(capacity, 1), p.m, p.ef_construction) {}
};

namespace {

using hnswlib::tableint;
using nsw_t = hnswlib::HierarchicalNSW<float>;
using candidate = std::pair<float, tableint>;  // (distance, node); distance is 1 - dot

// Equal scores in row order, as exact_index returns them.
bool better(const scored_row& a, const scored_row& b) noexcept {
  return a.score > b.score || (a.score == b.score && a.row < b.row);
}

// Scoring the allowed rows one by one costs about their number; walking the graph
// costs about C·ef/f distance computations, f the allowed fraction, a graph step
// costing C ≈ 60 scanned rows (measured: ef 64 at 20,000 rows ≈ 4,000 rows' scan).
// Exact is the cheaper when allowed < √(C·ef·size) ≈ 8·√(ef·size).
constexpr double exact_below_factor = 8;

const float* vector_of(const nsw_t& g, tableint node) {
  return reinterpret_cast<const float*>(g.getDataByInternalId(node));
}

// Greedy descent through the upper layers to the base layer's entry point, as
// hnswlib's searchKnn does it.
tableint descend(const nsw_t& g, const float* query) {
  tableint current = g.enterpoint_node_;
  float current_distance = g.fstdistfunc_(query, vector_of(g, current), g.dist_func_param_);
  for (int level = g.maxlevel_; level > 0; --level) {
    for (bool changed = true; changed;) {
      changed = false;
      auto* links = g.get_linklist(current, level);
      const auto count = g.getListCount(links);
      const auto* neighbours = reinterpret_cast<const tableint*>(links + 1);
      for (unsigned i = 0; i < count; ++i) {
        const float d = g.fstdistfunc_(query, vector_of(g, neighbours[i]), g.dist_func_param_);
        if (d < current_distance) {
          current_distance = d;
          current = neighbours[i];
          changed = true;
        }
      }
    }
  }
  return current;
}

// The base-layer beam search of hnswlib's searchBaseLayerST with a filter: every
// node may be walked through, only allowed ones are kept (at most `ef`, the worst
// on top). `allowed` is null when every row is.
std::priority_queue<candidate> search_base_layer(const nsw_t& g, const float* query, tableint entry,
                                                 std::size_t ef, const std::uint8_t* allowed) {
  const auto is_allowed = [&](tableint node) {
    return allowed == nullptr || allowed[g.getExternalLabel(node)] != 0;
  };
  hnswlib::VisitedList* visited_list = g.visited_list_pool_->getFreeVisitedList();
  auto* visited = visited_list->mass;
  const auto tag = visited_list->curV;

  std::priority_queue<candidate> kept;      // max-heap on distance: the worst kept on top
  std::priority_queue<candidate> frontier;  // on negated distance: the nearest on top
  float bound = std::numeric_limits<float>::max();
  const float d0 = g.fstdistfunc_(query, vector_of(g, entry), g.dist_func_param_);
  if (is_allowed(entry)) {
    kept.emplace(d0, entry);
    bound = d0;
  }
  frontier.emplace(-d0, entry);
  visited[entry] = tag;

  while (!frontier.empty()) {
    const auto [negative_distance, node] = frontier.top();
    if (-negative_distance > bound && kept.size() >= ef) break;
    frontier.pop();
    auto* links = g.get_linklist0(node);
    const auto count = g.getListCount(links);
    const auto* neighbours = reinterpret_cast<const tableint*>(links + 1);
    for (unsigned i = 0; i < count; ++i) {
      const tableint next = neighbours[i];
      if (visited[next] == tag) continue;
      visited[next] = tag;
      const float d = g.fstdistfunc_(query, vector_of(g, next), g.dist_func_param_);
      if (kept.size() < ef || d < bound) {
        frontier.emplace(-d, next);
        if (is_allowed(next)) {
          kept.emplace(d, next);
          if (kept.size() > ef) kept.pop();
          bound = kept.top().first;
        }
      }
    }
  }
  g.visited_list_pool_->releaseVisitedList(visited_list);
  return kept;
}

}  // namespace

hnsw_index::hnsw_index(std::size_t dimensions, std::size_t capacity, hnsw_params params)
    : dimensions_(dimensions), capacity_(capacity), params_(params) {
  if (dimensions == 0) throw std::invalid_argument("index dimensions must be positive");
  if (params.m < 2) throw std::invalid_argument("HNSW needs M of at least 2");
  params_.ef_search = std::max<std::size_t>(params_.ef_search, 1);
  graph_ = std::make_unique<graph>(dimensions, capacity, params_);
}

hnsw_index::~hnsw_index() = default;
hnsw_index::hnsw_index(hnsw_index&&) noexcept = default;
hnsw_index& hnsw_index::operator=(hnsw_index&&) noexcept = default;

void hnsw_index::add(std::span<const float> vector) {
  if (vector.size() != dimensions_) {
    throw std::invalid_argument("vector length does not match the index dimensions");
  }
  if (rows_ == capacity_) throw std::length_error("HNSW index is full");
  // Added one at a time from one thread, node numbers are row numbers too.
  graph_->nsw.addPoint(vector.data(), rows_);
  ++rows_;
}

float hnsw_index::score(std::span<const float> query, std::uint32_t row) const {
  return dot(query.data(), vector_of(graph_->nsw, row), dimensions_);
}

std::size_t hnsw_index::memory_bytes() const noexcept {
  const auto& g = graph_->nsw;
  std::size_t bytes = g.max_elements_ * g.size_data_per_element_;  // vectors + base links
  for (std::size_t node = 0; node < rows_; ++node) {
    bytes += static_cast<std::size_t>(g.element_levels_[node]) * g.size_links_per_element_;
  }
  bytes += g.max_elements_ * sizeof(void*);  // upper-layer pointers
  bytes += g.element_levels_.capacity() * sizeof(int);
  // One lock per node, and hnswlib's fixed 65,536 update locks (2.5 MiB per index).
  bytes += (g.link_list_locks_.size() + g.link_list_update_locks_.size()) * sizeof(std::mutex);
  bytes +=
      g.label_lookup_.size() * 4 * sizeof(void*) + g.label_lookup_.bucket_count() * sizeof(void*);
  bytes += g.max_elements_ * sizeof(hnswlib::vl_type);  // a visited list (one per concurrent query)
  return bytes;
}

std::vector<scored_row> hnsw_index::search(std::span<const float> query, std::size_t k,
                                           std::span<const std::uint8_t> allowed) const {
  return search(query, k, allowed, params_.ef_search);
}

std::vector<scored_row> hnsw_index::search(std::span<const float> query, std::size_t k,
                                           std::span<const std::uint8_t> allowed,
                                           std::size_t ef_search) const {
  if (query.size() != dimensions_) {
    throw std::invalid_argument("query length does not match the index dimensions");
  }
  if (allowed.size() != rows_) throw std::invalid_argument("allowed mask has the wrong size");
  std::vector<scored_row> out;
  if (k == 0 || rows_ == 0) return out;
  const auto permitted = static_cast<std::size_t>(
      rows_ - static_cast<std::size_t>(std::count(allowed.begin(), allowed.end(), 0)));
  if (permitted == 0) return out;
  const auto& g = graph_->nsw;
  const std::size_t ef = std::max(ef_search, k);

  if (static_cast<double>(permitted) <
      exact_below_factor * std::sqrt(static_cast<double>(ef * rows_))) {
    // Few rows allowed: scoring each of them is the cheaper way, and exact.
    out.reserve(std::min(k, permitted));
    for (std::uint32_t row = 0; row < rows_; ++row) {
      if (allowed[row] == 0) continue;
      const scored_row hit{row, score(query, row)};
      if (out.size() < k) {
        out.push_back(hit);
        std::push_heap(out.begin(), out.end(), better);
      } else if (better(hit, out.front())) {
        std::pop_heap(out.begin(), out.end(), better);
        out.back() = hit;
        std::push_heap(out.begin(), out.end(), better);
      }
    }
    std::sort_heap(out.begin(), out.end(), better);
    return out;
  }

  // The beam grows as the allowed fraction shrinks, so that about ef allowed nodes
  // are still met on the way.
  const std::size_t beam =
      permitted == rows_ ? ef : std::min(rows_, (ef * rows_ + permitted - 1) / permitted);
  auto kept = search_base_layer(g, query.data(), descend(g, query.data()), beam,
                                permitted == rows_ ? nullptr : allowed.data());
  while (kept.size() > k) kept.pop();
  out.reserve(kept.size());
  for (; !kept.empty(); kept.pop()) {
    const auto row = static_cast<std::uint32_t>(g.getExternalLabel(kept.top().second));
    out.push_back({row, score(query, row)});
  }
  std::sort(out.begin(), out.end(), better);
  return out;
}

}  // namespace parley::rag
