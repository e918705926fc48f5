#include "cli/command.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

#include "obs/log.hpp"
#include "store/db.hpp"

namespace parley::cli {

config::config load_config(const invocation& inv, config::secrets* secrets_out) {
  const auto path = config::resolve_path(inv.opts.get("config").value_or(""), inv.env);
  auto cfg = config::load(path, inv.env, secrets_out);
  obs::init(cfg.logging);
  return cfg;
}

namespace {

template <class T>
std::optional<std::optional<T>> value_or_none(const args& opts, const std::string& name,
                                              std::string_view expected) {
  const auto text = opts.get(name);
  if (!text) return std::nullopt;
  if (*text == "none") return std::optional<T>();
  T value{};
  const auto* end = text->data() + text->size();
  const auto [at, ec] = std::from_chars(text->data(), end, value);
  if (ec != std::errc{} || at != end) {
    throw usage_error("--" + name + " must be " + std::string(expected) + " or none");
  }
  return std::optional<T>(value);
}

}  // namespace

std::optional<bool> bool_option(const args& opts, const std::string& name) {
  const auto text = opts.get(name);
  if (!text) return std::nullopt;
  if (*text == "true") return true;
  if (*text == "false") return false;
  throw usage_error("--" + name + " must be true or false");
}

std::optional<std::optional<std::string>> text_or_none(const args& opts, const std::string& name) {
  const auto text = opts.get(name);
  if (!text) return std::nullopt;
  if (*text == "none") return std::optional<std::string>();
  return std::optional<std::string>(*text);
}

std::optional<std::optional<std::int64_t>> whole_or_none(const args& opts,
                                                         const std::string& name) {
  return value_or_none<std::int64_t>(opts, name, "a whole number");
}

std::optional<std::optional<double>> number_or_none(const args& opts, const std::string& name) {
  return value_or_none<double>(opts, name, "a number");
}

std::string read_persona_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw command_error("persona_unreadable", "cannot read persona file '" + path + "'");
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

store::tenant require_tenant(store::database& db, const std::string& slug) {
  auto t = db.with_platform(
      [&](store::transaction& tx) { return store::find_tenant_by_slug(tx, slug); });
  if (!t) throw command_error("tenant_not_found", "no tenant with slug '" + slug + "'");
  return *t;
}

}  // namespace parley::cli
