#pragma once

// Counters, gauges and histograms in Prometheus' text exposition format (0.0.4).
// Hand-written because Debian 12 packages no C++ Prometheus client; this is the
// part of one a single process needs: families of labelled series, updated with
// relaxed atomics (a series is found under its family's mutex, then updated
// without it), and written out on a scrape.
//
// A family may cap its number of series: past the cap, new label values are all
// counted under "_other", so that a label such as the tenant stays bounded.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace parley::obs::prometheus {

using label_values = std::vector<std::string>;

class family {
 public:
  family(std::string name, std::string help, std::vector<std::string> labels,
         std::size_t max_series);
  virtual ~family() = default;
  family(const family&) = delete;
  family& operator=(const family&) = delete;

  // Appends the family's HELP, TYPE and series lines.
  virtual void write(std::string& out) const = 0;

 protected:
  // The labels as written between braces, with `extra` (e.g. le="0.1") last.
  std::string label_text(const label_values& values, std::string_view extra = {}) const;
  // The series of `values` in `all`, made by make() the first time, or the "_other"
  // series once the family is full.
  template <class Series, class Make>
  Series& series_for(std::map<label_values, std::unique_ptr<Series>>& all,
                     const label_values& values, Make make) {
    std::lock_guard lock(mutex_);
    auto found = all.find(values);
    if (found == all.end()) {
      auto key = all.size() < max_series_ ? values : overflow();
      found = all.find(key);
      if (found == all.end()) found = all.emplace(std::move(key), make()).first;
    }
    return *found->second;
  }
  label_values overflow() const;
  void write_head(std::string& out, std::string_view type) const;

  std::string name_;
  std::string help_;
  std::vector<std::string> labels_;
  std::size_t max_series_;
  mutable std::mutex mutex_;  // guards the derived class's series map
};

class counter_family final : public family {
 public:
  using family::family;
  void add(const label_values& values, double amount = 1);
  double value(const label_values& values) const;  // 0 for a series never counted
  void write(std::string& out) const override;

 private:
  std::map<label_values, std::unique_ptr<std::atomic<double>>> series_;
};

class histogram_family final : public family {
 public:
  histogram_family(std::string name, std::string help, std::vector<std::string> labels,
                   std::vector<double> bounds, std::size_t max_series);
  void observe(const label_values& values, double value);
  void write(std::string& out) const override;

 private:
  struct series {
    explicit series(std::size_t buckets) : counts(buckets) {}
    std::vector<std::atomic<std::uint64_t>> counts;  // per bucket, not cumulative; last: +Inf
    std::atomic<double> sum{0};
    std::atomic<std::uint64_t> count{0};
  };
  std::vector<double> bounds_;
  std::map<label_values, std::unique_ptr<series>> series_;
};

// A value read when scraped (connections open, bytes cached).
class gauge_family final : public family {
 public:
  gauge_family(std::string name, std::string help, std::function<double()> read);
  void write(std::string& out) const override;

 private:
  std::function<double()> read_;
};

}  // namespace parley::obs::prometheus
