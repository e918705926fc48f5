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
#include "widget/credentials.hpp"
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

// What a session request may carry: the agent to talk to, a bootstrap ticket, a
// resume credential (all optional, nothing else).
struct session_body {
  std::optional<std::string> agent;
  std::optional<std::string> ticket;
  std::optional<std::string> resume;
};

std::optional<std::string> string_field(const json& body, const char* name) {
  const auto it = body.find(name);
  if (it == body.end()) return std::nullopt;
  if (!it->is_string() || it->get_ref<const std::string&>().empty())
    throw http::api_error::bad_request("invalid_field",
                                       std::string("'") + name + "' must be a string.");
  return it->get<std::string>();
}

session_body parse_session_body(const http::request& req) {
  if (req.body.empty()) return {};
  const auto body = http::parse_json_body(req);
  for (const auto& [name, value] : body.items()) {
    if (name != "agent" && name != "ticket" && name != "resume")
      throw http::api_error::bad_request("unknown_field", "Unknown field '" + name + "'.");
  }
  session_body b{string_field(body, "agent"), string_field(body, "ticket"),
                 string_field(body, "resume")};
  if (b.agent && !store::is_valid_agent_code(*b.agent))
    throw http::api_error::bad_request("invalid_field", "'agent' must be an agent code.");
  return b;
}

// Who may open a session: a tenant, through one of its live site keys, for a page of
// one of its origins; with the tenant's plan, read with the key, for the token.
struct grant {
  std::string tenant_id;
  std::string key_id;
  std::string origin;
  std::optional<std::string> agent;
  store::tenant_plan plan;
};

http::api_error invalid_ticket() {
  return {401, "invalid_request_error", "invalid_ticket",
          "The chat page's ticket is invalid or expired; reload the page."};
}

http::api_error invalid_resume() {
  return {401, "invalid_request_error", "invalid_resume",
          "The conversation cannot be resumed; start a new one."};
}

void require_allowed(const store::site_key& key, const std::string& origin,
                     const http::request& req) {
  if (std::ranges::find(key.allowed_origins, origin) != key.allowed_origins.end()) return;
  obs::info("widget_session_refused", {{"request_id", req.identity.request_id},
                                       {"tenant_id", key.tenant_id},
                                       {"reason", "origin_not_allowed"},
                                       {"origin", origin}});
  throw origin_not_allowed();
}

// The frame's form: its ticket says which key was asked for from which origin; the
// key and the origin must still be good.
asio::awaitable<grant> grant_of_ticket(store::database& db, const settings& s,
                                       const std::string& text, const http::request& req) {
  const auto ticket = read_ticket(*s.signer->ring(), text, base::unix_seconds());
  if (!ticket) throw invalid_ticket();
  auto lookup = [id = ticket->key_id](store::transaction& tx) {
    return store::find_site_key_by_id(tx, id);
  };
  const auto key = co_await db.async_platform(std::move(lookup));
  if (!key || key->tenant_id != ticket->base.tenant_id) throw invalid_site_key();
  require_allowed(*key, ticket->base.origin, req);
  co_return grant{key->tenant_id, key->key_id, ticket->base.origin, ticket->agent, key->plan};
}

// A tenant's own page: its site key and the browser's Origin.
asio::awaitable<grant> grant_of_site_key(store::database& db, const session_body& body,
                                         const http::request& req) {
  const auto key = co_await resolve_site_key(db, req.header(site_key_header));
  const std::string origin(req.header("Origin").value_or(""));
  require_allowed(key, origin, req);
  co_return grant{key.tenant_id, key.key_id, origin, body.agent, key.plan};
}

struct opened_session {
  store::agent agent;
  std::string session_id;
  bool resumed = false;
};

// The resumed session when `resume` is a good credential for this grant and its
// session is live; otherwise a new session.
std::optional<opened_session> open_or_resume(store::transaction& tx, const grant& g,
                                             const std::optional<resume_claims>& resume) {
  if (resume && resume->base.tenant_id == g.tenant_id && resume->base.origin == g.origin &&
      (!g.agent || *g.agent == resume->agent) &&
      store::widget_session_status(tx, g.tenant_id, resume->session_id).state ==
          store::widget_session_state::live) {
    if (auto agent = widget_agent(tx, resume->agent))
      return opened_session{std::move(*agent), resume->session_id, true};
  }
  auto agent = widget_agent(tx, g.agent);
  if (!agent) return std::nullopt;
  auto id = store::create_widget_session(tx, g.tenant_id, agent->id, g.key_id);
  return opened_session{std::move(*agent), std::move(id), false};
}

std::optional<resume_claims> read_resume_field(const settings& s, const session_body& body) {
  if (!body.resume) return std::nullopt;
  return read_resume(*s.signer->ring(), *body.resume, base::unix_seconds());
}

// A renewal: the resume credential alone continues its live session. The tenant's
// plan comes with the session's check, in the transaction the renewal runs anyway.
asio::awaitable<std::pair<grant, opened_session>> renew(store::database& db, const settings& s,
                                                        const session_body& body) {
  const auto resume = read_resume_field(s, body);
  if (!resume) throw invalid_resume();
  grant g{resume->base.tenant_id, {}, resume->base.origin, resume->agent, {}};
  auto load = [tenant = g.tenant_id, resume = *resume](store::transaction& tx) {
    auto plan = require_live_session(tx, tenant, resume.session_id);
    auto agent = widget_agent(tx, resume.agent);
    if (!agent) throw no_agent();
    return std::pair{opened_session{std::move(*agent), resume.session_id, true}, std::move(plan)};
  };
  auto loaded = co_await db.async_tenant(g.tenant_id, std::move(load));
  g.plan = std::move(loaded.second);
  co_return std::pair{std::move(g), std::move(loaded.first)};
}

json session_answer(const settings& s, const config::ring_key& signing, const grant& g,
                    const opened_session& opened) {
  const auto now = base::unix_seconds();
  const token_claims claims{s.issuer, g.tenant_id, opened.session_id, opened.agent.code,
                            g.origin, now,         s.token_ttl_s,     g.plan};
  const resume_claims resume{
      {s.issuer, g.tenant_id, g.origin, now, s.resume_ttl_s}, opened.session_id, opened.agent.code};
  const json agent = {{"code", opened.agent.code},
                      {"name", opened.agent.name},
                      {"greeting", opened.agent.greeting ? json(*opened.agent.greeting) : json()}};
  return {{"token", mint_token(signing, claims)},
          {"expires_at", now + s.token_ttl_s},
          {"session_id", opened.session_id},
          {"agent", agent},
          {"resume", mint_resume(signing, resume)},
          {"resume_expires_at", now + s.resume_ttl_s},
          {"resumed", opened.resumed}};
}

asio::awaitable<void> create_session(store::database& db, const settings& s, http::request& req,
                                     http::responder& res) {
  const auto signing = s.signer->current();
  if (!signing) {
    throw http::api_error::unavailable("widget_disabled",
                                       "The widget is not configured on this server.");
  }
  const auto body = parse_session_body(req);
  std::optional<std::pair<grant, opened_session>> result;
  if (!body.ticket && !req.header(site_key_header) && body.resume) {
    result = co_await renew(db, s, body);
  } else {
    // (No co_await inside ?: : g++ 12 miscompiles it.)
    grant g;
    if (body.ticket) {
      g = co_await grant_of_ticket(db, s, *body.ticket, req);
    } else {
      g = co_await grant_of_site_key(db, body, req);
    }
    auto open = [g, resume = read_resume_field(s, body)](store::transaction& tx) {
      return open_or_resume(tx, g, resume);
    };
    auto opened = co_await db.async_tenant(g.tenant_id, std::move(open));
    if (!opened) throw no_agent();
    result.emplace(g, std::move(*opened));
  }
  const auto& [g, opened] = *result;
  auto answer = http::response::json(session_answer(s, *signing, g, opened));
  answer.headers.push_back({"Cache-Control", "no-store"});
  obs::info("widget_session", {{"request_id", req.identity.request_id},
                               {"tenant_id", g.tenant_id},
                               {"key_id", g.key_id},
                               {"session_id", opened.session_id},
                               {"agent", opened.agent.code},
                               {"origin", g.origin},
                               {"resumed", opened.resumed},
                               {"kid", signing->kid}});
  co_await res.send(std::move(answer));
}

// ?origin= names the page that embeds the frame: one of the tenant's origins, which
// becomes the page's only frame ancestor and is bound into its ticket.
std::optional<std::string> frame_origin(const http::request& req, const store::site_key& key) {
  const auto origin = req.query_param("origin");
  if (!origin) return std::nullopt;
  std::string o(*origin);
  require_allowed(key, o, req);
  return o;
}

std::optional<std::string> frame_agent(const http::request& req) {
  const auto agent = req.query_param("agent");
  if (!agent) return std::nullopt;
  if (!store::is_valid_agent_code(std::string(*agent)))
    throw http::api_error::bad_request("invalid_field", "'agent' must be an agent code.");
  return std::string(*agent);
}

asio::awaitable<void> frame(store::database& db, const settings& s, http::request& req,
                            http::responder& res) {
  const auto key = co_await resolve_site_key(db, req.query_param("site_key"));
  const auto origin = frame_origin(req, key);
  const auto agent_code = frame_agent(req);
  auto load = [agent_code](store::transaction& tx) { return widget_agent(tx, agent_code); };
  const auto agent = co_await db.async_tenant(key.tenant_id, std::move(load));
  if (!agent && agent_code) throw no_agent();
  frame_content content{agent ? agent->name : "Chat", agent ? agent->greeting.value_or("") : "",
                        ""};
  const auto signing = s.signer->current();
  if (origin && signing) {
    const ticket_claims ticket{
        {s.issuer, key.tenant_id, *origin, base::unix_seconds(), ticket_ttl_s},
        key.key_id,
        agent_code};
    content.ticket = mint_ticket(*signing, ticket);
  }
  const auto nonce = make_nonce();
  http::response page;
  page.content_type = "text/html; charset=utf-8";
  page.body = render_frame(nonce, content);
  const auto ancestors = origin ? std::vector<std::string>{*origin} : key.allowed_origins;
  page.headers.push_back({"Content-Security-Policy", frame_csp(nonce, ancestors)});
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
  return {cfg.issuer, cfg.token_ttl_s, cfg.resume_ttl_s, std::move(signer)};
}

void add_widget_routes(http::router& routes, store::database& db, settings s) {
  routes.add("POST", "/widget/v1/session", {edge::principal_kind::edge},
             [&db, s](http::request& req, http::responder& res) {
               return create_session(db, s, req, res);
             });
  routes.add("GET", "/widget/v1/frame", {edge::principal_kind::edge},
             [&db, s](http::request& req, http::responder& res) { return frame(db, s, req, res); });
  routes.add("GET", "/widget/v1/history", {edge::principal_kind::widget},
             [&db](http::request& req, http::responder& res) { return history(db, req, res); });
}

}  // namespace parley::widget
