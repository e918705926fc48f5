#include "http/router.hpp"

#include <algorithm>
#include <stdexcept>

#include "http/api_error.hpp"
#include "http/url.hpp"
#include "obs/log.hpp"
#include "shared/parley_context.h"

namespace parley::http {
namespace {

std::vector<std::string> pattern_segments(std::string_view pattern) {
  const auto segments = canonical_segments(pattern);
  if (!segments)
    throw std::invalid_argument("route pattern '" + std::string(pattern) + "' is not canonical");
  return {segments->begin(), segments->end()};
}

bool is_capture(const std::string& segment) noexcept {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

bool segments_match(const std::vector<std::string>& pattern,
                    const std::vector<std::string_view>& path,
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

std::string_view context_problem(edge::context_error e) noexcept {
  switch (e) {
    case edge::context_error::signature: return "The request context has an invalid signature.";
    case edge::context_error::expired: return "The request context has expired.";
    case edge::context_error::future: return "The request context is dated in the future.";
    default: return "The request context is malformed.";
  }
}

edge::identity verified_identity(const request& req, const edge::context_verifier& verifier,
                                 std::int64_t now_ms) {
  const auto header = req.header(PARLEY_CONTEXT_HEADER);
  if (!header) throw api_error::unauthorized_context("The request context is missing.");
  auto verdict = verifier.verify(*header, now_ms);
  if (!verdict.identity) {
    obs::warn("context_rejected",
              {{"reason", edge::to_string(verdict.error)}, {"path", req.loggable_path()}});
    throw api_error::unauthorized_context(std::string(context_problem(verdict.error)));
  }
  return std::move(*verdict.identity);
}

}  // namespace

void router::add(std::string method, std::string_view pattern,
                 std::initializer_list<edge::principal_kind> kinds, handler h) {
  routes_.push_back({std::move(method),
                     pattern_segments(pattern),
                     false,
                     kinds,
                     std::move(h),
                     {},
                     std::string(pattern)});
}

void router::add_credential_path(std::string method, std::string_view pattern,
                                 std::initializer_list<edge::principal_kind> kinds, handler h) {
  add(std::move(method), pattern, kinds, std::move(h));
  routes_.back().secret_path = pattern;
}

void router::add_public(std::string method, std::string_view pattern, handler h) {
  routes_.push_back({std::move(method),
                     pattern_segments(pattern),
                     true,
                     {},
                     std::move(h),
                     {},
                     std::string(pattern)});
}

router::match_result router::match(std::string_view method, std::string_view path) const {
  match_result out;
  const auto segments = canonical_segments(path);
  if (!segments) return out;
  for (const auto& r : routes_) {
    if (!segments_match(r.segments, *segments, nullptr)) continue;
    out.path_known = true;
    if (r.method == method) {
      segments_match(r.segments, *segments, &out.params);
      out.found = &r;
      return out;
    }
  }
  return out;
}

const router::route& router::resolve(request& req, const edge::context_verifier& verifier,
                                     std::int64_t now_ms) const {
  auto m = match(req.method, req.path);
  if (m.found && !m.found->secret_path.empty()) req.log_path = m.found->secret_path;
  if (m.found) req.route = m.found->pattern;
  const bool is_public = m.found && m.found->is_public;
  if (!is_public) req.identity = verified_identity(req, verifier, now_ms);
  if (!m.found) {
    if (m.path_known) throw api_error::method_not_allowed();
    throw api_error::not_found("not_found", "Unknown path: " + req.path);
  }
  const route& r = *m.found;
  if (!is_public && std::ranges::find(r.kinds, req.identity.kind) == r.kinds.end()) {
    throw api_error::unauthorized_context("This route does not accept a '" +
                                          std::string(edge::to_string(req.identity.kind)) +
                                          "' context.");
  }
  if (!is_public && gate_ != nullptr && !gate_->ready()) {
    throw api_error::unavailable(
        "not_ready", "The engine is starting: its start-up checks have not passed yet.");
  }
  for (auto& [name, value] : m.params) req.params[name] = percent_decode(value, false);
  return r;
}

}  // namespace parley::http
