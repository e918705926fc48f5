#include "http/route.hpp"

#include <algorithm>
#include <cctype>

#include "base/json.hpp"
#include "http/api_error.hpp"
#include "obs/log.hpp"

namespace parley::http {
namespace {

constexpr int max_json_depth = 32;

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::ranges::equal(a, b, [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

std::vector<std::string> path_segments(std::string_view path) {
  std::vector<std::string> out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const auto slash = path.find('/');
    out.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return out;
}

bool is_capture(const std::string& segment) noexcept {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

bool segments_match(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
                    std::map<std::string, std::string>* params) {
  if (pattern.size() != path.size()) return false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (is_capture(pattern[i])) {
      if (params) (*params)[pattern[i].substr(1, pattern[i].size() - 2)] = path[i];
    } else if (pattern[i] != path[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<std::string_view> request::header(std::string_view name) const {
  for (const auto& field : headers) {
    if (iequals(field.name, name)) return field.value;
  }
  return std::nullopt;
}

std::optional<std::string_view> request::query_param(std::string_view name) const {
  const auto it = query.find(std::string(name));
  if (it == query.end()) return std::nullopt;
  return it->second;
}

response response::json(unsigned status, const nlohmann::json& body) {
  response res;
  res.status = status;
  res.body = base::dump_json(body);
  return res;
}

void router::add(std::string method, std::string_view pattern,
                 std::initializer_list<edge::principal_kind> kinds, handler h) {
  routes_.push_back({std::move(method), path_segments(pattern), false, kinds, std::move(h)});
}

void router::add_public(std::string method, std::string_view pattern, handler h) {
  routes_.push_back({std::move(method), path_segments(pattern), true, {}, std::move(h)});
}

router::match_result router::match(std::string_view method, std::string_view path) const {
  match_result out;
  const auto segments = path_segments(path);
  for (const auto& r : routes_) {
    if (!segments_match(r.segments, segments, nullptr)) continue;
    out.path_known = true;
    if (r.method == method) {
      segments_match(r.segments, segments, &out.params);
      out.found = &r;
      return out;
    }
  }
  return out;
}

nlohmann::json parse_json_body(const request& req) {
  if (req.body.empty()) throw api_error::invalid_json("The request body is empty; expected a JSON object.");
  bool too_deep = false;
  const auto depth_guard = [&too_deep](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (depth > max_json_depth) too_deep = true;
    return !too_deep;
  };
  nlohmann::json body;
  try {
    body = nlohmann::json::parse(req.body, depth_guard);
  } catch (const nlohmann::json::exception&) {
    if (too_deep) {
      throw api_error::invalid_json("The JSON body is nested deeper than " +
                                    std::to_string(max_json_depth) + " levels.");
    }
    throw api_error::invalid_json("The request body is not valid JSON (or not valid UTF-8).");
  }
  if (too_deep) {
    throw api_error::invalid_json("The JSON body is nested deeper than " +
                                  std::to_string(max_json_depth) + " levels.");
  }
  if (!body.is_object()) throw api_error::invalid_json("The request body must be a JSON object.");
  return body;
}

}  // namespace parley::http
