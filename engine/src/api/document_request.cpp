#include "api/document_request.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>

#include "base/crypto.hpp"
#include "http/api_error.hpp"
#include "http/multipart.hpp"
#include "http/route.hpp"

namespace parley::api {

namespace {

using http::api_error;
using nlohmann::json;

constexpr std::size_t max_agents = 100;

api_error invalid(const std::string& field, const std::string& expectation) {
  return api_error::bad_request("invalid_type", "'" + field + "' must be " + expectation + ".");
}

void add_agent(knowledge::upload& u, std::string_view code) {
  const auto first = code.find_first_not_of(" \t");
  if (first == std::string_view::npos) return;
  code = code.substr(first, code.find_last_not_of(" \t") - first + 1);
  if (u.agents.size() == max_agents) {
    throw api_error::bad_request("invalid_value", "At most 100 agents may be named.");
  }
  u.agents.emplace_back(code);
}

knowledge::upload from_form(std::string_view content_type, std::string_view body) {
  knowledge::upload u;
  bool has_file = false;
  for (auto& part : http::parse_form_data(content_type, body)) {
    if (part.name == "file") {
      if (has_file) throw api_error::bad_request("invalid_value", "Send one 'file' per upload.");
      has_file = true;
      u.bytes = std::move(part.body);
      u.declared_type = std::move(part.content_type);
      u.file_name = part.filename.value_or("");
    } else if (part.name == "title") {
      u.title = std::move(part.body);
    } else if (part.name == "source_uri") {
      u.source_uri = std::move(part.body);
    } else if (part.name == "agents") {
      std::string_view list = part.body;
      for (std::size_t start = 0; start <= list.size();) {
        const auto comma = std::min(list.find(',', start), list.size());
        add_agent(u, list.substr(start, comma - start));
        start = comma + 1;
      }
    } else {
      throw api_error::bad_request("unknown_field", "Unknown form field '" + part.name + "'.");
    }
  }
  if (!has_file) throw api_error::bad_request("missing_file", "The form has no 'file' part.");
  return u;
}

std::optional<std::string> optional_string(const json& body, const char* name) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) throw invalid(name, "a string");
  return it->get<std::string>();
}

knowledge::upload from_json(std::string_view body) {
  const auto j = http::parse_json_object(body);
  for (const auto& [key, value] : j.items()) {
    static const std::array<std::string_view, 7> known{
        "title", "content", "data", "source_uri", "agents", "file_name", "content_type"};
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      throw api_error::bad_request("unknown_field", "Unknown field '" + key + "'.");
    }
  }
  knowledge::upload u;
  u.title = optional_string(j, "title");
  u.source_uri = optional_string(j, "source_uri");
  u.file_name = optional_string(j, "file_name").value_or("");
  u.declared_type = optional_string(j, "content_type").value_or("");
  const auto content = optional_string(j, "content");
  const auto data = optional_string(j, "data");
  if (content.has_value() == data.has_value()) {
    throw api_error::bad_request("missing_content",
                                 "Send the document as 'content' (text) or 'data' (base64), "
                                 "exactly one of them.");
  }
  if (content) {
    u.bytes = *content;
  } else {
    auto decoded = base::base64_decode(*data);
    if (!decoded) throw invalid("data", "base64 (RFC 4648, padded)");
    u.bytes = std::move(*decoded);
  }
  if (const auto agents = j.find("agents"); agents != j.end() && !agents->is_null()) {
    if (!agents->is_array()) throw invalid("agents", "an array of agent codes");
    for (const auto& a : *agents) {
      if (!a.is_string()) throw invalid("agents", "an array of agent codes");
      add_agent(u, a.get<std::string>());
    }
  }
  return u;
}

}  // namespace

knowledge::upload read_document_upload(std::string_view content_type, std::string_view body) {
  if (http::is_form_data(content_type)) return from_form(content_type, body);
  return from_json(body);
}

}  // namespace parley::api
