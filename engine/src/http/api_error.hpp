#pragma once

// A domain error a route handler throws; one wrapper in the server maps it to
//   HTTP <status>  {"error":{"message":"...","type":"...","code":"..."}}
// Any other exception escaping a handler becomes 500 server_error/internal_error
// (its text is logged, never sent).

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace parley::http {

class api_error : public std::runtime_error {
 public:
  api_error(unsigned status, std::string type, std::string code, std::string message);

  unsigned status() const noexcept { return status_; }
  const std::string& type() const noexcept { return type_; }
  const std::string& code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }

  // {"error":{"message":..,"type":..,"code":..}}
  nlohmann::json body() const;

  // The common ones (CONTRACTS.md "Errors").
  static api_error bad_request(std::string code, std::string message);  // 400 invalid_request_error
  static api_error invalid_json(std::string message);                   // 400 invalid_json
  static api_error unauthorized_context(std::string message);           // 401 invalid_context
  static api_error not_found(std::string code, std::string message);    // 404 invalid_request_error
  static api_error model_not_found(std::string model);                  // 404 model_not_found
  static api_error method_not_allowed();                                // 405
  static api_error payload_too_large(std::string message);              // 413
  static api_error upstream(std::string message);            // 502 server_error/upstream_error
  static api_error embedding_failed(std::string message);    // 502 server_error/embedding_error
  static api_error insufficient_quota(std::string message);  // 429, OpenAI's over-quota error
  static api_error unavailable(std::string code, std::string message);  // 503 server_error
  static api_error internal();  // 500 server_error/internal_error
  // 499 (nginx's code): the answer goes nowhere, the request log says why
  static api_error client_closed();

 private:
  unsigned status_;
  std::string type_;
  std::string code_;
  std::string message_;
};

}  // namespace parley::http
