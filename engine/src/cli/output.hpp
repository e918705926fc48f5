#pragma once

// How subcommands report: a human line or, with --json, one JSON document on stdout;
// failures on stderr (JSON with --json) and a non-zero exit status.

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace parley::cli {

// Bad invocation (exit 2).
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A refused operation: bad value, missing tenant, duplicate (exit 1).
class command_error : public std::runtime_error {
 public:
  command_error(std::string code, const std::string& message)
      : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const noexcept { return code_; }

 private:
  std::string code_;
};

struct output {
  bool json = false;

  // Prints `data` as JSON, or `human` (a line or a table) when not --json.
  void result(const nlohmann::json& data, const std::string& human) const;

  // Prints an error to stderr; `details` (one problem per entry) may be empty.
  void error(const std::string& code, const std::string& message,
             const std::vector<std::string>& details = {}) const;
};

}  // namespace parley::cli
