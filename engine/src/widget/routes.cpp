#include "widget/routes.hpp"

#include <algorithm>

#include "edge/api_key.hpp"
#include "base/clock.hpp"
#include "base/crypto.hpp"
#include "http/api_error.hpp"
#include "obs/log.hpp"
#include "store/agent_repo.hpp"
#include "store/db.hpp"
#include "store/key_repo.hpp"
#include "store/widget_repo.hpp"
#include "widget/frame.hpp"
#include "widget/session_guard.hpp"
#include "widget/token.hpp"

namespace parley::widget {

namespace asio = boost::asio;
namespace {

using json = nlohmann::json;

constexpr std::string_view site_key_header = "X-Parley-Site-Key";
constexpr int history_limit = 200;

http::api_error invalid_site_key() {
  return {401, "invalid_request_error", "invalid_site_key",
          "The site key is missing, unknown or revoked."};
}

http::api_error origin_not_allowed() {
  return {403, "invalid_request_error", "origin_not_allowed",
          "This site key may not be used from this origin."};
}

http::api_error no_agent() {
  return http::api_error::not_found("agent_not_found",
                                    "No enabled agent is available to the widget.");
}

// Agent codes travel in the context's principal field, which has no '.'.
bool context_safe(std::string_view code) { return code.find('.') == std::string_view::npos; }

// The agent the widget talks to: the one asked for, else the tenant's first enabled.
std::optional<store::agent> widget_agent(store::transaction& tx,
                                         const std::optional<std::string>& code) {
  auto a = code ? store::find_agent(tx, *code) : store::first_enabled_agent(tx);
  if (!a || !a->is_enabled || !context_safe(a->code)) return std::nullopt;
  return a;
}

// The live publishable key `key`, or 401 invalid_site_key. Malformed keys never
// reach the database.
asio::awaitable<store::site_key> resolve_site_key(store::database& db,
                                                  std::optional<std::string_view> key) {
  if (!key || !edge::is_well_formed_key(*key, edge::key_kind::publishable))
    throw invalid_site_key();
  auto lookup = [hash = base::sha256_hex(*key)](store::transaction& tx) {
    return store::find_site_key(tx, hash);
  };
  const auto found = co_await db.async_platform(std::move(lookup));
  if (!found) throw invalid_site_key();
  co_return *found;
}

std::optional<std::string> requested_agent(const http::request& req) {
  if (req.body.empty()) return std::nullopt;
  const auto body = http::parse_json_body(req);
  for (const auto& [name, value] : body.items()) {
    if (name != "agent")
      throw http::api_error::bad_request("unknown_field", "Unknown field '" + name + "'.");
  }
  const auto it = body.find("agent");
  if (it == body.end()) return std::nullopt;
  if (!it->is_string() || !store::is_valid_agent_code(it->get<std::string>())) {
    throw http::api_error::bad_request("invalid_field", "'agent' must be an agent code.");
  }
  return it->get<std::string>();
}

struct new_session {
  store::agent agent;
  std::string session_id;
};

asio::awaitable<void> create_session(store::database& db, const settings& s, http::request& req,
                                     http::responder& res) {
  const auto signing = s.signer->current();
  if (!signing) {
    throw http::api_error::unavailable("widget_disabled",
                                       "The widget is not configured on this server.");
  }
  const auto agent_code = requested_agent(req);
  const auto key = co_await resolve_site_key(db, req.header(site_key_header));
  const std::string origin(req.header("Origin").value_or(""));
  if (std::ranges::find(key.allowed_origins, origin) == key.allowed_origins.end()) {
    obs::info("widget_session_refused", {{"request_id", req.identity.request_id},
                                         {"tenant_id", key.tenant_id},
                                         {"reason", "origin_not_allowed"},
                                         {"origin", origin}});
    throw origin_not_allowed();
  }
  auto open = [tenant = key.tenant_id, key_id = key.key_id,
               agent_code](store::transaction& tx) -> std::optional<new_session> {
    auto agent = widget_agent(tx, agent_code);
    if (!agent) return std::nullopt;
    auto id = store::create_widget_session(tx, tenant, agent->id, key_id);
    return new_session{std::move(*agent), std::move(id)};
  };
  const auto opened = co_await db.async_tenant(key.tenant_id, std::move(open));
  if (!opened) throw no_agent();

  const token_claims claims{s.issuer, key.tenant_id,        opened->session_id, opened->agent.code,
                            origin,   base::unix_seconds(), s.token_ttl_s};
  const json agent = {
      {"code", opened->agent.code},
      {"name", opened->agent.name},
      {"greeting", opened->agent.greeting ? json(*opened->agent.greeting) : json()}};
  auto answer = http::response::json({{"token", mint_token(*signing, claims)},
                                      {"expires_at", claims.issued_at + claims.ttl_s},
                                      {"session_id", opened->session_id},
                                      {"agent", agent}});
  answer.headers.push_back({"Cache-Control", "no-store"});
  obs::info("widget_session", {{"request_id", req.identity.request_id},
                               {"tenant_id", key.tenant_id},
                               {"key_id", key.key_id},
                               {"session_id", opened->session_id},
                               {"agent", opened->agent.code},
                               {"origin", origin},
                               {"kid", signing->kid},
                               {"expires_at", claims.issued_at + claims.ttl_s}});
  co_await res.send(std::move(answer));
}

asio::awaitable<void> frame(store::database& db, http::request& req, http::responder& res) {
  const auto key = co_await resolve_site_key(db, req.query_param("site_key"));
  auto load = [](store::transaction& tx) { return widget_agent(tx, std::nullopt); };
  const auto agent = co_await db.async_tenant(key.tenant_id, std::move(load));
  const frame_content content{agent ? agent->name : "Chat",
                              agent ? agent->greeting.value_or("") : ""};
  const auto nonce = make_nonce();
  http::response page;
  page.content_type = "text/html; charset=utf-8";
  page.body = render_frame(nonce, content);
  page.headers.push_back({"Content-Security-Policy", frame_csp(nonce, key.allowed_origins)});
  page.headers.push_back({"Cache-Control", "no-store"});  // a nonce is good for one response
  co_await res.send(std::move(page));
}

json history_json(const std::string& session_id,
                  const std::vector<store::history_message>& messages) {
  json data = json::array();
  for (const auto& m : messages) {
    data.push_back({{"id", m.id},
                    {"role", m.role},
                    {"content", m.content},
                    {"citations", json::parse(m.citations_json)},
                    {"created_at", m.created_unix}});
  }
  return {{"session_id", session_id}, {"messages", data}};
}

asio::awaitable<void> history(store::database& db, http::request& req, http::responder& res) {
  const std::string tenant = req.identity.tenant_id;
  const std::string session = req.identity.session_id.value_or("");
  auto load = [tenant, session](store::transaction& tx) -> std::vector<store::history_message> {
    require_live_session(tx, tenant, session);
    return store::session_history(tx, tenant, session, history_limit);
  };
  const auto messages = co_await db.async_tenant(tenant, std::move(load));
  auto answer = http::response::json(history_json(session, messages));
  answer.headers.push_back({"Cache-Control", "no-store"});
  co_await res.send(std::move(answer));
}

}  // namespace

settings make_settings(const config::widget_config& cfg,
                       std::shared_ptr<const signing_key> signer) {
  return {cfg.issuer, cfg.token_ttl_s, std::move(signer)};
}

void add_widget_routes(http::router& routes, store::database& db, settings s) {
  routes.add("POST", "/widget/v1/session", {edge::principal_kind::edge},
             [&db, s = std::move(s)](http::request& req, http::responder& res) {
               return create_session(db, s, req, res);
             });
  routes.add("GET", "/widget/v1/frame", {edge::principal_kind::edge},
             [&db](http::request& req, http::responder& res) { return frame(db, req, res); });
  routes.add("GET", "/widget/v1/history", {edge::principal_kind::widget},
             [&db](http::request& req, http::responder& res) { return history(db, req, res); });
}

}  // namespace parley::widget
