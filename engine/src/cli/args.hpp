#pragma once

// Command-line options of one subcommand: "--name value" pairs, bare flags, and
// positional words. Unknown options are errors, so typos never pass silently.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace parley::cli {

class args {
 public:
  // `words`: everything after the subcommand. `flags`: options that take no value.
  // Throws usage_error on "--x" without a value.
  args(std::vector<std::string> words, std::set<std::string> flags);

  // The last value given for --name (options may repeat).
  std::optional<std::string> get(const std::string& name) const;
  // Every value given for --name, in order.
  std::vector<std::string> get_all(const std::string& name) const;
  std::string require(const std::string& name) const;  // usage_error if missing
  std::optional<long long> get_int(const std::string& name, long long min, long long max) const;
  bool flag(const std::string& name) const;
  const std::vector<std::string>& positional() const noexcept { return positional_; }

  // Throws usage_error naming any option not in `known` (flags included).
  void allow_only(const std::set<std::string>& known) const;

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::set<std::string> flags_set_;
  std::vector<std::string> positional_;
};

// A whole command line: the global options (--config FILE, --json, --help) may come
// before or after the subcommand, as in kubectl: `parley --config F tenant list` and
// `parley tenant list --config F` are the same.
struct command_line {
  std::string command;             // the subcommand; empty when none was given
  std::vector<std::string> words;  // its words, the global options given before it first
  bool json = false;               // --json anywhere
  bool help = false;               // --help before the subcommand, or the word "help"
};

// Splits argv (without the program name). Throws usage_error for an option before
// the subcommand that is not a global option, or a --config without its value.
command_line split_command_line(const std::vector<std::string>& argv);

}  // namespace parley::cli
