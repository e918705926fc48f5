#include "http/api_error.hpp"

namespace parley::http {

api_error::api_error(unsigned status, std::string type, std::string code, std::string message)
    : std::runtime_error(message),
      status_(status),
      type_(std::move(type)),
      code_(std::move(code)),
      message_(std::move(message)) {}

nlohmann::json api_error::body() const {
  return {{"error", {{"message", message_}, {"type", type_}, {"code", code_}}}};
}

api_error api_error::bad_request(std::string code, std::string message) {
  return {400, "invalid_request_error", std::move(code), std::move(message)};
}

api_error api_error::invalid_json(std::string message) {
  return {400, "invalid_request_error", "invalid_json", std::move(message)};
}

api_error api_error::unauthorized_context(std::string message) {
  return {401, "invalid_request_error", "invalid_context", std::move(message)};
}

api_error api_error::not_found(std::string code, std::string message) {
  return {404, "invalid_request_error", std::move(code), std::move(message)};
}

api_error api_error::model_not_found(std::string model) {
  return {404, "invalid_request_error", "model_not_found",
          "The model '" + model + "' does not exist or is not available to you."};
}

api_error api_error::method_not_allowed() {
  return {405, "invalid_request_error", "method_not_allowed",
          "This method is not allowed on this path."};
}

api_error api_error::payload_too_large(std::string message) {
  return {413, "invalid_request_error", "payload_too_large", std::move(message)};
}

api_error api_error::upstream(std::string message) {
  return {502, "server_error", "upstream_error", std::move(message)};
}

api_error api_error::insufficient_quota(std::string message) {
  return {429, "insufficient_quota", "insufficient_quota", std::move(message)};
}

api_error api_error::embedding_failed(std::string message) {
  return {502, "server_error", "embedding_error", std::move(message)};
}

api_error api_error::unavailable(std::string code, std::string message) {
  return {503, "server_error", std::move(code), std::move(message)};
}

api_error api_error::client_closed() {
  return {499, "invalid_request_error", "client_closed_request",
          "The client closed the connection before the answer was ready."};
}

api_error api_error::internal() {
  return {500, "server_error", "internal_error", "The server had an error processing the request."};
}

}  // namespace parley::http
