#include "chat/pipeline.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

#include <chrono>
#include <stdexcept>
#include <variant>

#include "base/crypto.hpp"
#include "base/clock.hpp"
#include "chat/call_record.hpp"
#include "chat/prompt.hpp"
#include "chat/turn_timing.hpp"
#include "llm/anthropic_provider.hpp"
#include "llm/curl_multi.hpp"
#include "llm/extractive_provider.hpp"
#include "llm/openai_provider.hpp"
#include "obs/log.hpp"
#include "obs/metrics.hpp"
#include "rag/text.hpp"
#include "store/agent_repo.hpp"
#include "store/chat_repo.hpp"
#include "store/db.hpp"
#include "store/knowledge_repo.hpp"
#include "store/knowledge_settings.hpp"
#include "store/spend_repo.hpp"
#include "store/usage_repo.hpp"

namespace parley::chat {

namespace {

llm::role to_llm_role(message_role r) {
  switch (r) {
    case message_role::system: return llm::role::system;
    case message_role::assistant: return llm::role::assistant;
    case message_role::user: return llm::role::user;
  }
  return llm::role::user;
}

// The agent's settings over the embedder's relevance gate over the defaults: a
// cosine that means "related" differs from one model to another.
rag::retrieval_options retrieval_options(const store::agent& a, const std::string& embedder,
                                         const config::retrieval_config& defaults) {
  return {a.overrides.top_k.value_or(defaults.top_k),
          a.overrides.min_score.value_or(config::min_score_for(defaults, embedder)),
          {defaults.fusion.k, defaults.fusion.lexical_weight, defaults.fusion.vector_weight},
          {defaults.bm25.k1, defaults.bm25.b}};
}

// A plain sentence per kind of failure: what the provider said (which can quote
// the operator's key or account) stays in the operator's log.
std::string failure_message(llm::failure_kind kind, const std::string& request_id) {
  std::string text;
  switch (kind) {
    case llm::failure_kind::unreachable:
      text = "The language model provider could not be reached.";
      break;
    case llm::failure_kind::timeout:
      text = "The language model provider did not answer in time.";
      break;
    case llm::failure_kind::refused:
      text = "The language model provider refused the request.";
      break;
    case llm::failure_kind::broken:
    case llm::failure_kind::cancelled:
      text = "The language model provider failed while answering.";
      break;
  }
  return text + " Request id: " + request_id + ".";
}

chat::indexes::corpus_reader corpus_reader(store::database& db, llm::embedders& embedders) {
  return
      [&db, &embedders](const std::string& tenant_id) -> asio::awaitable<indexes::corpus_source> {
        auto read = [tenant_id](store::transaction& tx) {
          return std::make_shared<const std::pair<store::corpus_rows, store::knowledge_settings>>(
              store::read_corpus(tx), store::read_knowledge_settings(tx, tenant_id));
        };
        const auto rows = co_await db.async_tenant(tenant_id, std::move(read));
        co_return [rows, &embedders] {
          const auto name = rows->second.embedder.value_or(embedders.default_name());
          const auto& embedder = embedders.get(name);
          rag::vector_index_options vectors;
          vectors.hnsw = rows->second.hnsw;
          return indexes::indexable{store::decode_corpus(rows->first),
                                    {name, embedder.model(), embedder.dimensions()},
                                    vectors};
        };
      };
}

// What a turn stores besides an LLM's answer: the session when it is new, the
// user's message, and the refusal when that is the answer. The tenant, session and
// agent are the call's, given when it is written: a stream holds the question until
// the answer is stored, and copies of them for as long.
struct question_row {
  std::string id;
  std::string text;
  std::int64_t asked_at_unix_us = 0;
  struct session_start {
    std::string channel;
    std::optional<std::string> external_user;
  };
  std::optional<session_start> new_session;  // the session is created with the question
  struct answer_row {
    std::string id;
    std::string text;
  };
  std::optional<answer_row> refusal;  // the agent's refusal, when it is the answer
};

// The wall-clock time the question arrived, from the turn's steady arrival time.
std::int64_t asked_at_unix_us(const turn_request& req) {
  const auto ago = turn_timing::clock::now() - req.received_at;
  return base::unix_micros() - std::chrono::duration_cast<std::chrono::microseconds>(ago).count();
}

void write_question(store::write_batch& batch, const question_row& q, const std::string& tenant_id,
                    const std::string& session_id, const std::string& agent_id) {
  if (q.new_session) {
    store::create_session(batch, {session_id, tenant_id, agent_id, q.new_session->channel,
                                  q.new_session->external_user});
  }
  store::insert_message(
      batch, {q.id, tenant_id, session_id, "user", q.text, q.asked_at_unix_us, std::nullopt});
  if (q.refusal) {
    store::insert_message(batch, {q.refusal->id, tenant_id, session_id, "assistant",
                                  q.refusal->text, base::unix_micros(),
                                  store::message_metadata{{}, true, std::nullopt, std::nullopt}});
  }
  if (!q.new_session) store::touch_session(batch, session_id);
}

}  // namespace

// What the turn knows before retrieval.
struct pipeline::context {
  store::agent agent;
  std::string session_id;                      // the session continued, or the new one's id
  bool new_session = true;                     // written with the question
  std::vector<store::stored_message> history;  // a continued session's recent messages
  std::int64_t knowledge_version = 0;
  store::budgets budgets;
  const configured_provider* provider = nullptr;  // the agent's, or the default
  std::optional<std::string> api_key;             // the tenant's own credential for it
};

// One LLM call: the request, and what the events, persistence and logs need.
struct pipeline::call {
  explicit call(turn_timing t) : timing(t) {}
  turn_timing timing;
  std::string request_id;
  std::string tenant_id;
  std::string session_id;
  std::string agent_code;
  std::string agent_id;
  const configured_provider* provider = nullptr;
  std::string model;
  std::optional<store::reservation> reservation;  // for tenants with a budget
  std::string answer_id = base::random_uuid();    // the stored answer's message id
  rag::cited_passages cited;
  // Given to the provider when the call starts; not held after, nor inline while the
  // answer streams.
  std::unique_ptr<llm::generation_request> request = std::make_unique<llm::generation_request>();
  question_row question;  // stored with the answer
};

pipeline::pipeline(asio::io_context& io, store::database& db, const config::config& cfg,
                   const config::secrets& secrets, llm::embedders& embedders,
                   const base::sealed_box& credentials)
    : io_(io),
      db_(db),
      cfg_(cfg),
      providers_(io, cfg.llm, secrets),
      embedders_(embedders),
      indexes_(std::size_t{cfg.retrieval.index_cache_mb} << 20, corpus_reader(db, embedders)),
      tenants_(db, tenant_state_capacity, credentials),
      listener_(cfg.database.dsn, "parley_tenant_changed",
                {[this](std::string_view tenant_id) { tenant_changed(std::string(tenant_id)); },
                 [this](bool live) { tenants_.set_live(live); }}) {}

pipeline::~pipeline() = default;

asio::awaitable<void> pipeline::run(std::unique_ptr<turn_request> req, turn_sink& sink) {
  // Preparing is a coroutine of its own so that its frame, with everything retrieval
  // needed, is gone before the answer streams: a long stream holds this frame, the
  // call and the one streaming it. Storing the turn comes in a frame of its own, after.
  auto prepared = prepare(std::move(*req), sink);
  req.reset();
  const auto c = co_await std::move(prepared);
  if (!c) co_return;
  if (obs::prompts_enabled()) log_prompt(*c);
  call_record record(c->request->messages);
  co_await stream_answer(*c, record, sink);
  co_await finish_turn(*c, record, sink);
}

void pipeline::tenant_changed(std::string tenant_id) {
  tenants_.invalidate(tenant_id);
  if (!indexes_.cache().holds(tenant_id)) return;
  asio::co_spawn(io_, reload_index(std::move(tenant_id)), asio::detached);
}

asio::awaitable<void> pipeline::reload_index(std::string tenant_id) {
  try {
    const auto state = co_await tenants_.get(tenant_id);
    co_await indexes_.get(tenant_id, state->knowledge_version);
  } catch (const std::exception& e) {
    // The next question builds it, or reports the failure to its asker.
    obs::warn("index_reload_failed", {{"tenant_id", tenant_id}, {"error", e.what()}});
  }
}

asio::awaitable<std::vector<rag::retrieved_passage>> pipeline::retrieve(
    std::string tenant_id, std::string agent_code, std::string query,
    std::optional<std::size_t> top_k) {
  const auto state = co_await tenants_.get(tenant_id);
  const auto* agent = state->enabled_agent(agent_code);
  if (agent == nullptr) {
    throw turn_error(turn_error::reason::agent_not_found,
                     "The model '" + agent_code + "' does not exist or is not available to you.");
  }
  auto retrieved =
      co_await search(tenant_id, state->knowledge_version, *agent, std::move(query), top_k);
  co_return std::move(retrieved.passages);
}

asio::awaitable<pipeline::found> pipeline::search(const std::string& tenant_id,
                                                  std::int64_t version, const store::agent& agent,
                                                  std::string query,
                                                  std::optional<std::size_t> top_k) {
  std::shared_ptr<const rag::knowledge_index> index;
  llm::embedding_vectors vectors;
  std::optional<std::string> failure;
  try {
    // Building the index names the tenant's embedder, which may be gone from the
    // configuration.
    index = co_await indexes_.get(tenant_id, version);
    // Nothing to find: no call to the embedder (which may be remote, and down).
    if (index->chunk_count() == 0 || rag::terms(query).empty()) co_return found();
    std::vector<std::string> texts{query};
    auto& embedder = embedders_.get(index->space().embedder);
    vectors = co_await embedder.embed(std::move(texts), llm::embedding_purpose::query);
  } catch (const llm::embedding_error& e) {
    // NO FALLBACK: without the query's vector there is no search, not a lexical one.
    obs::warn("query_embedding_failed",
              {{"tenant_id", tenant_id}, {"error", e.what()}, {"detail", e.detail()}});
    failure = e.what();
  }
  if (failure) {
    throw turn_error(turn_error::reason::embedding_failed,
                     "The knowledge base could not be searched: " + *failure + ".");
  }
  auto options = retrieval_options(agent, index->space().embedder, cfg_.retrieval);
  if (top_k) options.top_k = *top_k;
  found out;
  out.passages = co_await indexes_.search(index, agent.id, std::move(query),
                                          std::move(vectors.front()), options);
  out.index = std::move(index);
  co_return out;
}

asio::awaitable<std::unique_ptr<pipeline::call>> pipeline::prepare(turn_request req,
                                                                   turn_sink& sink) {
  turn_timing timing(req.received_at);
  const auto ctx = co_await read_context(req);
  timing.mark(turn_timing::stage::context);
  auto retrieved = co_await search(req.tenant_id, ctx.knowledge_version, ctx.agent,
                                   req.messages.back().content, std::nullopt);
  timing.mark(turn_timing::stage::retrieval);
  obs::metrics::retrieval(static_cast<double>(timing.us(turn_timing::stage::retrieval).value_or(0) -
                                              timing.us(turn_timing::stage::context).value_or(0)) /
                          1e6);

  question_row question{req.question_id ? *req.question_id : base::random_uuid(),
                        req.messages.back().content, asked_at_unix_us(req), std::nullopt,
                        std::nullopt};
  if (ctx.new_session) question.new_session = question_row::session_start{req.channel, req.user};
  if (retrieved.passages.empty()) {
    // Nothing relevant: the agent's refusal is the answer, and no LLM is called.
    question.refusal = question_row::answer_row{base::random_uuid(), ctx.agent.refusal_text};
    store::write_batch batch;
    write_question(batch, question, req.tenant_id, ctx.session_id, ctx.agent.id);
    store::count_uncalled(batch, req.tenant_id, ctx.agent.id, store::uncalled::refusal);
    co_await db_.async_write(req.tenant_id, std::move(batch));
    timing.mark(turn_timing::stage::stored);
    obs::metrics::turn(req.tenant_id, "refused");
    co_await refuse(req, ctx, question.refusal->id, sink);
    co_return nullptr;
  }
  auto c = std::make_unique<call>(make_call(req, ctx, std::move(retrieved), timing));
  c->question = std::move(question);
  if (ctx.budgets.any()) co_await reserve(*c);
  co_return c;
}

asio::awaitable<void> pipeline::reserve(call& c) {
  // The most the call can cost: the prompt as estimated, with a margin since the
  // provider counts its own way, and all it may write, which is sent upstream.
  auto& request = *c.request;
  if (!request.max_tokens) request.max_tokens = cfg_.llm.max_tokens;
  const auto prompt = llm::estimate_prompt_tokens(request.messages) * 5 / 4 + reserve_margin;
  const auto tokens = prompt + *request.max_tokens;
  const auto cost =
      config::priced_cost(cfg_.llm.prices, c.model, prompt, *request.max_tokens).value_or(0);
  store::write_batch admission;
  store::add_admission(admission, c.tenant_id, tokens, cost);
  const auto admitted = co_await db_.async_write_returning(c.tenant_id, std::move(admission));
  if ((c.reservation = store::admitted(admitted, tokens, cost))) co_return;

  store::write_batch refusal;
  store::count_uncalled(refusal, c.tenant_id, c.agent_id, store::uncalled::over_budget);
  store::add_exhausted_budget(refusal, c.tenant_id, tokens, cost);
  const auto which = co_await db_.async_write_returning(c.tenant_id, std::move(refusal));
  obs::metrics::turn(c.tenant_id, "over_budget");
  obs::info("budget_refused",
            {{"request_id", c.request_id}, {"tenant_id", c.tenant_id}, {"tokens", tokens}});
  throw turn_error(turn_error::reason::over_budget,
                   "You exceeded your current quota: this service's " +
                       store::exhausted_budget_of(which) +
                       " budget does not cover this request. Request id: " + c.request_id + ".");
}

void pipeline::choose_provider(const turn_request& req, const tenant_state& state,
                               context& ctx) const {
  const auto name = ctx.agent.overrides.provider.value_or(cfg_.llm.provider);
  ctx.provider = providers_.find(name);
  if (ctx.provider == nullptr) {
    obs::error("agent_provider_unknown",
               {{"tenant_id", req.tenant_id}, {"agent", req.agent_code}, {"provider", name}});
    throw turn_error(turn_error::reason::provider_unavailable,
                     "The model '" + req.agent_code + "' uses the provider '" + name +
                         "', which this service does not offer.");
  }
  if (!ctx.provider->calls_out) return;
  if (const auto own = state.credentials.find(name); own != state.credentials.end()) {
    if (!own->second) {
      obs::error("credential_unusable", {{"tenant_id", req.tenant_id}, {"provider", name}});
      throw turn_error(turn_error::reason::provider_unavailable,
                       "The stored credential for the provider '" + name +
                           "' cannot be decrypted; store it again. No other key is used in its "
                           "place.");
    }
    ctx.api_key = own->second;
  } else if (ctx.provider->needs_key && !ctx.provider->has_operator_key) {
    obs::warn("provider_key_missing", {{"tenant_id", req.tenant_id}, {"provider", name}});
    throw turn_error(turn_error::reason::provider_unavailable,
                     "There is no credential for the provider '" + name + "': store one first.");
  }
}

asio::awaitable<pipeline::context> pipeline::read_context(const turn_request& req) {
  const auto state = co_await tenants_.get(req.tenant_id);
  const auto* agent = state->enabled_agent(req.agent_code);
  if (agent == nullptr) {
    throw turn_error(
        turn_error::reason::agent_not_found,
        "The model '" + req.agent_code + "' does not exist or is not available to you.");
  }
  context ctx{*agent,         {},      true,        {}, state->knowledge_version,
              state->budgets, nullptr, std::nullopt};
  choose_provider(req, *state, ctx);
  if (!req.session_id) {
    ctx.session_id = base::random_uuid();
    co_return ctx;
  }
  auto read = [session_id = *req.session_id, agent_id = agent->id](store::transaction& tx) {
    const auto s = store::find_session(tx, session_id);  // RLS: this tenant's only
    if (!s || s->agent_id != agent_id) return std::optional<std::vector<store::stored_message>>();
    return std::optional(store::recent_messages(tx, s->id, static_cast<int>(history_window)));
  };
  auto history = co_await db_.async_tenant(req.tenant_id, std::move(read));
  if (!history) {
    throw turn_error(turn_error::reason::session_not_found,
                     "No session '" + *req.session_id + "' for model '" + req.agent_code + "'.");
  }
  ctx.session_id = *req.session_id;
  ctx.new_session = false;
  ctx.history = std::move(*history);
  co_return ctx;
}

asio::awaitable<void> pipeline::refuse(const turn_request& req, const context& ctx,
                                       const std::string& answer_id, turn_sink& sink) {
  obs::info("chat_completion", {{"request_id", req.request_id},
                                {"tenant_id", req.tenant_id},
                                {"session_id", ctx.session_id},
                                {"agent", req.agent_code},
                                {"status", "refused"},
                                {"passages", 0}});
  const turn_opened opened{ctx.session_id};
  if (!co_await sink.open(opened)) co_return;
  if (!co_await sink.token(ctx.agent.refusal_text)) co_return;
  const turn_done done{answer_id, "stop", {}, {}};
  co_await sink.done(done);
}

pipeline::call pipeline::make_call(const turn_request& req, const context& ctx, found retrieved,
                                   const turn_timing& timing) const {
  prompt_input in;
  in.persona = ctx.agent.persona_prompt.value_or("");
  in.agent_name = ctx.agent.name;
  for (const auto& m : ctx.history) {
    in.history.push_back(
        {m.role == "assistant" ? llm::role::assistant : llm::role::user, m.content});
  }
  // The client's own earlier messages follow the stored ones; its system messages
  // become instructions placed under the persona, never above the grounding rules.
  for (std::size_t i = 0; i + 1 < req.messages.size(); ++i) {
    const auto& m = req.messages[i];
    if (m.role == message_role::system) {
      in.instructions.push_back(m.content);
    } else {
      in.history.push_back({to_llm_role(m.role), m.content});
    }
  }
  in.question = req.messages.back().content;

  call c(timing);
  c.request_id = req.request_id;
  c.tenant_id = req.tenant_id;
  c.session_id = ctx.session_id;
  c.agent_code = req.agent_code;
  c.agent_id = ctx.agent.id;
  c.provider = ctx.provider;
  c.model = c.provider->calls_out ? ctx.agent.overrides.model.value_or(c.provider->model)
                                  : c.provider->model;
  c.cited = rag::cited_passages(std::move(retrieved.index), retrieved.passages);
  auto& request = *c.request;
  request.question = in.question;
  for (const auto& passage : retrieved.passages)
    request.sources.push_back({passage.title, passage.content});
  in.passages = std::move(retrieved.passages);
  request.messages = build_prompt(in);
  request.model = c.model;
  request.temperature = req.temperature ? req.temperature : ctx.agent.overrides.temperature;
  request.max_tokens = req.max_tokens ? req.max_tokens : ctx.agent.overrides.max_tokens;
  request.api_key = ctx.api_key;
  return c;
}

void pipeline::log_prompt(const call& c) const {
  std::vector<std::string> lines;
  for (const auto& m : c.request->messages)
    lines.push_back(std::string(llm::to_string(m.role)) + ": " + m.content);
  obs::info("chat_prompt",
            {{"request_id", c.request_id}, {"tenant_id", c.tenant_id}, {"messages", lines}});
}

asio::awaitable<void> pipeline::stream_answer(call& c, call_record& record, turn_sink& sink) {
  const auto ex = co_await asio::this_coro::executor;
  const std::shared_ptr<llm::generation> gen =
      c.provider->impl->start(std::move(*std::exchange(c.request, nullptr)), ex);
  c.timing.mark(turn_timing::stage::upstream);
  // The callback may run after this returns: hence the shared flag and weak reference.
  const auto client_left = std::make_shared<bool>(false);
  sink.on_client_gone([client_left, weak = std::weak_ptr<llm::generation>(gen)] {
    *client_left = true;
    if (const auto g = weak.lock()) g->cancel();
  });

  const auto heartbeat = std::chrono::milliseconds(cfg_.llm.heartbeat_ms);
  // The answer opens with the first event, or after one heartbeat interval without
  // any: a provider that fails at once is still a plain error before anything is sent.
  auto pending = co_await gen->next(heartbeat);
  bool client_ok = true;
  if (!(pending && std::holds_alternative<llm::error_event>(*pending))) {
    const turn_opened opened{c.session_id};
    client_ok = co_await sink.open(opened);
    if (client_ok && !pending) client_ok = co_await sink.heartbeat();
  }
  while (client_ok && !record.ended()) {
    if (!pending) pending = co_await gen->next(heartbeat);
    if (!pending) {
      client_ok = co_await sink.heartbeat();
      continue;
    }
    const auto event = std::move(*pending);
    pending.reset();
    if (const auto* t = std::get_if<llm::token_event>(&event)) {
      record.add(*t);
      c.timing.mark(turn_timing::stage::first_token);
      client_ok = co_await sink.token(t->text);
    } else if (*client_left && std::holds_alternative<llm::error_event>(event)) {
      record.cancel();  // an answer complete when the client left keeps its real usage
    } else {
      record.conclude(event);
    }
  }
  if (!record.ended()) {
    gen->cancel();
    record.cancel();
  }
}

asio::awaitable<void> pipeline::finish_turn(call& c, const call_record& record, turn_sink& sink) {
  const auto row = llm_row(c, record);
  auto citations = c.cited.citations();
  const bool stored = co_await persist(c, record, citations, row);
  c.timing.mark(turn_timing::stage::stored);
  log_call(c, record, row);
  if (record.status() == call_status::cancelled) co_return;  // nobody to tell
  if (record.status() == call_status::ok && stored) {
    const turn_done done{c.answer_id, record.finish_reason(), record.usage(), std::move(citations)};
    co_await sink.done(done);
  } else if (record.status() == call_status::ok) {
    // Never acknowledge an answer that is not stored.
    const turn_failure failure{"storage_error",
                               "The answer could not be stored. Request id: " + c.request_id + "."};
    co_await sink.fail(failure);
  } else {
    const turn_failure failure{"upstream_error",
                               failure_message(record.failure()->kind, c.request_id)};
    co_await sink.fail(failure);
  }
}

store::llm_request_row pipeline::llm_row(const call& c, const call_record& record) const {
  std::optional<std::string> error;
  if (record.failure()) error = failure_message(record.failure()->kind, c.request_id);
  auto row = record.row(c.session_id, c.provider->name, c.model, cfg_.llm.prices, error);
  row.agent_id = c.agent_id;
  return row;
}

asio::awaitable<bool> pipeline::persist(const call& c, const call_record& record,
                                        const std::vector<rag::citation>& citations,
                                        store::llm_request_row row) {
  std::optional<store::message_metadata> metadata;
  if (!record.content().empty()) {
    metadata = store::message_metadata{citations, false, std::string(to_string(record.status())),
                                       record.finish_reason()};
  }
  store::write_batch batch;
  write_question(batch, c.question, c.tenant_id, c.session_id, c.agent_id);
  // A partial answer (error, cancel) is kept too: it is what the user saw.
  if (metadata) {
    row.message_id = c.answer_id;
    store::insert_message(batch, {*row.message_id, c.tenant_id, c.session_id, "assistant",
                                  record.content(), base::unix_micros(), std::move(metadata)});
  }
  store::insert_llm_request(batch, c.tenant_id, row);
  // The same transaction keeps the tenant's spend and usage in step with the row.
  const auto cost = row.computed_cost.value_or(0);
  if (c.reservation) {
    store::settle_spend(batch, c.tenant_id, *c.reservation,
                        row.prompt_tokens + row.completion_tokens, cost);
  }
  store::count_call(
      batch, c.tenant_id,
      {c.agent_id, c.model, row.prompt_tokens, row.completion_tokens, cost, row.status});
  try {
    co_await db_.async_write(c.tenant_id, std::move(batch));
    co_return true;
  } catch (const std::exception& e) {
    obs::error("chat_persist_failed", {{"request_id", c.request_id}, {"error", e.what()}});
    co_return false;
  }
}

void pipeline::log_call(const call& c, const call_record& record,
                        const store::llm_request_row& row) const {
  obs::metrics::turn(c.tenant_id, "answered");
  const auto first_token_us = c.timing.us(turn_timing::stage::first_token);
  obs::metrics::call(
      {c.tenant_id, c.provider->name, row.status,
       first_token_us ? std::optional(static_cast<double>(*first_token_us) / 1e6) : std::nullopt,
       static_cast<double>(record.latency_ms()) / 1000, row.prompt_tokens, row.completion_tokens,
       row.computed_cost.value_or(0)});
  if (const auto& failure = record.failure();
      failure && failure->kind != llm::failure_kind::cancelled) {
    obs::metrics::upstream_error(c.provider->name, llm::to_string(failure->kind));
    obs::warn("llm_call_failed", {{"request_id", c.request_id},
                                  {"tenant_id", c.tenant_id},
                                  {"provider", c.provider->name},
                                  {"model", c.model},
                                  {"kind", llm::to_string(failure->kind)},
                                  {"detail", failure->detail}});
  }
  obs::info("chat_completion", {{"request_id", c.request_id},
                                {"tenant_id", c.tenant_id},
                                {"session_id", c.session_id},
                                {"agent", c.agent_code},
                                {"provider", c.provider->name},
                                {"model", c.model},
                                {"status", to_string(record.status())},
                                {"passages", c.cited.size()},
                                {"prompt_tokens", record.usage().prompt_tokens},
                                {"completion_tokens", record.usage().completion_tokens},
                                {"usage_estimated", record.usage_estimated()},
                                {"ttft_ms", record.ttft_ms()},
                                {"latency_ms", record.latency_ms()},
                                {"context_us", c.timing.us(turn_timing::stage::context)},
                                {"retrieval_us", c.timing.us(turn_timing::stage::retrieval)},
                                {"stored_us", c.timing.us(turn_timing::stage::stored)},
                                {"upstream_us", c.timing.us(turn_timing::stage::upstream)},
                                {"first_token_us", c.timing.us(turn_timing::stage::first_token)}});
}

}  // namespace parley::chat
