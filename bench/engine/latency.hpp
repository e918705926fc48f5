// What the load generator measured: time to first token, the gaps between
// tokens and each token's delivery delay (from the mock's write to its
// arrival here; nanoseconds, from std::chrono::steady_clock), completed
// streams, failures by kind; printed as one JSON object in microseconds.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

class latency {
 public:
  latency() {
    // room for a long run at 1,000 in flight: no reallocation while measuring
    ttft_ns_.reserve(1 << 18);
    gap_ns_.reserve(1 << 22);
    delivery_ns_.reserve(1 << 22);
  }

  void ttft(std::chrono::nanoseconds d) { ttft_ns_.push_back(d.count()); }
  void gap(std::chrono::nanoseconds d) { gap_ns_.push_back(d.count()); }
  void delivery(std::chrono::nanoseconds d) { delivery_ns_.push_back(d.count()); }
  void completed() { ++count_; }
  void error(const std::string& kind) { ++errors_[kind]; }

  // {"count":…, "errors":{…}, "ttft_us":{p50,p90,p99,max}, "gap_us":{p50,p99,max},
  //  "delivery_us":{p50,p99,max}, …}
  void print(double seconds, double cpu_seconds) {
    std::printf("{\"count\": %ld, \"seconds\": %.3f, \"cpu_seconds\": %.3f, \"errors\": {", count_,
                seconds, cpu_seconds);
    const char* sep = "";
    for (const auto& [kind, n] : errors_) {
      std::printf("%s\"%s\": %ld", sep, kind.c_str(), n);
      sep = ", ";
    }
    std::printf("}, \"ttft_us\": {\"p50\": %.1f, \"p90\": %.1f, \"p99\": %.1f, \"max\": %.1f}",
                pct(ttft_ns_, 50), pct(ttft_ns_, 90), pct(ttft_ns_, 99), pct(ttft_ns_, 100));
    std::printf(", \"gap_us\": {\"p50\": %.1f, \"p99\": %.1f, \"max\": %.1f}", pct(gap_ns_, 50),
                pct(gap_ns_, 99), pct(gap_ns_, 100));
    std::printf(", \"delivery_us\": {\"p50\": %.1f, \"p99\": %.1f, \"max\": %.1f}}\n",
                pct(delivery_ns_, 50), pct(delivery_ns_, 99), pct(delivery_ns_, 100));
    std::fflush(stdout);
  }

 private:
  // The nearest-rank percentile, in microseconds; -1 without samples.
  static double pct(std::vector<std::int64_t>& v, int p) {
    if (v.empty()) return -1;
    const std::size_t rank = std::max<std::size_t>(1, (v.size() * p + 99) / 100);
    std::nth_element(v.begin(), v.begin() + (rank - 1), v.end());
    return v[rank - 1] / 1000.0;
  }

  std::vector<std::int64_t> ttft_ns_;
  std::vector<std::int64_t> gap_ns_;
  std::vector<std::int64_t> delivery_ns_;
  long count_ = 0;
  std::map<std::string, long> errors_;
};
