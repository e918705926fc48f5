#include "config/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <sstream>
#include <string_view>

#include "shared/parley_context.h"
#include "shared/parley_widget_token.h"

extern char** environ;

namespace parley::config {
namespace {

constexpr std::string_view env_prefix = "PARLEY__";

using problems = std::vector<std::string>;

std::string join_lines(const problems& list) {
  std::string out = "invalid configuration:";
  for (const auto& p : list) out += "\n  - " + p;
  return out;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::vector<std::string> split(std::string_view text, std::string_view sep) {
  std::vector<std::string> parts;
  for (;;) {
    const auto pos = text.find(sep);
    parts.emplace_back(text.substr(0, pos));
    if (pos == std::string_view::npos) return parts;
    text.remove_prefix(pos + sep.size());
  }
}

// ---- environment overrides ---------------------------------------------------------

// Sets root[path...] = value, creating maps on the way.
void set_path(YAML::Node node, const std::vector<std::string>& path, std::size_t at,
              const YAML::Node& value) {
  if (at + 1 == path.size()) {
    node[path[at]] = value;
    return;
  }
  set_path(node[path[at]], path, at + 1, value);
}

// The first segment of `path` (but the last) that holds a scalar, if any. Const
// access and copies only: probing creates nothing (and yaml-cpp's reset() throws on
// a missing key).
std::optional<std::string> scalar_in_the_way(const YAML::Node& node,
                                             const std::vector<std::string>& path,
                                             std::size_t at = 0) {
  if (at + 1 >= path.size() || !node.IsDefined() || !node.IsMap()) return std::nullopt;
  const YAML::Node child = node[path[at]];
  if (!child.IsDefined() || child.IsNull()) return std::nullopt;
  if (!child.IsMap()) return path[at];
  return scalar_in_the_way(child, path, at + 1);
}

// PARLEY__LLM__MODEL=x sets llm.model. A value starting with '{' or '[' is parsed as
// YAML flow (PARLEY__LLM__PRICES='{"m": {prompt_per_1k: 0.1, completion_per_1k: 0.2}}');
// anything else is taken verbatim as a string, so DSNs need no quoting.
void apply_env(YAML::Node& root, const environment& env, problems& out) {
  for (const auto& [name, value] : env) {
    if (!name.starts_with(env_prefix)) continue;
    auto path = split(std::string_view(name).substr(env_prefix.size()), "__");
    for (auto& seg : path) seg = lower(seg);
    if (path.size() < 2 || std::ranges::any_of(path, [](const auto& s) { return s.empty(); })) {
      out.push_back(name + ": expected PARLEY__SECTION__KEY");
      continue;
    }
    if (const auto blocked = scalar_in_the_way(root, path)) {
      out.push_back(name + ": '" + *blocked + "' is a value, not a section");
      continue;
    }
    try {
      const bool structured = !value.empty() && (value.front() == '{' || value.front() == '[');
      const YAML::Node parsed = structured ? YAML::Load(value) : YAML::Node(value);
      if (!root.IsMap()) root = YAML::Node(YAML::NodeType::Map);
      set_path(root, path, 0, parsed);
    } catch (const YAML::Exception& e) {
      out.push_back(name + ": " + e.msg);
    }
  }
}

// ---- typed readers -------------------------------------------------------------------

struct reader {
  std::string where;  // "server.threads"
  const YAML::Node& node;
  problems& out;

  bool scalar() const {
    if (node.IsScalar()) return true;
    out.push_back(where + ": expected a single value");
    return false;
  }

  void text(std::string& dst) const {
    if (node.IsNull()) {
      dst.clear();
      return;
    }
    if (scalar()) dst = node.Scalar();
  }

  template <class T>
  void integer(T& dst, T min, T max) const {
    if (!scalar()) return;
    const std::string& s = node.Scalar();
    T v{};
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size()) {
      out.push_back(where + ": expected an integer, got '" + s + "'");
    } else if (v < min || v > max) {
      out.push_back(where + ": " + s + " is out of range [" + std::to_string(min) + ", " +
                    std::to_string(max) + "]");
    } else {
      dst = v;
    }
  }

  void real(double& dst, double min, double max) const {
    if (!scalar()) return;
    const std::string& s = node.Scalar();
    double v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size()) {
      out.push_back(where + ": expected a number, got '" + s + "'");
    } else if (v < min || v > max) {
      out.push_back(where + ": " + s + " is out of range");
    } else {
      dst = v;
    }
  }

  void boolean(bool& dst) const {
    if (!scalar()) return;
    const std::string s = lower(node.Scalar());
    if (s == "true" || s == "yes" || s == "on" || s == "1") {
      dst = true;
    } else if (s == "false" || s == "no" || s == "off" || s == "0") {
      dst = false;
    } else {
      out.push_back(where + ": expected true or false, got '" + node.Scalar() + "'");
    }
  }

  // File modes are octal whether written "0660", "660" or "0o660".
  void mode(unsigned& dst) const {
    if (!scalar()) return;
    std::string_view s = node.Scalar();
    if (s.starts_with("0o")) s.remove_prefix(2);
    unsigned v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 8);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || v > 0777) {
      out.push_back(where + ": expected an octal file mode like \"0660\", got '" + node.Scalar() +
                    "'");
    } else {
      dst = v;
    }
  }
};

using field_reader = std::function<void(const reader&)>;
using section_fields = std::vector<std::pair<std::string_view, field_reader>>;

// The fields of the mapping `node`, found at `path` ("retrieval", "retrieval.fusion").
void read_mapping(const YAML::Node& node, const std::string& path, const section_fields& fields,
                  problems& out) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsMap()) {
    out.push_back(path + ": expected a mapping");
    return;
  }
  for (const auto& item : node) {
    const std::string key = item.first.as<std::string>();
    const auto found = std::ranges::find(fields, key, [](const auto& f) { return f.first; });
    const std::string where = path + "." + key;
    if (found == fields.end()) {
      out.push_back(where + ": unknown setting");
      continue;
    }
    found->second(reader{where, item.second, out});
  }
}

void read_section(const YAML::Node& root, std::string_view section, const section_fields& fields,
                  problems& out) {
  read_mapping(root[std::string(section)], std::string(section), fields, out);
}

void read_prices(const reader& r, std::map<std::string, price>& dst) {
  if (r.node.IsNull()) {
    dst.clear();
    return;
  }
  if (!r.node.IsMap()) {
    r.out.push_back(r.where +
                    ": expected a mapping of model -> {prompt_per_1k, completion_per_1k}");
    return;
  }
  std::map<std::string, price> prices;
  for (const auto& item : r.node) {
    const std::string model = item.first.as<std::string>();
    const std::string where = r.where + "." + model;
    if (!item.second.IsMap()) {
      r.out.push_back(where + ": expected {prompt_per_1k, completion_per_1k}");
      continue;
    }
    // A model already priced (by default) may be overridden one field at a time,
    // e.g. PARLEY__LLM__PRICES__GPT-4O-MINI__PROMPT_PER_1K; a new one needs both.
    const auto known = dst.find(model);
    price p = known != dst.end() ? known->second : price{};
    bool has_prompt = known != dst.end();
    bool has_completion = known != dst.end();
    for (const auto& f : item.second) {
      const std::string key = f.first.as<std::string>();
      const reader fr{where + "." + key, f.second, r.out};
      const double max = std::numeric_limits<double>::max();
      if (key == "prompt_per_1k") {
        fr.real(p.prompt_per_1k, 0, max);
        has_prompt = true;
      } else if (key == "completion_per_1k") {
        fr.real(p.completion_per_1k, 0, max);
        has_completion = true;
      } else {
        r.out.push_back(fr.where + ": unknown setting");
      }
    }
    if (!has_prompt || !has_completion) {
      r.out.push_back(where + ": needs both prompt_per_1k and completion_per_1k");
    }
    prices[model] = p;
  }
  dst = std::move(prices);
}

void read_embedder(const reader& r, embedder_config& e) {
  constexpr auto u32max = std::numeric_limits<std::uint32_t>::max();
  read_mapping(r.node, r.where,
               {
                   {"base_url", [&](const reader& x) { x.text(e.base_url); }},
                   {"model", [&](const reader& x) { x.text(e.model); }},
                   {"dimensions", [&](const reader& x) { x.integer(e.dimensions, 1u, 16384u); }},
                   {"send_dimensions", [&](const reader& x) { x.boolean(e.send_dimensions); }},
                   {"api_key_file", [&](const reader& x) { x.text(e.api_key_file); }},
                   {"api_key_env", [&](const reader& x) { x.text(e.api_key_env); }},
                   {"ca_file", [&](const reader& x) { x.text(e.ca_file); }},
                   {"batch_size", [&](const reader& x) { x.integer(e.batch_size, 1u, 2048u); }},
                   {"connect_timeout_ms",
                    [&](const reader& x) { x.integer(e.connect_timeout_ms, 1u, u32max); }},
                   {"timeout_ms", [&](const reader& x) { x.integer(e.timeout_ms, 1u, u32max); }},
                   {"query_prefix", [&](const reader& x) { x.text(e.query_prefix); }},
                   {"document_prefix", [&](const reader& x) { x.text(e.document_prefix); }},
                   {"min_score",
                    [&](const reader& x) {
                      double v = 0;
                      const auto before = x.out.size();
                      x.real(v, -1.0, 1.0);
                      if (x.out.size() == before) e.min_score = v;
                    }},
               },
               r.out);
}

void read_provider(const reader& r, provider_config& p) {
  read_mapping(r.node, r.where,
               {
                   {"kind", [&](const reader& x) { x.text(p.kind); }},
                   {"base_url", [&](const reader& x) { x.text(p.base_url); }},
                   {"model", [&](const reader& x) { x.text(p.model); }},
                   {"api_key_file", [&](const reader& x) { x.text(p.api_key_file); }},
                   {"api_key_env", [&](const reader& x) { x.text(p.api_key_env); }},
                   {"ca_file", [&](const reader& x) { x.text(p.ca_file); }},
               },
               r.out);
}

// A mapping of name -> settings (retrieval.embedders, llm.providers), each entry
// read by `read_one`. Names already present (none by default) may be overridden
// one field at a time from the environment.
template <class T>
void read_named(const reader& r, std::map<std::string, T>& dst, std::string_view shape,
                void (*read_one)(const reader&, T&)) {
  if (r.node.IsNull()) {
    dst.clear();
    return;
  }
  if (!r.node.IsMap()) {
    r.out.push_back(r.where + ": expected a mapping of name -> " + std::string(shape));
    return;
  }
  for (const auto& item : r.node) {
    const std::string name = item.first.as<std::string>();
    read_one(reader{r.where + "." + name, item.second, r.out}, dst[name]);
  }
}

void decode(const YAML::Node& root, config& c, problems& out) {
  constexpr auto u32max = std::numeric_limits<std::uint32_t>::max();
  read_section(root, "server",
               {
                   {"socket", [&](const reader& r) { r.text(c.server.socket); }},
                   {"socket_mode", [&](const reader& r) { r.mode(c.server.socket_mode); }},
                   {"threads", [&](const reader& r) { r.integer(c.server.threads, 1u, 256u); }},
                   {"max_body_bytes",
                    [&](const reader& r) {
                      r.integer<std::size_t>(c.server.max_body_bytes, 1024, std::size_t{1} << 30);
                    }},
                   {"idle_timeout_ms",
                    [&](const reader& r) { r.integer(c.server.idle_timeout_ms, 100u, u32max); }},
                   {"read_timeout_ms",
                    [&](const reader& r) { r.integer(c.server.read_timeout_ms, 100u, u32max); }},
                   {"write_timeout_ms",
                    [&](const reader& r) { r.integer(c.server.write_timeout_ms, 100u, u32max); }},
                   {"sse_queue_bytes",
                    [&](const reader& r) {
                      r.integer<std::size_t>(c.server.sse_queue_bytes, 1024, std::size_t{64} << 20);
                    }},
               },
               out);
  read_section(
      root, "database",
      {
          {"dsn", [&](const reader& r) { r.text(c.database.dsn); }},
          {"migrate_dsn", [&](const reader& r) { r.text(c.database.migrate_dsn); }},
          {"reporting_dsn", [&](const reader& r) { r.text(c.database.reporting_dsn); }},
          {"pool_size", [&](const reader& r) { r.integer(c.database.pool_size, 1u, 1000u); }},
      },
      out);
  read_section(
      root, "edge",
      {
          {"secret_file", [&](const reader& r) { r.text(c.edge.secret_file); }},
          {"context_max_age_ms",
           [&](const reader& r) {
             r.integer<std::int64_t>(c.edge.context_max_age_ms, 1000, 30000);
           }},
          {"context_max_skew_ms",
           [&](const reader& r) { r.integer<std::int64_t>(c.edge.context_max_skew_ms, 0, 5000); }},
          {"introspect_cache_ttl_s",
           [&](const reader& r) { r.integer(c.edge.introspect_cache_ttl_s, 1u, 3600u); }},
      },
      out);
  read_section(
      root, "widget",
      {
          {"keys_file", [&](const reader& r) { r.text(c.widget.keys_file); }},
          {"token_ttl_s",
           [&](const reader& r) {
             r.integer<std::int64_t>(c.widget.token_ttl_s, 1,
                                     std::int64_t{PARLEY_WIDGET_TOKEN_LIFETIME_MAX});
           }},
          {"issuer", [&](const reader& r) { r.text(c.widget.issuer); }},
          {"idle_session_ttl_s",
           [&](const reader& r) {
             r.integer<std::int64_t>(c.widget.idle_session_ttl_s, 60, 366LL * 86400);
           }},
          {"session_sweep_interval_s",
           [&](const reader& r) {
             r.integer<std::int64_t>(c.widget.session_sweep_interval_s, 1, 86400);
           }},
          {"resume_ttl_s",
           [&](const reader& r) {
             r.integer<std::int64_t>(c.widget.resume_ttl_s, 60, 30LL * 86400);
           }},
          {"stream_grace_s",
           [&](const reader& r) { r.integer<std::int64_t>(c.widget.stream_grace_s, 1, 3600); }},
          {"stream_buffer_kb",
           [&](const reader& r) { r.integer(c.widget.stream_buffer_kb, 16u, 65536u); }},
      },
      out);
  read_section(root, "knowledge",
               {
                   {"max_document_mb",
                    [&](const reader& r) { r.integer(c.knowledge.max_document_mb, 1u, 1024u); }},
                   {"processing_timeout_s",
                    [&](const reader& r) {
                      r.integer<std::int64_t>(c.knowledge.processing_timeout_s, 60, 86400);
                    }},
                   {"max_pending_mb",
                    [&](const reader& r) { r.integer(c.knowledge.max_pending_mb, 1u, 65536u); }},
               },
               out);
  read_section(
      root, "retrieval",
      {
          {"embedder", [&](const reader& r) { r.text(c.retrieval.embedder); }},
          {"embedders",
           [&](const reader& r) {
             read_named(r, c.retrieval.embedders, "{base_url, model, dimensions, ...}",
                        &read_embedder);
           }},
          {"dimensions", [&](const reader& r) { r.integer(c.retrieval.dimensions, 8u, 8192u); }},
          {"chunk_tokens",
           [&](const reader& r) { r.integer(c.retrieval.chunk_tokens, 16u, 8192u); }},
          {"chunk_overlap",
           [&](const reader& r) { r.integer(c.retrieval.chunk_overlap, 0u, 8191u); }},
          {"top_k", [&](const reader& r) { r.integer(c.retrieval.top_k, 1u, 100u); }},
          {"min_score", [&](const reader& r) { r.real(c.retrieval.min_score, -1.0, 1.0); }},
          {"fusion",
           [&](const reader& r) {
             auto& f = c.retrieval.fusion;
             read_mapping(
                 r.node, r.where,
                 {{"k", [&](const reader& x) { x.real(f.k, 0.0, 10000.0); }},
                  {"lexical_weight",
                   [&](const reader& x) { x.real(f.lexical_weight, 0.0, 100.0); }},
                  {"vector_weight", [&](const reader& x) { x.real(f.vector_weight, 0.0, 100.0); }}},
                 r.out);
           }},
          {"bm25",
           [&](const reader& r) {
             auto& b = c.retrieval.bm25;
             read_mapping(r.node, r.where,
                          {{"k1", [&](const reader& x) { x.real(b.k1, 0.0, 100.0); }},
                           {"b", [&](const reader& x) { x.real(b.b, 0.0, 1.0); }}},
                          r.out);
           }},
          {"index_cache_mb",
           [&](const reader& r) { r.integer(c.retrieval.index_cache_mb, 1u, 1048576u); }},
      },
      out);
  read_section(
      root, "llm",
      {
          {"provider", [&](const reader& r) { r.text(c.llm.provider); }},
          {"base_url", [&](const reader& r) { r.text(c.llm.base_url); }},
          {"model", [&](const reader& r) { r.text(c.llm.model); }},
          {"api_key_file", [&](const reader& r) { r.text(c.llm.api_key_file); }},
          {"api_key_env", [&](const reader& r) { r.text(c.llm.api_key_env); }},
          {"ca_file", [&](const reader& r) { r.text(c.llm.ca_file); }},
          {"providers",
           [&](const reader& r) {
             read_named(r, c.llm.providers, "{kind, base_url, model, ...}", &read_provider);
           }},
          {"master_keys_file", [&](const reader& r) { r.text(c.llm.master_keys_file); }},
          {"connect_timeout_ms",
           [&](const reader& r) { r.integer(c.llm.connect_timeout_ms, 1u, u32max); }},
          {"first_token_timeout_ms",
           [&](const reader& r) { r.integer(c.llm.first_token_timeout_ms, 1u, u32max); }},
          {"idle_timeout_ms",
           [&](const reader& r) { r.integer(c.llm.idle_timeout_ms, 1u, u32max); }},
          {"heartbeat_ms", [&](const reader& r) { r.integer(c.llm.heartbeat_ms, 100u, u32max); }},
          {"anthropic_version", [&](const reader& r) { r.text(c.llm.anthropic_version); }},
          {"prices", [&](const reader& r) { read_prices(r, c.llm.prices); }},
          {"max_tokens",
           [&](const reader& r) { r.integer<std::int64_t>(c.llm.max_tokens, 1, 1'000'000); }},
      },
      out);
  read_section(root, "logging",
               {
                   {"level", [&](const reader& r) { r.text(c.logging.level); }},
                   {"file", [&](const reader& r) { r.text(c.logging.file); }},
                   {"log_prompts", [&](const reader& r) { r.boolean(c.logging.log_prompts); }},
               },
               out);
  if (root.IsMap()) {
    for (const auto& item : root) {
      const std::string key = item.first.as<std::string>();
      static const std::vector<std::string> known{"server",    "database",  "edge", "widget",
                                                  "retrieval", "knowledge", "llm",  "logging"};
      if (std::ranges::find(known, key) == known.end()) out.push_back(key + ": unknown section");
    }
  }
}

// ---- semantic checks -----------------------------------------------------------------

bool one_of(const std::string& value, std::initializer_list<std::string_view> allowed) {
  return std::ranges::find(allowed, value) != allowed.end();
}

// A password written into the YAML file would be a secret in a config file; libpq
// reads it from a passfile (passfile=... / ~/.pgpass) or PGPASSWORD instead.
bool dsn_has_password(const std::string& dsn) {
  const std::string l = lower(dsn);
  if (l.find("password") != std::string::npos) return true;
  const auto scheme = l.find("://");
  if (scheme == std::string::npos) return false;
  const auto at = l.find('@', scheme);
  const auto colon = l.find(':', scheme + 3);
  return at != std::string::npos && colon != std::string::npos && colon < at;
}

// yaml-cpp throws from IsMap()/IsScalar() on a missing key; IsDefined() first.
bool is_map(const YAML::Node& node) { return node.IsDefined() && node.IsMap(); }
bool is_scalar(const YAML::Node& node) { return node.IsDefined() && node.IsScalar(); }

std::string upper(std::string text) {
  std::ranges::transform(text, text.begin(),
                         [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

void check_file_secrets(const YAML::Node& file_root, problems& out) {
  if (!is_map(file_root)) return;
  const YAML::Node db = file_root["database"];
  if (!is_map(db)) return;
  for (const char* key : {"dsn", "migrate_dsn", "reporting_dsn"}) {
    const YAML::Node v = db[key];
    if (is_scalar(v) && dsn_has_password(v.Scalar())) {
      out.push_back(std::string("database.") + key +
                    ": holds a password; use a passfile (passfile=... or ~/.pgpass) or "
                    "PARLEY__DATABASE__" +
                    upper(key) + " / PGPASSWORD from the environment");
    }
  }
  const YAML::Node llm = file_root["llm"];
  if (is_map(llm) && llm["api_key"].IsDefined()) {
    out.push_back("llm.api_key: secrets are read from llm.api_key_file or llm.api_key_env only");
  }
}

// 1-64 printable ASCII characters without spaces: safe verbatim in a token's claim
// or an HTTP header.
bool is_printable_word(std::string_view text) {
  return !text.empty() && text.size() <= 64 &&
         std::ranges::all_of(text, [](char ch) { return ch > ' ' && ch < 0x7f; });
}

bool is_http_url(const std::string& url) {
  return url.starts_with("http://") || url.starts_with("https://");
}

// Embedder and provider names are stored in tenants' settings and typed on the command
// line.
bool is_plain_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::ranges::all_of(name, [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.';
  });
}

void validate_embedders(const retrieval_config& r, problems& out) {
  for (const auto& [name, e] : r.embedders) {
    const std::string where = "retrieval.embedders." + name;
    if (name == hashing_embedder_name) {
      out.push_back(where + ": 'hashing' is the built-in embedder's name");
    } else if (!is_plain_name(name)) {
      out.push_back(where + ": a name is 1-64 letters, digits, '-', '_' or '.'");
    }
    if (!is_http_url(e.base_url))
      out.push_back(where + ".base_url: must start with http:// or https://");
    if (e.model.empty()) out.push_back(where + ".model: must not be empty");
    if (e.dimensions == 0) out.push_back(where + ".dimensions: must be set (the vectors' length)");
    if (!e.api_key_file.empty() && !e.api_key_env.empty()) {
      out.push_back(where + ": set api_key_file or api_key_env, not both");
    }
  }
  if (r.embedder != hashing_embedder_name && !r.embedders.contains(r.embedder)) {
    out.push_back("retrieval.embedder: must be hashing or a name under retrieval.embedders, got '" +
                  r.embedder + "'");
  }
}

void validate_provider(const std::string& where, const provider_config& p, problems& out) {
  if (!one_of(p.kind, {"extractive", "openai", "anthropic"})) {
    out.push_back(where + ": the kind must be extractive, openai or anthropic, got '" + p.kind +
                  "'");
    return;
  }
  if (p.kind == "extractive") return;
  if (!is_http_url(p.base_url))
    out.push_back(where + ".base_url: must start with http:// or https://");
  if (p.model.empty()) out.push_back(where + ".model: must not be empty");
  if (!p.api_key_file.empty() && !p.api_key_env.empty()) {
    out.push_back(where + ": set api_key_file or api_key_env, not both");
  }
}

// The default provider as llm's own fields describe it.
provider_config default_provider(const llm_config& llm) {
  if (llm.provider == "extractive") return {"extractive", "", "extractive", "", "", ""};
  return {llm.provider, llm.base_url, llm.model, llm.api_key_file, llm.api_key_env, llm.ca_file};
}

// Agents and tenants' credentials name providers: the names are kept short and plain.
void validate_providers(const llm_config& llm, problems& out) {
  for (const auto& [name, p] : llm.providers) {
    const auto where = "llm.providers." + name;
    if (!is_plain_name(name)) {
      out.push_back(where + ": a name is 1-64 letters, digits, '-', '_' or '.'");
    }
    validate_provider(where, p, out);
  }
  if (llm.providers.contains(llm.provider)) return;
  if (!one_of(llm.provider, {"extractive", "openai", "anthropic"})) {
    out.push_back(
        "llm.provider: must be extractive, openai, anthropic or a name under "
        "llm.providers, got '" +
        llm.provider + "'");
  }
  // llm's own fields describe the default provider.
  if (!is_http_url(llm.base_url))
    out.push_back("llm.base_url: must start with http:// or https://");
  if (llm.model.empty()) out.push_back("llm.model: must not be empty");
  if (!llm.api_key_file.empty() && !llm.api_key_env.empty()) {
    out.push_back("llm: set api_key_file or api_key_env, not both");
  }
}

void validate(const config& c, problems& out) {
  if (c.server.socket.empty() || c.server.socket.front() != '/') {
    out.push_back("server.socket: must be an absolute path");
  } else if (c.server.socket.size() >= 108) {
    out.push_back("server.socket: longer than a Unix socket path may be (107 bytes)");
  }
  if (c.database.dsn.empty()) out.push_back("database.dsn: must not be empty");
  if (c.database.migrate_dsn.empty()) out.push_back("database.migrate_dsn: must not be empty");
  if (c.edge.secret_file.empty()) out.push_back("edge.secret_file: must not be empty");
  // Printable ASCII: it goes verbatim into every token's "iss".
  if (!is_printable_word(c.widget.issuer)) {
    out.push_back("widget.issuer: must be 1-64 printable ASCII characters without spaces");
  }
  if (c.widget.idle_session_ttl_s < c.widget.token_ttl_s) {
    out.push_back("widget.idle_session_ttl_s: must be at least widget.token_ttl_s (" +
                  std::to_string(c.widget.token_ttl_s) +
                  "), so that no live token outlives its session");
  }
  validate_embedders(c.retrieval, out);
  // A document sent as base64 JSON is a third larger than the document.
  const std::size_t largest_upload = std::size_t{c.knowledge.max_document_mb} * 1024 * 1024 / 3 * 4;
  if (c.server.max_body_bytes < largest_upload + 64 * 1024) {
    out.push_back("server.max_body_bytes: must be at least " +
                  std::to_string(largest_upload + 64 * 1024) +
                  " to take a knowledge.max_document_mb document sent as base64 JSON");
  }
  if (c.retrieval.chunk_overlap >= c.retrieval.chunk_tokens) {
    out.push_back("retrieval.chunk_overlap: must be smaller than retrieval.chunk_tokens");
  }
  if (c.retrieval.fusion.lexical_weight == 0 && c.retrieval.fusion.vector_weight == 0) {
    out.push_back(
        "retrieval.fusion: lexical_weight and vector_weight must not both be 0 (nothing would "
        "rank)");
  }
  validate_providers(c.llm, out);
  if (!is_printable_word(c.llm.anthropic_version)) {
    out.push_back(
        "llm.anthropic_version: must be 1-64 printable ASCII characters without spaces, e.g. "
        "2023-06-01");
  }
  if (!one_of(c.logging.level, {"debug", "info", "warn", "error"})) {
    out.push_back("logging.level: must be debug, info, warn or error, got '" + c.logging.level +
                  "'");
  }
}

std::string trim_right(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

void read_widget_keys(const std::string& path, secrets& s, problems& out) {
  auto ring = read_key_ring(path, "widget.keys_file");
  out.insert(out.end(), ring.problems.begin(), ring.problems.end());
  if (ring.problems.empty()) s.widget_keys = std::move(ring.keys);
}

// The API key of an upstream named at `where` (llm, retrieval.embedders.x), from its
// file or environment variable; empty when it has neither. Its CA file must be readable.
std::string read_api_key(const std::string& where, const std::string& ca_file,
                         const std::string& key_file, const std::string& key_env,
                         const environment& env, problems& out) {
  if (!ca_file.empty() && !read_file(ca_file)) {
    out.push_back(where + ".ca_file: cannot read '" + ca_file + "'");
  }
  std::string key;
  if (!key_file.empty()) {
    if (const auto text = read_file(key_file); !text) {
      out.push_back(where + ".api_key_file: cannot read '" + key_file + "'");
    } else if ((key = trim_right(*text)).empty()) {
      out.push_back(where + ".api_key_file: '" + key_file + "' is empty");
    }
  }
  if (!key_env.empty()) {
    const auto it = env.find(key_env);
    if (it == env.end() || trim_right(it->second).empty()) {
      out.push_back(where + ".api_key_env: environment variable " + key_env + " is not set");
    } else {
      key = trim_right(it->second);
    }
  }
  return key;
}

secrets read_secrets(const config& cfg, const environment& env, problems& out) {
  secrets s;
  if (const auto text = read_file(cfg.edge.secret_file); !text) {
    out.push_back("edge.secret_file: cannot read '" + cfg.edge.secret_file + "'");
  } else {
    s.edge_secret = trim_right(*text);
    if (s.edge_secret.size() < PARLEY_EDGE_SECRET_MIN) {
      out.push_back("edge.secret_file: the secret must be at least " +
                    std::to_string(PARLEY_EDGE_SECRET_MIN) + " bytes");
    }
  }
  if (!cfg.widget.keys_file.empty()) read_widget_keys(cfg.widget.keys_file, s, out);
  for (const auto& [name, p] : providers_of(cfg.llm)) {
    const auto where = name == cfg.llm.provider && p.kind == name ? "llm" : "llm.providers." + name;
    auto key = read_api_key(where, p.ca_file, p.api_key_file, p.api_key_env, env, out);
    if (!key.empty()) s.provider_api_keys.emplace(name, std::move(key));
  }
  if (!cfg.llm.master_keys_file.empty()) {
    auto ring = read_key_ring(cfg.llm.master_keys_file, "llm.master_keys_file");
    out.insert(out.end(), ring.problems.begin(), ring.problems.end());
    if (ring.problems.empty()) s.master_keys = std::move(ring.keys);
  }
  for (const auto& [name, e] : cfg.retrieval.embedders) {
    auto key = read_api_key("retrieval.embedders." + name, e.ca_file, e.api_key_file, e.api_key_env,
                            env, out);
    if (!key.empty()) s.embedder_api_keys.emplace(name, std::move(key));
  }
  return s;
}

}  // namespace

std::optional<double> priced_cost(const std::map<std::string, price>& prices,
                                  const std::string& model, std::int64_t prompt,
                                  std::int64_t completion) {
  const auto p = prices.find(model);
  if (p == prices.end()) return std::nullopt;
  return (static_cast<double>(prompt) * p->second.prompt_per_1k +
          static_cast<double>(completion) * p->second.completion_per_1k) /
         1000.0;
}

double min_score_for(const retrieval_config& r, std::string_view embedder) {
  const auto e = r.embedders.find(std::string(embedder));
  return e != r.embedders.end() ? e->second.min_score.value_or(r.min_score) : r.min_score;
}

std::map<std::string, provider_config> providers_of(const llm_config& llm) {
  auto all = llm.providers;
  if (!all.contains(llm.provider)) all.emplace(llm.provider, default_provider(llm));
  return all;
}

config_error::config_error(std::vector<std::string> list)
    : std::runtime_error(join_lines(list)), problems_(std::move(list)) {}

environment process_environment() {
  environment env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

config parse(const std::string& yaml_text, const environment& env, secrets* secrets_out) {
  problems out;
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw config_error(
        {"YAML syntax: " + e.msg + " (line " + std::to_string(e.mark.line + 1) + ")"});
  }
  if (root.IsDefined() && !root.IsNull() && !root.IsMap()) {
    throw config_error({"the configuration must be a mapping of sections"});
  }
  check_file_secrets(root, out);
  apply_env(root, env, out);
  config c;
  decode(root, c, out);
  validate(c, out);
  if (secrets_out) *secrets_out = read_secrets(c, env, out);
  if (!out.empty()) throw config_error(std::move(out));
  return c;
}

config load(const std::string& path, const environment& env, secrets* secrets_out) {
  const auto text = read_file(path);
  if (!text) throw config_error({"cannot read configuration file '" + path + "'"});
  return parse(*text, env, secrets_out);
}

std::string resolve_path(const std::string& flag_value, const environment& env) {
  if (!flag_value.empty()) return flag_value;
  if (const auto it = env.find("PARLEY_CONFIG"); it != env.end() && !it->second.empty()) {
    return it->second;
  }
  return "var/parley.yaml";
}

secrets load_secrets(const config& cfg, const environment& env) {
  problems out;
  secrets s = read_secrets(cfg, env, out);
  if (!out.empty()) throw config_error(std::move(out));
  return s;
}

key_ring_parse read_key_ring(const std::string& path, std::string_view where) {
  const auto text = read_file(path);
  if (!text) return {{}, {std::string(where) + ": cannot read '" + path + "'"}};
  auto ring = parse_key_ring(*text);
  for (auto& p : ring.problems) p = std::string(where) + ": '" + path + "' " + p;
  return ring;
}

}  // namespace parley::config
