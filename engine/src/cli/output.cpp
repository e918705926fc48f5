#include "cli/output.hpp"

#include <iostream>

#include "base/json.hpp"
#include "obs/log.hpp"

namespace parley::cli {

void output::result(const nlohmann::json& data, const std::string& human) const {
  if (json) {
    std::cout << base::dump_json(data) << '\n';
  } else {
    std::cout << human;
    if (!human.empty() && human.back() != '\n') std::cout << '\n';
  }
  std::cout.flush();
}

void output::error(const std::string& code, const std::string& message,
                   const std::vector<std::string>& details) const {
  if (json) {
    nlohmann::json err = {{"message", message}, {"code", code}};
    if (!details.empty()) err["details"] = details;
    std::cerr << base::dump_json({{"error", err}}) << '\n';
    return;
  }
  std::cerr << "parley: " << message << '\n';
  for (const auto& d : details) std::cerr << "  - " << d << '\n';
}

}  // namespace parley::cli
