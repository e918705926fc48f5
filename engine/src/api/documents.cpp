#include "api/documents.hpp"

#include <charconv>

#include "api/document_request.hpp"
#include "edge/identity.hpp"
#include "http/api_error.hpp"
#include "store/agent_repo.hpp"
#include "store/db.hpp"
#include "store/document_repo.hpp"

namespace parley::api {

namespace asio = boost::asio;

namespace {

using http::api_error;
using nlohmann::json;

constexpr int max_page = 100;

json document_json(const store::document_row& d, std::chrono::seconds processing_timeout) {
  // A document whose processing was lost with its engine reads as failed.
  const bool lost = knowledge::processing_lost(d, processing_timeout);
  const std::string status = lost ? "failed" : d.status;
  json j = {{"id", d.id},
            {"object", "document"},
            {"title", d.title},
            {"source_uri", d.source_uri},
            {"mime_type", d.mime_type},
            {"bytes", d.byte_size},
            {"sha256", d.content_sha256},
            {"status", status},
            {"chunk_count", status == "ready" ? json(d.chunk_count) : json(nullptr)},
            {"agents", d.agents},
            {"created_at", d.created_unix}};
  if (lost) {
    j["error"] = "Processing was interrupted (the engine stopped). Upload the document again.";
  } else if (d.error) {
    j["error"] = *d.error;
  }
  return j;
}

api_error to_api_error(const knowledge::upload_error& e) {
  using kind = knowledge::upload_error::kind;
  switch (e.what_kind()) {
    case kind::unsupported: return {415, "invalid_request_error", e.code(), e.what()};
    case kind::too_large: return {413, "invalid_request_error", e.code(), e.what()};
    case kind::agent_not_found: return api_error::not_found(e.code(), e.what());
    case kind::busy: return api_error::unavailable(e.code(), e.what());
    case kind::invalid: break;
  }
  return api_error::bad_request(e.code(), e.what());
}

std::string document_id_param(const http::request& req) {
  auto id = req.params.at("id");
  if (!edge::is_lower_uuid(id)) {
    throw api_error::not_found("document_not_found", "No document '" + id + "'.");
  }
  return id;
}

api_error document_not_found(const std::string& id) {
  return api_error::not_found("document_not_found", "No document '" + id + "'.");
}

store::agent require_agent(store::transaction& tx, const std::string& code) {
  auto a = store::find_agent(tx, code);
  if (!a) throw api_error::not_found("agent_not_found", "No agent '" + code + "'.");
  return *a;
}

store::document_filter list_filter(const http::request& req) {
  store::document_filter f;
  if (const auto limit = req.query_param("limit")) {
    int n = 0;
    const auto [end, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), n);
    if (ec != std::errc() || end != limit->data() + limit->size() || n < 1 || n > max_page) {
      throw api_error::bad_request("invalid_value", "'limit' must be a whole number 1 to 100.");
    }
    f.limit = n;
  }
  if (const auto after = req.query_param("after")) {
    if (!edge::is_lower_uuid(*after)) {
      throw api_error::bad_request("invalid_value", "'after' must be a document id.");
    }
    f.after_id = std::string(*after);
  }
  if (const auto status = req.query_param("status")) {
    if (*status != "processing" && *status != "ready" && *status != "failed") {
      throw api_error::bad_request("invalid_value",
                                   "'status' must be processing, ready or failed.");
    }
    f.status = std::string(*status);
  }
  return f;
}

asio::awaitable<void> upload(store::database&, knowledge::document_service& documents,
                             http::request& req, http::responder& res) {
  const std::string content_type(req.header("Content-Type").value_or(""));
  auto read = [content_type, body = std::move(req.body)] {
    return read_document_upload(content_type, body);
  };
  req.release_payload();
  knowledge::registration r;
  try {
    r = co_await documents.submit(req.identity.tenant_id, std::move(read));
  } catch (const knowledge::upload_error& e) {
    throw to_api_error(e);
  }
  auto body = document_json(r.document, documents.settings().processing_timeout);
  body["duplicate"] = r.duplicate;
  auto answer = http::response::json(r.duplicate ? 200 : 202, body);
  co_await res.send(std::move(answer));
}

asio::awaitable<void> list(store::database& db, knowledge::document_service& documents,
                           http::request& req, http::responder& res) {
  auto filter = list_filter(req);
  const auto agent = req.query_param("agent");
  auto load = [filter, agent = std::string(agent.value_or(""))](store::transaction& tx) mutable {
    if (!agent.empty()) filter.agent_id = require_agent(tx, agent).id;
    return store::list_documents(tx, filter);
  };
  const auto page = co_await db.async_tenant(req.identity.tenant_id, std::move(load));
  json data = json::array();
  for (const auto& d : page.documents) {
    data.push_back(document_json(d, documents.settings().processing_timeout));
  }
  json body = {
      {"object", "list"},
      {"data", data},
      {"has_more", page.has_more},
      {"first_id", page.documents.empty() ? json(nullptr) : json(page.documents.front().id)},
      {"last_id", page.documents.empty() ? json(nullptr) : json(page.documents.back().id)}};
  auto answer = http::response::json(body);
  co_await res.send(std::move(answer));
}

asio::awaitable<void> fetch(store::database& db, knowledge::document_service& documents,
                            http::request& req, http::responder& res) {
  const auto id = document_id_param(req);
  auto load = [id](store::transaction& tx) { return store::find_document(tx, id); };
  const auto found = co_await db.async_tenant(req.identity.tenant_id, std::move(load));
  if (!found) throw document_not_found(id);
  auto answer =
      http::response::json(document_json(*found, documents.settings().processing_timeout));
  co_await res.send(std::move(answer));
}

asio::awaitable<void> erase(store::database& db, chat::pipeline& pipeline, http::request& req,
                            http::responder& res) {
  const auto id = document_id_param(req);
  auto erase = [id](store::transaction& tx) { return store::delete_document(tx, id); };
  const auto was = co_await db.async_tenant(req.identity.tenant_id, std::move(erase));
  if (!was) throw document_not_found(id);
  pipeline.tenant_changed(req.identity.tenant_id);
  auto answer = http::response::json({{"id", id}, {"object", "document"}, {"deleted", true}});
  co_await res.send(std::move(answer));
}

// PUT (enable) or DELETE (disable) an agent's use of a document.
asio::awaitable<void> assignment(store::database& db, chat::pipeline& pipeline, bool enable,
                                 http::request& req, http::responder& res) {
  const auto id = document_id_param(req);
  const std::string code = req.params.at("code");
  const std::string tenant = req.identity.tenant_id;
  auto change = [id, code, tenant, enable](store::transaction& tx) {
    const auto agent = require_agent(tx, code);
    if (!store::find_document(tx, id)) throw document_not_found(id);
    return enable ? store::assign_document(tx, tenant, agent.id, id)
                  : store::unassign_document(tx, agent.id, id);
  };
  const bool changed = co_await db.async_tenant(tenant, std::move(change));
  if (changed) pipeline.tenant_changed(tenant);
  auto answer = http::response::json({{"object", "agent.document"},
                                      {"agent", code},
                                      {"document_id", id},
                                      {"enabled", enable},
                                      {"changed", changed}});
  co_await res.send(std::move(answer));
}

}  // namespace

void add_document_routes(http::router& routes, store::database& db,
                         knowledge::document_service& documents, chat::pipeline& pipeline) {
  using handler_fn = asio::awaitable<void> (*)(store::database&, knowledge::document_service&,
                                               http::request&, http::responder&);
  const auto bind = [&db, &documents](handler_fn fn) {
    return [&db, &documents, fn](http::request& req, http::responder& res) {
      return fn(db, documents, req, res);
    };
  };
  const auto key = {edge::principal_kind::key};
  routes.add("POST", "/v1/documents", key, bind(upload));
  routes.add("GET", "/v1/documents", key, bind(list));
  routes.add("GET", "/v1/documents/{id}", key, bind(fetch));
  routes.add("DELETE", "/v1/documents/{id}", key,
             [&db, &pipeline](http::request& req, http::responder& res) {
               return erase(db, pipeline, req, res);
             });
  routes.add("PUT", "/v1/agents/{code}/documents/{id}", key,
             [&db, &pipeline](http::request& req, http::responder& res) {
               return assignment(db, pipeline, true, req, res);
             });
  routes.add("DELETE", "/v1/agents/{code}/documents/{id}", key,
             [&db, &pipeline](http::request& req, http::responder& res) {
               return assignment(db, pipeline, false, req, res);
             });
}

}  // namespace parley::api
