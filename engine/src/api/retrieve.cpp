#include "api/retrieve.hpp"

#include "http/api_error.hpp"
#include "store/agent_repo.hpp"
#include "store/text_guard.hpp"

namespace parley::api {

namespace asio = boost::asio;

namespace {

using http::api_error;
using nlohmann::json;

constexpr std::size_t max_query_bytes = 16 * 1024;

struct retrieve_request {
  std::string query;
  std::string model;
  std::optional<std::size_t> top_k;
};

retrieve_request parse(const http::request& req) {
  const auto body = http::parse_json_body(req);
  for (const auto& [key, value] : body.items()) {
    if (key != "query" && key != "model" && key != "top_k") {
      throw api_error::bad_request("unknown_field", "Unknown field '" + key + "'.");
    }
  }
  retrieve_request r;
  const auto query = body.find("query");
  if (query == body.end() || !query->is_string() || query->get_ref<const std::string&>().empty()) {
    throw api_error::bad_request("invalid_value", "'query' must be a non-empty string.");
  }
  r.query = query->get<std::string>();
  if (r.query.size() > max_query_bytes || store::has_nul(r.query)) {
    throw api_error::bad_request("invalid_value",
                                 "'query' must be at most 16 KiB of text without NUL.");
  }
  const auto model = body.find("model");
  if (model == body.end() || !model->is_string()) {
    throw api_error::bad_request("invalid_value", "'model' must be an agent code.");
  }
  r.model = model->get<std::string>();
  if (const auto k = body.find("top_k"); k != body.end() && !k->is_null()) {
    if (!k->is_number_integer() || k->get<std::int64_t>() < 1 ||
        k->get<std::int64_t>() > static_cast<std::int64_t>(store::max_agent_top_k)) {
      throw api_error::bad_request("invalid_value", "'top_k' must be a whole number 1 to 50.");
    }
    r.top_k = k->get<std::size_t>();
  }
  return r;
}

json rank_json(std::size_t rank) { return rank == 0 ? json(nullptr) : json(rank); }

json passage_json(const rag::retrieved_passage& p, std::size_t rank) {
  return {{"object", "retrieval.chunk"},
          {"rank", rank},
          {"chunk_id", p.chunk_id},
          {"document_id", p.document_id},
          {"title", p.title},
          {"source_uri", p.source_uri},
          {"section", p.heading},
          {"page", p.page == 0 ? json(nullptr) : json(p.page)},
          {"chunk", p.ordinal},
          {"content", p.content},
          {"score", p.score},
          {"vector_rank", rank_json(p.vector_rank)},
          {"lexical_rank", rank_json(p.lexical_rank)},
          {"cosine", p.cosine},
          {"bm25", p.bm25}};
}

}  // namespace

void add_retrieve_route(http::router& routes, chat::pipeline& pipeline) {
  routes.add("POST", "/v1/retrieve", {edge::principal_kind::key},
             [&pipeline](http::request& req, http::responder& res) -> asio::awaitable<void> {
               auto r = parse(req);
               std::vector<rag::retrieved_passage> passages;
               try {
                 passages = co_await pipeline.retrieve(req.identity.tenant_id, r.model,
                                                       std::move(r.query), r.top_k);
               } catch (const chat::turn_error& e) {
                 if (e.why() == chat::turn_error::reason::embedding_failed) {
                   throw api_error::embedding_failed(e.what());
                 }
                 throw api_error::model_not_found(r.model);
               }
               json data = json::array();
               for (std::size_t i = 0; i < passages.size(); ++i) {
                 data.push_back(passage_json(passages[i], i + 1));
               }
               auto answer =
                   http::response::json({{"object", "list"}, {"model", r.model}, {"data", data}});
               co_await res.send(std::move(answer));
             });
}

}  // namespace parley::api
