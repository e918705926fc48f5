#include "api/chat_request.hpp"

#include <algorithm>
#include <cctype>

#include "http/api_error.hpp"
#include "store/text_guard.hpp"

namespace parley::api {

namespace {

using http::api_error;
using nlohmann::json;

constexpr std::size_t max_messages = 256;
constexpr std::size_t max_model_length = 64;
constexpr std::size_t max_user_length = 256;
constexpr std::int64_t max_tokens_limit = 1'000'000;

api_error invalid(const std::string& field, const std::string& expectation) {
  return api_error::bad_request("invalid_type", "'" + field + "' must be " + expectation + ".");
}

api_error invalid_value(const std::string& field, const std::string& expectation) {
  return api_error::bad_request("invalid_value", "'" + field + "' " + expectation + ".");
}

// Text with a NUL could not be stored as the model sees it (store/text_guard.hpp).
std::string storable(std::string text, const std::string& field) {
  if (store::has_nul(text)) {
    throw api_error::bad_request(
        "invalid_content",
        "'" + field + "' contains a NUL character (\\u0000), which cannot be stored.");
  }
  return text;
}

// The field, or nullptr when absent or null (OpenAI treats null as "not given").
const json* optional_field(const json& body, const char* name) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return nullptr;
  return &*it;
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

std::string content_text(const json& content, const std::string& field) {
  if (content.is_string()) return storable(content.get<std::string>(), field);
  if (!content.is_array()) throw invalid(field, "a string or an array of content parts");
  std::string text;
  for (std::size_t i = 0; i < content.size(); ++i) {
    const auto& part = content[i];
    const auto part_field = field + "[" + std::to_string(i) + "]";
    if (!part.is_object()) throw invalid(part_field, "an object");
    const auto type = part.find("type");
    if (type == part.end() || !type->is_string()) throw invalid(part_field + ".type", "a string");
    if (*type != "text") {
      throw api_error::bad_request("unsupported_content", "Only text content parts are supported.");
    }
    const auto t = part.find("text");
    if (t == part.end() || !t->is_string()) throw invalid(part_field + ".text", "a string");
    if (!text.empty()) text += "\n";
    text += storable(t->get<std::string>(), part_field + ".text");
  }
  return text;
}

chat_message parse_message(const json& m, std::size_t index) {
  const auto field = "messages[" + std::to_string(index) + "]";
  if (!m.is_object()) throw invalid(field, "an object");
  const auto role = m.find("role");
  if (role == m.end() || !role->is_string()) throw invalid(field + ".role", "a string");
  chat_message out;
  const auto r = role->get<std::string>();
  if (r == "system" || r == "developer") {
    out.role = message_role::system;
  } else if (r == "user") {
    out.role = message_role::user;
  } else if (r == "assistant") {
    out.role = message_role::assistant;
  } else if (r == "tool" || r == "function") {
    throw api_error::bad_request("unsupported_role",
                                 "Tool and function messages are not supported.");
  } else {
    throw invalid_value(field + ".role", "must be one of system, developer, user, assistant");
  }
  const auto content = m.find("content");
  if (content == m.end() || content->is_null()) throw invalid(field + ".content", "a string");
  out.content = content_text(*content, field + ".content");
  return out;
}

}  // namespace

chat_request parse_chat_request(const json& body) {
  if (!body.is_object()) throw api_error::invalid_json("The request body must be a JSON object.");
  chat_request req;

  const auto model = body.find("model");
  if (model == body.end() || model->is_null()) {
    throw api_error::bad_request("missing_required_parameter", "'model' is required.");
  }
  if (!model->is_string()) throw invalid("model", "a string");
  req.model = storable(model->get<std::string>(), "model");
  if (req.model.empty() || req.model.size() > max_model_length) {
    throw invalid_value("model", "must be 1 to 64 characters");
  }

  const auto messages = body.find("messages");
  if (messages == body.end() || messages->is_null()) {
    throw api_error::bad_request("missing_required_parameter", "'messages' is required.");
  }
  if (!messages->is_array()) throw invalid("messages", "an array");
  if (messages->empty()) throw invalid_value("messages", "must contain at least one message");
  if (messages->size() > max_messages)
    throw invalid_value("messages", "has more than 256 messages");
  for (std::size_t i = 0; i < messages->size(); ++i)
    req.messages.push_back(parse_message((*messages)[i], i));
  if (req.messages.back().role != message_role::user) {
    throw invalid_value("messages", "must end with a user message");
  }
  const auto& question = req.messages.back().content;
  if (std::all_of(question.begin(), question.end(),
                  [](unsigned char c) { return std::isspace(c); })) {
    throw invalid_value("messages", "must end with a non-empty user message");
  }

  if (const auto* s = optional_field(body, "stream")) {
    if (!s->is_boolean()) throw invalid("stream", "a boolean");
    req.stream = s->get<bool>();
  }
  if (const auto* o = optional_field(body, "stream_options")) {
    if (!o->is_object()) throw invalid("stream_options", "an object");
    if (!req.stream) {
      throw invalid_value("stream_options", "is only allowed when 'stream' is enabled");
    }
    if (const auto* u = optional_field(*o, "include_usage")) {
      if (!u->is_boolean()) throw invalid("stream_options.include_usage", "a boolean");
      req.include_usage = u->get<bool>();
    }
  }
  if (const auto* t = optional_field(body, "temperature")) {
    if (!t->is_number()) throw invalid("temperature", "a number");
    const auto v = t->get<double>();
    if (!(v >= 0.0 && v <= 2.0)) throw invalid_value("temperature", "must be between 0 and 2");
    req.temperature = v;
  }
  for (const char* name : {"max_tokens", "max_completion_tokens"}) {
    if (const auto* m = optional_field(body, name)) {
      if (!m->is_number_integer()) throw invalid(name, "an integer");
      const auto v = m->get<std::int64_t>();
      if (v < 1 || v > max_tokens_limit) throw invalid_value(name, "must be between 1 and 1000000");
      req.max_tokens = v;
    }
  }
  if (const auto* n = optional_field(body, "n")) {
    if (!n->is_number_integer()) throw invalid("n", "an integer");
    if (n->get<std::int64_t>() != 1) throw invalid_value("n", "must be 1");
  }
  if (const auto* u = optional_field(body, "user")) {
    if (!u->is_string()) throw invalid("user", "a string");
    req.user = storable(u->get<std::string>(), "user");
    if (req.user->size() > max_user_length)
      throw invalid_value("user", "must be at most 256 characters");
  }
  if (const auto* s = optional_field(body, "session_id")) {
    if (!s->is_string()) throw invalid("session_id", "a string");
    auto id = s->get<std::string>();
    if (!is_uuid(id)) throw invalid_value("session_id", "must be a session id (a UUID)");
    std::transform(id.begin(), id.end(), id.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    req.session_id = std::move(id);
  }
  return req;
}

}  // namespace parley::api
