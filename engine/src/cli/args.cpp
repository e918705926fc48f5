#include "cli/args.hpp"

#include <charconv>

#include "cli/output.hpp"

namespace parley::cli {

args::args(std::vector<std::string> words, std::set<std::string> flags) {
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (!w.starts_with("--") || w.size() == 2) {
      positional_.push_back(w);
      continue;
    }
    std::string name = w.substr(2);
    if (const auto eq = name.find('='); eq != std::string::npos) {
      values_[name.substr(0, eq)].push_back(name.substr(eq + 1));
    } else if (flags.contains(name)) {
      flags_set_.insert(name);
    } else if (i + 1 < words.size()) {
      values_[name].push_back(words[++i]);
    } else {
      throw usage_error("option --" + name + " needs a value");
    }
  }
}

std::optional<std::string> args::get(const std::string& name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> args::get_all(const std::string& name) const {
  const auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

std::string args::require(const std::string& name) const {
  auto v = get(name);
  if (!v || v->empty()) throw usage_error("missing required option --" + name);
  return *v;
}

std::optional<long long> args::get_int(const std::string& name, long long min,
                                       long long max) const {
  const auto v = get(name);
  if (!v) return std::nullopt;
  long long n = 0;
  const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (v->empty() || ec != std::errc{} || end != v->data() + v->size() || n < min || n > max) {
    throw usage_error("--" + name + " must be an integer between " + std::to_string(min) + " and " +
                      std::to_string(max) + ", got '" + *v + "'");
  }
  return n;
}

bool args::flag(const std::string& name) const { return flags_set_.contains(name); }

void args::allow_only(const std::set<std::string>& known) const {
  for (const auto& [name, value] : values_) {
    if (!known.contains(name)) throw usage_error("unknown option --" + name);
  }
  for (const auto& name : flags_set_) {
    if (!known.contains(name)) throw usage_error("unknown option --" + name);
  }
}

command_line split_command_line(const std::vector<std::string>& argv) {
  command_line out;
  std::size_t i = 0;
  // Global options before the subcommand move after it, in their order, so that the
  // subcommand's own parser sees one list (and later values win, as everywhere).
  for (; i < argv.size() && argv[i].starts_with("--"); ++i) {
    const std::string& w = argv[i];
    if (w == "--help") {
      out.help = true;
    } else if (w == "--json") {
      out.words.push_back(w);
    } else if (w.starts_with("--config=")) {
      out.words.push_back(w);
    } else if (w == "--config") {
      if (i + 1 >= argv.size()) throw usage_error("option --config needs a value");
      out.words.push_back(w);
      out.words.push_back(argv[++i]);
    } else {
      throw usage_error("unknown global option '" + w +
                        "' (global options: --config FILE, --json)");
    }
  }
  if (i < argv.size()) {
    out.command = argv[i];
    out.help = out.help || out.command == "help";
    out.words.insert(out.words.end(), argv.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                     argv.end());
  }
  for (const auto& w : out.words) out.json = out.json || w == "--json";
  return out;
}

}  // namespace parley::cli
