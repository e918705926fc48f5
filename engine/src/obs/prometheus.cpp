#include "obs/prometheus.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace parley::obs::prometheus {

namespace {

constexpr std::string_view overflow_value = "_other";

// Label values escape backslash, double quote and line feed.
void append_escaped(std::string& out, std::string_view value) {
  for (const char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

std::string number(double v) { return fmt::format("{}", v); }

}  // namespace

family::family(std::string name, std::string help, std::vector<std::string> labels,
               std::size_t max_series)
    : name_(std::move(name)),
      help_(std::move(help)),
      labels_(std::move(labels)),
      max_series_(max_series) {}

std::string family::label_text(const label_values& values, std::string_view extra) const {
  if (labels_.empty() && extra.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < labels_.size(); ++i) {
    if (i > 0) out += ',';
    out += labels_[i];
    out += "=\"";
    append_escaped(out, values[i]);
    out += '"';
  }
  if (!extra.empty()) {
    if (!labels_.empty()) out += ',';
    out += extra;
  }
  out += '}';
  return out;
}

label_values family::overflow() const {
  return label_values(labels_.size(), std::string(overflow_value));
}

void family::write_head(std::string& out, std::string_view type) const {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name_, help_, name_, type);
}

void counter_family::add(const label_values& values, double amount) {
  auto& counter =
      series_for(series_, values, [] { return std::make_unique<std::atomic<double>>(0); });
  counter.fetch_add(amount, std::memory_order_relaxed);
}

double counter_family::value(const label_values& values) const {
  std::lock_guard lock(mutex_);
  const auto found = series_.find(values);
  return found == series_.end() ? 0 : found->second->load(std::memory_order_relaxed);
}

void counter_family::write(std::string& out) const {
  write_head(out, "counter");
  std::lock_guard lock(mutex_);
  for (const auto& [values, counter] : series_) {
    out +=
        name_ + label_text(values) + ' ' + number(counter->load(std::memory_order_relaxed)) + '\n';
  }
}

histogram_family::histogram_family(std::string name, std::string help,
                                   std::vector<std::string> labels, std::vector<double> bounds,
                                   std::size_t max_series)
    : family(std::move(name), std::move(help), std::move(labels), max_series),
      bounds_(std::move(bounds)) {}

void histogram_family::observe(const label_values& values, double value) {
  auto& s =
      series_for(series_, values, [this] { return std::make_unique<series>(bounds_.size() + 1); });
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  s.counts[bucket].fetch_add(1, std::memory_order_relaxed);
  s.sum.fetch_add(value, std::memory_order_relaxed);
  s.count.fetch_add(1, std::memory_order_relaxed);
}

void histogram_family::write(std::string& out) const {
  write_head(out, "histogram");
  std::lock_guard lock(mutex_);
  for (const auto& [values, s] : series_) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
      cumulative += s->counts[i].load(std::memory_order_relaxed);
      const auto le = i < bounds_.size() ? number(bounds_[i]) : std::string("+Inf");
      out += name_ + "_bucket" + label_text(values, "le=\"" + le + "\"") + ' ' +
             std::to_string(cumulative) + '\n';
    }
    out += name_ + "_sum" + label_text(values) + ' ' +
           number(s->sum.load(std::memory_order_relaxed)) + '\n';
    out += name_ + "_count" + label_text(values) + ' ' +
           std::to_string(s->count.load(std::memory_order_relaxed)) + '\n';
  }
}

gauge_family::gauge_family(std::string name, std::string help, std::function<double()> read)
    : family(std::move(name), std::move(help), {}, 1), read_(std::move(read)) {}

void gauge_family::write(std::string& out) const {
  write_head(out, "gauge");
  out += name_ + ' ' + number(read_()) + '\n';
}

}  // namespace parley::obs::prometheus
