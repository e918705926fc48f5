#include "http/route.hpp"

#include <algorithm>
#include <cctype>

#include "base/json.hpp"
#include "http/api_error.hpp"

namespace parley::http {
namespace {

constexpr int max_json_depth = 32;

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::ranges::equal(a, b, [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
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

nlohmann::json parse_json_body(const request& req) { return parse_json_object(req.body); }

nlohmann::json parse_json_object(std::string_view text) {
  if (text.empty())
    throw api_error::invalid_json("The request body is empty; expected a JSON object.");
  bool too_deep = false;
  const auto depth_guard = [&too_deep](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (depth > max_json_depth) too_deep = true;
    return !too_deep;
  };
  nlohmann::json body;
  try {
    body = nlohmann::json::parse(text, depth_guard);
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
