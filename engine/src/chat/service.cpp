#include "chat/service.hpp"

#include <boost/asio/this_coro.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <stdexcept>

#include "chat/openai_format.hpp"
#include "chat/prompt.hpp"
#include "http/api_error.hpp"
#include "llm/curl_multi.hpp"
#include "llm/extractive_provider.hpp"
#include "llm/openai_provider.hpp"
#include "obs/log.hpp"
#include "store/agent_repo.hpp"
#include "store/chat_repo.hpp"
#include "store/db.hpp"
#include "store/knowledge_repo.hpp"

namespace parley::chat {

namespace {

using clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr std::string_view session_header = "X-Parley-Session-Id";
constexpr std::size_t max_top_k = 50;

// Per-agent overrides from agents.model_settings / retrieval_settings (JSON set by
// operators); values of the wrong type or out of range are ignored.
struct agent_settings {
  std::optional<std::string> model;
  std::optional<double> temperature;
  std::optional<std::int64_t> max_tokens;
  rag::retrieval_options retrieval;
};

agent_settings read_agent_settings(const store::agent& a,
                                   const config::retrieval_config& defaults) {
  agent_settings s;
  s.retrieval.top_k = defaults.top_k;
  s.retrieval.min_score = defaults.min_score;
  const auto m = json::parse(a.model_settings, nullptr, false);
  if (m.is_object()) {
    if (const auto v = m.find("model");
        v != m.end() && v->is_string() && !v->get<std::string>().empty()) {
      s.model = v->get<std::string>();
    }
    if (const auto v = m.find("temperature"); v != m.end() && v->is_number()) {
      if (const auto t = v->get<double>(); t >= 0 && t <= 2) s.temperature = t;
    }
    if (const auto v = m.find("max_tokens"); v != m.end() && v->is_number_integer()) {
      if (const auto n = v->get<std::int64_t>(); n >= 1) s.max_tokens = n;
    }
  }
  const auto r = json::parse(a.retrieval_settings, nullptr, false);
  if (r.is_object()) {
    if (const auto v = r.find("top_k"); v != r.end() && v->is_number_integer()) {
      if (const auto k = v->get<std::int64_t>();
          k >= 1 && k <= static_cast<std::int64_t>(max_top_k)) {
        s.retrieval.top_k = static_cast<std::size_t>(k);
      }
    }
    if (const auto v = r.find("min_score"); v != r.end() && v->is_number()) {
      if (const auto x = v->get<double>(); x >= -1 && x <= 1) s.retrieval.min_score = x;
    }
  }
  return s;
}

llm::role to_llm_role(message_role r) {
  switch (r) {
    case message_role::system:
      return llm::role::system;
    case message_role::assistant:
      return llm::role::assistant;
    case message_role::user:
      return llm::role::user;
  }
  return llm::role::user;
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t ms_since(clock::time_point from) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - from).count();
}

}  // namespace

struct service::prepared {
  store::agent agent;
  agent_settings settings;
  std::string session_id;
  std::vector<store::stored_message> history;  // before this request, oldest first
  std::vector<rag::retrieved_passage> passages;
};

// One LLM call: the request, and what the response and persistence need.
struct service::call {
  std::string request_id;
  std::string tenant_id;
  std::string session_id;
  completion_meta meta;
  std::string model;
  bool stream = false;
  std::vector<citation> citations;
  std::vector<llm::message> prompt;
  llm::generation_request request;  // moved into the provider when the call starts
};

// What one generation produced, filled in as its events arrive.
struct service::outcome {
  std::string content;
  std::string status = "ok";  // ok | error | cancelled
  std::optional<std::string> error;
  std::string finish_reason = "stop";
  llm::usage usage;
  bool usage_estimated = false;
  std::optional<std::int64_t> ttft_ms;
  std::int64_t latency_ms = 0;
  clock::time_point started = clock::now();

  void add(const llm::token_event& t) {
    if (!ttft_ms) ttft_ms = ms_since(started);
    content += t.text;
  }

  // The generation's last event; usage the provider did not report is estimated.
  void conclude(const llm::event& e, const std::vector<llm::message>& prompt) {
    if (const auto* done = std::get_if<llm::done_event>(&e)) {
      finish_reason = done->finish_reason;
      if (done->usage) usage = *done->usage;
      usage_estimated = !done->usage;
    } else {
      const auto& failure = std::get<llm::error_event>(e);
      status = "error";
      error = failure.message;
      usage_estimated = failure.reached_provider;  // else nothing was spent: zero usage
    }
    if (usage_estimated) usage = estimate(prompt);
    latency_ms = ms_since(started);
  }

  // The client went away before the end.
  void cancel(const std::vector<llm::message>& prompt) {
    status = "cancelled";
    error.reset();
    usage = estimate(prompt);
    usage_estimated = true;
    latency_ms = ms_since(started);
  }

  llm::usage estimate(const std::vector<llm::message>& prompt) const {
    return {llm::estimate_prompt_tokens(prompt), llm::estimate_tokens(content)};
  }
};

service::service(asio::io_context& io, store::database& db, const config::config& cfg,
                 const config::secrets& secrets)
    : db_(db),
      cfg_(cfg),
      indexes_(rag::configured_embedder(cfg.retrieval.embedder, cfg.retrieval.dimensions),
               std::size_t{cfg.retrieval.index_cache_mb} << 20) {
  if (cfg.llm.provider == "openai") {
    multi_ = std::make_unique<llm::curl_multi>(io);
    provider_ = std::make_unique<llm::openai_provider>(
        *multi_, llm::openai_settings{cfg.llm.base_url, secrets.llm_api_key,
                                      std::chrono::milliseconds(cfg.llm.connect_timeout_ms),
                                      std::chrono::milliseconds(cfg.llm.first_token_timeout_ms),
                                      std::chrono::milliseconds(cfg.llm.idle_timeout_ms),
                                      cfg.llm.ca_file});
    default_model_ = cfg.llm.model;
  } else if (cfg.llm.provider == "extractive") {
    provider_ = std::make_unique<llm::extractive_provider>();
    default_model_ = "extractive";
  } else {
    throw std::invalid_argument("unknown llm.provider '" + cfg.llm.provider + "'");
  }
}

service::~service() = default;

void service::add_routes(http::router& routes) {
  routes.add("POST", "/v1/chat/completions", {edge::principal_kind::key},
             [this](http::request& req, http::responder& res) { return complete(req, res); });
}

service::prepared service::prepare(store::transaction& tx, const std::string& tenant_id,
                                   const chat_request& req) {
  auto agent = store::find_agent(tx, req.model);
  if (!agent || !agent->is_enabled) throw http::api_error::model_not_found(req.model);
  prepared p{*agent, read_agent_settings(*agent, cfg_.retrieval), {}, {}, {}};

  if (req.session_id) {
    const auto s = store::find_session(tx, *req.session_id);  // RLS: this tenant's only
    if (!s || s->agent_id != agent->id) {
      throw http::api_error::not_found("session_not_found", "No session '" + *req.session_id +
                                                                "' for model '" + req.model + "'.");
    }
    p.session_id = s->id;
    p.history = store::recent_messages(tx, p.session_id, static_cast<int>(history_window));
  } else {
    p.session_id = store::create_session(tx, tenant_id, agent->id, "api", req.user);
  }

  // One indexed read per query keeps every engine process on the current knowledge.
  const auto version = store::knowledge_version(tx, tenant_id);
  const auto index = indexes_.get(tenant_id, version, [&tx, &tenant_id, version] {
    auto corpus = store::load_corpus(tx);
    obs::info("index_load", {{"tenant_id", tenant_id},
                             {"knowledge_version", version},
                             {"chunks", corpus.chunks.size()}});
    return corpus;
  });
  const auto& question = req.messages.back().content;
  p.passages = index->search(agent->id, question, p.settings.retrieval);

  store::insert_message(tx, tenant_id, p.session_id, "user", question, "{}");
  if (p.passages.empty()) {
    // Nothing relevant: the agent's refusal is the answer, and no LLM is called.
    store::insert_message(tx, tenant_id, p.session_id, "assistant", agent->refusal_text,
                          obs::dump({{"citations", json::array()}, {"refusal", true}}));
  }
  store::touch_session(tx, p.session_id);
  return p;
}

asio::awaitable<void> service::complete(http::request& req, http::responder& res) {
  const auto creq = parse_chat_request(http::parse_json_body(req));
  const std::string tenant_id = req.identity.tenant_id;  // only from the verified context
  auto run = [this, tenant_id, creq](store::transaction& tx) {
    return prepare(tx, tenant_id, creq);
  };
  const auto p = co_await db_.async_tenant(tenant_id, std::move(run));
  if (p.passages.empty()) {
    co_await answer_refusal(req, res, creq, p);
  } else {
    co_await answer_generated(req, res, creq, p);
  }
}

asio::awaitable<void> service::answer_refusal(http::request& req, http::responder& res,
                                              const chat_request& creq, const prepared& p) {
  const completion_meta meta{new_completion_id(), unix_now(), creq.model, creq.include_usage};
  const std::string& text = p.agent.refusal_text;
  obs::info("chat_completion", {{"request_id", req.identity.request_id},
                                {"tenant_id", req.identity.tenant_id},
                                {"session_id", p.session_id},
                                {"agent", creq.model},
                                {"status", "refused"},
                                {"stream", creq.stream},
                                {"passages", 0}});
  if (!creq.stream) {
    auto response = http::response::json(completion_object(meta, text, "stop", {}, {}));
    response.headers.push_back({std::string(session_header), p.session_id});
    co_await res.send(std::move(response));
    co_return;
  }
  http::sse_options options;
  options.heartbeat = std::chrono::milliseconds(cfg_.llm.heartbeat_ms);
  options.headers.push_back({std::string(session_header), p.session_id});
  auto& writer = (co_await res.start_sse(std::move(options))).get();
  std::vector<std::string> frames{sse_data(role_chunk(meta)), sse_data(content_chunk(meta, text)),
                                  sse_data(final_chunk(meta, "stop", {}))};
  if (creq.include_usage) frames.push_back(sse_data(usage_chunk(meta, {})));
  frames.emplace_back(sse_done);
  for (auto& frame : frames) {
    if (!co_await writer.write(std::move(frame))) break;
  }
  co_await writer.finish();
}

service::call service::make_call(const http::request& req, const chat_request& creq,
                                 const prepared& p) const {
  prompt_input in;
  in.persona = p.agent.persona_prompt.value_or("");
  in.agent_name = p.agent.name;
  in.passages = p.passages;
  for (const auto& m : p.history) {
    in.history.push_back(
        {m.role == "assistant" ? llm::role::assistant : llm::role::user, m.content});
  }
  // The client's own earlier messages follow the stored ones; its system messages
  // become instructions placed under the persona, never above the grounding rules.
  for (std::size_t i = 0; i + 1 < creq.messages.size(); ++i) {
    const auto& m = creq.messages[i];
    if (m.role == message_role::system) {
      in.instructions.push_back(m.content);
    } else {
      in.history.push_back({to_llm_role(m.role), m.content});
    }
  }
  in.question = creq.messages.back().content;

  call c;
  c.request_id = req.identity.request_id;
  c.tenant_id = req.identity.tenant_id;
  c.session_id = p.session_id;
  c.meta = {new_completion_id(), unix_now(), creq.model, creq.include_usage};
  c.model = multi_ ? p.settings.model.value_or(default_model_) : default_model_;
  c.stream = creq.stream;
  c.citations = citations_for(p.passages);
  c.prompt = build_prompt(in);

  c.request.messages = c.prompt;
  c.request.model = c.model;
  c.request.temperature = creq.temperature ? creq.temperature : p.settings.temperature;
  c.request.max_tokens = creq.max_tokens ? creq.max_tokens : p.settings.max_tokens;
  c.request.question = in.question;
  for (const auto& passage : p.passages)
    c.request.sources.push_back({passage.title, passage.content});
  return c;
}

asio::awaitable<void> service::answer_generated(http::request& req, http::responder& res,
                                                const chat_request& creq, const prepared& p) {
  auto c = make_call(req, creq, p);
  if (obs::prompts_enabled()) {
    json messages = json::array();
    for (const auto& m : c.prompt)
      messages.push_back({{"role", llm::to_string(m.role)}, {"content", m.content}});
    obs::info("chat_prompt",
              {{"request_id", c.request_id}, {"tenant_id", c.tenant_id}, {"messages", messages}});
  }
  outcome o;
  const std::shared_ptr<llm::generation> gen =
      provider_->start(std::move(c.request), co_await asio::this_coro::executor);
  if (c.stream) {
    co_await stream_answer(res, c, gen, o);
  } else {
    co_await whole_answer(res, c, gen, o);
  }
}

asio::awaitable<void> service::whole_answer(http::responder& res, const call& c,
                                            std::shared_ptr<llm::generation> generation,
                                            outcome& o) {
  auto& gen = *generation;
  // Nobody pays for tokens nobody reads: a client that hangs up before the whole
  // answer is ready cancels the call. The callback may run after this returns, hence
  // the shared flag and the weak reference.
  const auto client_gone = std::make_shared<bool>(false);
  res.on_client_gone([client_gone, weak = std::weak_ptr<llm::generation>(generation)] {
    *client_gone = true;
    if (const auto g = weak.lock()) g->cancel();
  });
  const auto wait = std::chrono::milliseconds(cfg_.llm.heartbeat_ms);
  for (;;) {
    const auto e = co_await gen.next(wait);
    if (!e) continue;
    if (const auto* t = std::get_if<llm::token_event>(&*e)) {
      o.add(*t);
      continue;
    }
    // An answer that was complete when the client left keeps its real usage.
    if (*client_gone && std::holds_alternative<llm::error_event>(*e)) {
      o.cancel(c.prompt);
    } else {
      o.conclude(*e, c.prompt);
    }
    break;
  }
  co_await persist(c, o);
  if (o.status == "cancelled") throw http::api_error::client_closed();
  if (o.status != "ok") throw http::api_error::upstream(*o.error);
  auto response = http::response::json(
      completion_object(c.meta, o.content, o.finish_reason, o.usage, c.citations));
  response.headers.push_back({std::string(session_header), c.session_id});
  co_await res.send(std::move(response));
}

asio::awaitable<void> service::stream_answer(http::responder& res, const call& c,
                                             std::shared_ptr<llm::generation> generation,
                                             outcome& o) {
  auto& gen = *generation;
  const auto heartbeat = std::chrono::milliseconds(cfg_.llm.heartbeat_ms);
  // Headers go out with the first event, or after one heartbeat interval with none:
  // an upstream that fails at once still gets a plain HTTP 502.
  auto pending = co_await gen.next(heartbeat);
  if (pending && std::holds_alternative<llm::error_event>(*pending)) {
    o.conclude(*pending, c.prompt);
    co_await persist(c, o);
    throw http::api_error::upstream(*o.error);
  }
  http::sse_options options;
  options.heartbeat = heartbeat;
  options.headers.push_back({std::string(session_header), c.session_id});
  auto& writer = (co_await res.start_sse(std::move(options))).get();
  // Nobody pays for tokens nobody reads. The writer may outlive the generation,
  // hence the weak reference.
  writer.on_client_gone([weak = std::weak_ptr<llm::generation>(generation)] {
    if (const auto g = weak.lock()) g->cancel();
  });

  bool client_ok = true;
  if (!pending) client_ok = co_await writer.write(": ping\n\n");
  if (client_ok) client_ok = co_await writer.write(sse_data(role_chunk(c.meta)));
  bool ended = false;
  while (client_ok && !ended) {
    if (!pending) pending = co_await gen.next(heartbeat);
    if (!pending) continue;  // the writer sends the heartbeat comments
    const auto e = std::move(*pending);
    pending.reset();
    if (const auto* t = std::get_if<llm::token_event>(&e)) {
      o.add(*t);
      client_ok = co_await writer.write(sse_data(content_chunk(c.meta, t->text)));
      continue;
    }
    o.conclude(e, c.prompt);
    ended = true;
  }
  if (!ended || writer.client_gone()) {
    gen.cancel();
    o.cancel(c.prompt);
  }

  try {
    co_await persist(c, o);
  } catch (const std::exception& e) {
    obs::error("chat_persist_failed", {{"request_id", c.request_id}, {"error", e.what()}});
    if (o.status == "ok") {
      // The answer could not be stored: say so instead of acknowledging it.
      o.status = "error";
      o.error = "the answer could not be stored";
    }
  }
  if (o.status == "ok") {
    std::vector<std::string> frames{sse_data(final_chunk(c.meta, o.finish_reason, c.citations))};
    if (c.meta.include_usage) frames.push_back(sse_data(usage_chunk(c.meta, o.usage)));
    frames.emplace_back(sse_done);
    for (auto& frame : frames) {
      if (!co_await writer.write(std::move(frame))) break;
    }
  } else if (o.status == "error") {
    // What OpenAI sends when a stream fails: a data frame with an error object, no [DONE].
    co_await writer.write(sse_data(stream_error(*o.error)));
  }
  co_await writer.finish();
}

asio::awaitable<void> service::persist(const call& c, const outcome& o) {
  const auto& tenant_id = c.tenant_id;
  std::optional<double> unit_prompt;
  std::optional<double> unit_completion;
  std::optional<double> cost;
  if (const auto price = cfg_.llm.prices.find(c.model); price != cfg_.llm.prices.end()) {
    unit_prompt = price->second.prompt_per_1k;
    unit_completion = price->second.completion_per_1k;
    cost = (static_cast<double>(o.usage.prompt_tokens) * price->second.prompt_per_1k +
            static_cast<double>(o.usage.completion_tokens) * price->second.completion_per_1k) /
           1000.0;
  }
  store::llm_request_row row{c.session_id,
                             std::nullopt,
                             std::string(provider_->name()),
                             c.model,
                             o.usage.prompt_tokens,
                             o.usage.completion_tokens,
                             o.usage_estimated,
                             unit_prompt,
                             unit_completion,
                             cost,
                             o.latency_ms,
                             o.ttft_ms,
                             o.status,
                             o.error};
  std::string metadata;
  if (!o.content.empty()) {
    metadata = obs::dump({{"citations", citations_json(c.citations)},
                          {"status", o.status},
                          {"finish_reason", o.finish_reason}});
  }
  auto store_call = [tenant_id, row, content = o.content, metadata,
                     session = c.session_id](store::transaction& tx) mutable {
    // A partial answer (error, cancel) is kept too: it is what the user saw.
    if (!content.empty()) {
      row.message_id =
          store::insert_message(tx, tenant_id, session, "assistant", content, metadata);
    }
    store::insert_llm_request(tx, tenant_id, row);
    store::touch_session(tx, session);
  };
  co_await db_.async_tenant(tenant_id, std::move(store_call));
  obs::info("chat_completion", {{"request_id", c.request_id},
                                {"tenant_id", tenant_id},
                                {"session_id", c.session_id},
                                {"agent", c.meta.model},
                                {"provider", provider_->name()},
                                {"model", c.model},
                                {"status", o.status},
                                {"stream", c.stream},
                                {"passages", c.citations.size()},
                                {"prompt_tokens", o.usage.prompt_tokens},
                                {"completion_tokens", o.usage.completion_tokens},
                                {"usage_estimated", o.usage_estimated},
                                {"ttft_ms", o.ttft_ms ? json(*o.ttft_ms) : json()},
                                {"latency_ms", o.latency_ms}});
}

}  // namespace parley::chat
