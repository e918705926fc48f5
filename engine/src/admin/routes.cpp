#include "admin/routes.hpp"

#include <algorithm>
#include <limits>

#include "admin/credentials.hpp"
#include "admin/service.hpp"
#include "http/api_error.hpp"
#include "store/db.hpp"

namespace parley::admin {

namespace asio = boost::asio;
namespace {

using json = nlohmann::json;
using limit = std::optional<std::int64_t>;

http::api_error bad_field(const std::string& name, const std::string& expected) {
  return http::api_error::bad_request("invalid_field", "'" + name + "' must be " + expected + ".");
}

// The members of a JSON object body, checked against the fields a route knows.
class fields {
 public:
  fields(const json& body, std::initializer_list<std::string_view> known) : body_(body) {
    for (const auto& [name, value] : body.items()) {
      if (std::ranges::find(known, name) == known.end()) {
        throw http::api_error::bad_request("unknown_field", "Unknown field '" + name + "'.");
      }
    }
  }

  std::optional<std::string> text(const std::string& name) const {
    const auto* v = find(name);
    if (!v) return std::nullopt;
    if (!v->is_string()) throw bad_field(name, "a string");
    return v->get<std::string>();
  }

  std::string required_text(const std::string& name) const {
    auto v = text(name);
    if (!v) throw http::api_error::bad_request("missing_field", "'" + name + "' is required.");
    return *v;
  }

  // Absent: leave alone; null: no limit (the edge's default); else a whole number.
  std::optional<limit> plan_limit(const std::string& name) const {
    const auto* v = find(name);
    if (!v) return std::nullopt;
    if (v->is_null()) return limit{};
    if (v->is_number_integer() &&
        !(v->is_number_unsigned() &&
          v->get<std::uint64_t>() > std::numeric_limits<std::int64_t>::max())) {
      return limit{v->get<std::int64_t>()};
    }
    throw bad_field(name, "a whole number or null");
  }

  // Absent: leave alone; null: clear it; else a string.
  std::optional<std::optional<std::string>> nullable_text(const std::string& name) const {
    const auto* v = find(name);
    if (!v) return std::nullopt;
    if (v->is_null()) return std::optional<std::string>();
    if (!v->is_string()) throw bad_field(name, "a string or null");
    return std::optional<std::string>(v->get<std::string>());
  }

  // Absent: leave alone; null: clear it; else a number (the service checks its range).
  std::optional<std::optional<double>> nullable_number(const std::string& name) const {
    const auto* v = find(name);
    if (!v) return std::nullopt;
    if (v->is_null()) return std::optional<double>();
    if (!v->is_number()) throw bad_field(name, "a number or null");
    return std::optional<double>(v->get<double>());
  }

  std::optional<std::vector<std::string>> strings(const std::string& name) const {
    const auto* v = find(name);
    if (!v) return std::nullopt;
    if (!v->is_array() || !std::ranges::all_of(*v, [](const json& e) { return e.is_string(); })) {
      throw bad_field(name, "an array of strings");
    }
    return v->get<std::vector<std::string>>();
  }

  std::optional<std::int64_t> whole_number(const std::string& name) const {
    const auto* v = find(name);
    if (!v) return std::nullopt;
    if (!v->is_number_integer() ||
        (v->is_number_unsigned() &&
         v->get<std::uint64_t>() > std::numeric_limits<std::int64_t>::max())) {
      throw bad_field(name, "a whole number");
    }
    return v->get<std::int64_t>();
  }

  std::optional<bool> boolean(const std::string& name) const {
    const auto* v = find(name);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) throw bad_field(name, "true or false");
    return v->get<bool>();
  }

 private:
  const json* find(const std::string& name) const {
    const auto it = body_.find(name);
    return it == body_.end() ? nullptr : &*it;
  }

  const json& body_;
};

// An optional body: empty means {}.
json optional_body(const http::request& req) {
  return req.body.empty() ? json::object() : http::parse_json_body(req);
}

store::new_tenant parse_new_tenant(const http::request& req) {
  const auto body = http::parse_json_body(req);
  const fields f(body,
                 {"slug", "name", "rate_rpm", "rate_burst", "max_streams", "allowed_origins"});
  store::new_tenant t;
  t.slug = f.required_text("slug");
  t.name = f.required_text("name");
  t.rate_rpm = f.plan_limit("rate_rpm").value_or(limit{});
  t.rate_burst = f.plan_limit("rate_burst").value_or(limit{});
  t.max_streams = f.plan_limit("max_streams").value_or(limit{});
  t.allowed_origins = f.strings("allowed_origins").value_or(std::vector<std::string>{});
  return t;
}

store::tenant_patch parse_patch(const http::request& req) {
  const auto body = http::parse_json_body(req);
  const fields f(body, {"name", "rate_rpm", "rate_burst", "max_streams", "allowed_origins",
                        "is_active", "chunk_tokens", "chunk_overlap", "hnsw", "budget_tokens_day",
                        "budget_tokens_month", "budget_cost_day", "budget_cost_month"});
  store::tenant_patch p;
  p.name = f.text("name");
  p.rate_rpm = f.plan_limit("rate_rpm");
  p.rate_burst = f.plan_limit("rate_burst");
  p.max_streams = f.plan_limit("max_streams");
  p.allowed_origins = f.strings("allowed_origins");
  p.is_active = f.boolean("is_active");
  p.chunk_tokens = f.whole_number("chunk_tokens");
  p.chunk_overlap = f.whole_number("chunk_overlap");
  p.hnsw = f.boolean("hnsw");
  p.budget_tokens_day = f.plan_limit("budget_tokens_day");
  p.budget_tokens_month = f.plan_limit("budget_tokens_month");
  p.budget_cost_day = f.nullable_number("budget_cost_day");
  p.budget_cost_month = f.nullable_number("budget_cost_month");
  return p;
}

agent_update parse_agent_update(const http::request& req) {
  const auto body = http::parse_json_body(req);
  const fields f(body, {"name", "greeting", "refusal_text", "is_enabled", "persona", "provider",
                        "model", "temperature", "max_tokens", "top_k", "min_score"});
  agent_update u;
  u.patch.name = f.text("name");
  u.patch.greeting = f.nullable_text("greeting");
  u.patch.refusal_text = f.text("refusal_text");
  u.patch.is_enabled = f.boolean("is_enabled");
  u.persona = f.nullable_text("persona");
  u.patch.provider = f.nullable_text("provider");
  u.patch.model = f.nullable_text("model");
  u.patch.temperature = f.nullable_number("temperature");
  u.patch.max_tokens = f.plan_limit("max_tokens");
  u.patch.top_k = f.plan_limit("top_k");
  u.patch.min_score = f.nullable_number("min_score");
  return u;
}

persona_text parse_persona(const http::request& req) {
  const auto body = http::parse_json_body(req);
  const fields f(body, {"name", "system_prompt"});
  return {f.text("name"), f.required_text("system_prompt")};
}

std::string parse_key_kind(const http::request& req) {
  const auto body = optional_body(req);
  const fields f(body, {"kind"});
  return f.text("kind").value_or("secret");
}

store::new_agent parse_new_agent(const http::request& req) {
  const auto body = http::parse_json_body(req);
  const fields f(body, {"code", "name", "greeting", "persona_prompt"});
  store::new_agent a;
  a.code = f.required_text("code");
  a.name = f.text("name").value_or("");
  a.greeting = f.text("greeting");
  a.persona_prompt = f.text("persona_prompt");
  return a;
}

http::api_error to_api_error(const refusal& r) {
  switch (r.why()) {
    case refusal::reason::invalid: return http::api_error::bad_request(r.code(), r.what());
    case refusal::reason::not_found: return http::api_error::not_found(r.code(), r.what());
    case refusal::reason::conflict: return {409, "invalid_request_error", r.code(), r.what()};
    case refusal::reason::unavailable: return {503, "server_error", r.code(), r.what()};
  }
  return http::api_error::internal();
}

actor actor_of(const http::request& req) { return {"admin-api", req.identity.request_id}; }

// What every admin route works with.
struct state {
  store::database& db;
  const provider_catalog& catalog;
};

// Runs op(service) — or op(credential_admin) — on a DB thread; refusals become
// OpenAI-shaped 4xx errors.
template <class Admin = service, class Op>
auto call(const state& st, const http::request& req, Op op)
    -> asio::awaitable<std::invoke_result_t<Op&, Admin&>> {
  auto job = [&st, who = actor_of(req), op = std::move(op)]() mutable {
    Admin admin(st.db, std::move(who), st.catalog);
    return op(admin);
  };
  try {
    co_return co_await st.db.async(std::move(job));
  } catch (const refusal& r) {
    throw to_api_error(r);
  }
}

template <class T>
json list_of(const std::vector<T>& items) {
  json data = json::array();
  for (const auto& item : items) data.push_back(to_json(item));
  return {{"object", "list"}, {"data", data}};
}

asio::awaitable<void> send_json(http::responder& res, unsigned status, json body) {
  auto answer = http::response::json(status, body);
  co_await res.send(std::move(answer));
}

using handler_fn = asio::awaitable<void> (*)(const state&, http::request&, http::responder&);

asio::awaitable<void> list_tenants(const state& st, http::request& req, http::responder& res) {
  auto op = [](service& s) { return s.list_tenants(); };
  const auto tenants = co_await call(st, req, std::move(op));
  co_await send_json(res, 200, list_of(tenants));
}

asio::awaitable<void> create_tenant(const state& st, http::request& req, http::responder& res) {
  auto op = [t = parse_new_tenant(req)](service& s) mutable {
    return s.create_tenant(std::move(t));
  };
  const auto created = co_await call(st, req, std::move(op));
  co_await send_json(res, 201, to_json(created));
}

asio::awaitable<void> get_tenant(const state& st, http::request& req, http::responder& res) {
  auto op = [slug = req.params.at("slug")](service& s) { return s.get_tenant(slug); };
  const auto found = co_await call(st, req, std::move(op));
  co_await send_json(res, 200, to_json(found));
}

asio::awaitable<void> update_tenant(const state& st, http::request& req, http::responder& res) {
  auto op = [slug = req.params.at("slug"), p = parse_patch(req)](service& s) mutable {
    return s.update_tenant(slug, std::move(p));
  };
  const auto updated = co_await call(st, req, std::move(op));
  co_await send_json(res, 200, to_json(updated));
}

asio::awaitable<void> tenant_usage(const state& st, http::request& req, http::responder& res) {
  const auto param = [&req](std::string_view name) -> std::optional<std::string> {
    if (const auto v = req.query_param(name)) return std::string(*v);
    return std::nullopt;
  };
  const usage_query q{param("from"), param("to"), param("by")};
  auto op = [slug = req.params.at("slug"), q](service& s) { return s.usage(slug, q); };
  const auto report = co_await call(st, req, std::move(op));
  co_await send_json(res, 200, to_json(report));
}

asio::awaitable<void> issue_key(const state& st, http::request& req, http::responder& res) {
  auto op = [slug = req.params.at("slug"), kind = parse_key_kind(req)](service& s) {
    return s.issue_key(slug, kind);
  };
  const auto issued = co_await call(st, req, std::move(op));
  auto body = to_json(issued.record);
  body["key"] = issued.key;
  auto answer = http::response::json(201, body);
  answer.headers.push_back({"Cache-Control", "no-store"});  // the key is in this body only
  co_await res.send(std::move(answer));
}

asio::awaitable<void> list_keys(const state& st, http::request& req, http::responder& res) {
  auto op = [slug = req.params.at("slug")](service& s) { return s.list_keys(slug); };
  const auto keys = co_await call(st, req, std::move(op));
  co_await send_json(res, 200, list_of(keys));
}

asio::awaitable<void> revoke_key(const state& st, http::request& req, http::responder& res) {
  auto op = [id = req.params.at("id")](service& s) { return s.revoke_key({id, std::nullopt}); };
  const auto revoked = co_await call(st, req, std::move(op));
  co_await send_json(res, 200, to_json(revoked));
}

asio::awaitable<void> list_agents(const state& st, http::request& req, http::responder& res) {
  auto op = [slug = req.params.at("slug")](service& s) { return s.list_agents(slug); };
  const auto agents = co_await call(st, req, std::move(op));
  co_await send_json(res, 200, list_of(agents));
}

asio::awaitable<void> create_agent(const state& st, http::request& req, http::responder& res) {
  auto op = [slug = req.params.at("slug"), a = parse_new_agent(req)](service& s) mutable {
    return s.create_agent(slug, std::move(a));
  };
  const auto created = co_await call(st, req, std::move(op));
  co_await send_json(res, 201, to_json(created));
}

asio::awaitable<void> update_agent(const state& st, http::request& req, http::responder& res) {
  auto op = [slug = req.params.at("slug"), code = req.params.at("code"),
             u = parse_agent_update(req)](service& s) mutable {
    return s.update_agent(slug, code, std::move(u));
  };
  const auto updated = co_await call(st, req, std::move(op));
  co_await send_json(res, 200, to_json(updated));
}

asio::awaitable<void> list_personas(const state& st, http::request& req, http::responder& res) {
  auto op = [slug = req.params.at("slug")](service& s) { return s.list_personas(slug); };
  const auto personas = co_await call(st, req, std::move(op));
  co_await send_json(res, 200, list_of(personas));
}

asio::awaitable<void> set_persona(const state& st, http::request& req, http::responder& res) {
  auto op = [slug = req.params.at("slug"), code = req.params.at("code"), p = parse_persona(req)](
                service& s) mutable { return s.set_persona(slug, code, std::move(p)); };
  const auto saved = co_await call(st, req, std::move(op));
  co_await send_json(res, 200, to_json(saved));
}

// The key arrives in the body and goes straight into the box: never echoed back.
std::string parse_credential(const http::request& req) {
  const auto body = http::parse_json_body(req);
  const fields f(body, {"api_key"});
  return f.required_text("api_key");
}

asio::awaitable<void> list_credentials(const state& st, http::request& req, http::responder& res) {
  auto op = [slug = req.params.at("slug")](credential_admin& c) { return c.list(slug); };
  const auto stored = co_await call<credential_admin>(st, req, std::move(op));
  co_await send_json(res, 200, list_of(stored));
}

asio::awaitable<void> put_credential(const state& st, http::request& req, http::responder& res) {
  auto op = [slug = req.params.at("slug"), provider = req.params.at("provider"),
             key = parse_credential(req)](credential_admin& c) {
    return c.put(slug, provider, key);
  };
  const auto stored = co_await call<credential_admin>(st, req, std::move(op));
  co_await send_json(res, 200, to_json(stored));
}

asio::awaitable<void> delete_credential(const state& st, http::request& req, http::responder& res) {
  auto op = [slug = req.params.at("slug"),
             provider = req.params.at("provider")](credential_admin& c) {
    c.remove(slug, provider);
    return true;
  };
  co_await call<credential_admin>(st, req, std::move(op));
  json deleted = {{"provider", req.params.at("provider")}, {"deleted", true}};
  co_await send_json(res, 200, std::move(deleted));
}

}  // namespace

void add_admin_routes(http::router& routes, store::database& db, const provider_catalog& catalog) {
  const auto st = std::make_shared<const state>(state{db, catalog});
  const auto add = [&](std::string method, std::string_view pattern, handler_fn fn) {
    routes.add(std::move(method), pattern, {edge::principal_kind::admin},
               [st, fn](http::request& req, http::responder& res) { return fn(*st, req, res); });
  };
  add("GET", "/admin/v1/tenants", list_tenants);
  add("POST", "/admin/v1/tenants", create_tenant);
  add("GET", "/admin/v1/tenants/{slug}", get_tenant);
  add("PATCH", "/admin/v1/tenants/{slug}", update_tenant);
  add("GET", "/admin/v1/tenants/{slug}/usage", tenant_usage);
  add("GET", "/admin/v1/tenants/{slug}/keys", list_keys);
  add("POST", "/admin/v1/tenants/{slug}/keys", issue_key);
  add("DELETE", "/admin/v1/keys/{id}", revoke_key);
  add("GET", "/admin/v1/tenants/{slug}/agents", list_agents);
  add("POST", "/admin/v1/tenants/{slug}/agents", create_agent);
  add("PATCH", "/admin/v1/tenants/{slug}/agents/{code}", update_agent);
  add("GET", "/admin/v1/tenants/{slug}/personas", list_personas);
  add("PUT", "/admin/v1/tenants/{slug}/personas/{code}", set_persona);
  add("GET", "/admin/v1/tenants/{slug}/credentials", list_credentials);
  add("PUT", "/admin/v1/tenants/{slug}/credentials/{provider}", put_credential);
  add("DELETE", "/admin/v1/tenants/{slug}/credentials/{provider}", delete_credential);
}

}  // namespace parley::admin
