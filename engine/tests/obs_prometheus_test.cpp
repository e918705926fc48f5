// The text exposition format, and the cap that keeps a label bounded.

#include "obs/prometheus.hpp"

#include <gtest/gtest.h>

#include <string>

namespace parley::obs::prometheus {
namespace {

std::string written(const family& f) {
  std::string out;
  f.write(out);
  return out;
}

TEST(Prometheus, CountersAreWrittenWithEscapedLabels) {
  counter_family c("x_total", "Things.", {"tenant", "kind"}, 10);
  c.add({"a\"b\\c\nd", "k"}, 2);
  c.add({"a\"b\\c\nd", "k"}, 0.5);
  EXPECT_EQ(written(c),
            "# HELP x_total Things.\n# TYPE x_total counter\n"
            "x_total{tenant=\"a\\\"b\\\\c\\nd\",kind=\"k\"} 2.5\n");
}

TEST(Prometheus, PastTheCapNewLabelValuesAreCountedAsOther) {
  counter_family c("x_total", "Things.", {"tenant"}, 2);
  c.add({"t1"});
  c.add({"t2"});
  c.add({"t3"});
  c.add({"t4"}, 2);
  c.add({"t1"});
  EXPECT_EQ(c.value({"t1"}), 2);
  EXPECT_EQ(c.value({"t3"}), 0);
  EXPECT_EQ(c.value({"_other"}), 3);
}

TEST(Prometheus, HistogramBucketsAreCumulative) {
  histogram_family h("d_seconds", "Durations.", {}, {0.1, 1}, 1);
  h.observe({}, 0.05);
  h.observe({}, 0.1);  // a bound is inclusive
  h.observe({}, 0.5);
  h.observe({}, 7);
  EXPECT_EQ(written(h),
            "# HELP d_seconds Durations.\n# TYPE d_seconds histogram\n"
            "d_seconds_bucket{le=\"0.1\"} 2\nd_seconds_bucket{le=\"1\"} 3\n"
            "d_seconds_bucket{le=\"+Inf\"} 4\nd_seconds_sum 7.65\nd_seconds_count 4\n");
}

}  // namespace
}  // namespace parley::obs::prometheus
