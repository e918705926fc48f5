#include "api/models.hpp"

#include "http/api_error.hpp"
#include "store/agent_repo.hpp"
#include "store/db.hpp"
#include "store/tenant_repo.hpp"

namespace parley::api {

namespace asio = boost::asio;
namespace {

struct listing {
  std::string owner;
  std::vector<store::agent> agents;
};

nlohmann::json model_object(const store::agent& a, const std::string& owner) {
  return {{"id", a.code}, {"object", "model"}, {"created", a.created_unix}, {"owned_by", owner}};
}

// The tenant row is platform data, readable inside the tenant transaction.
std::string owner_of(store::transaction& tx, const std::string& tenant_id) {
  const auto t = store::find_tenant_by_id(tx, tenant_id);
  return t ? t->slug : "parley";
}

}  // namespace

void add_models_routes(http::router& routes, store::database& db) {
  routes.add("GET", "/v1/models", {edge::principal_kind::key},
             [&db](http::request& req, http::responder& res) -> asio::awaitable<void> {
               const std::string tenant = req.identity.tenant_id;
               auto load = [tenant](store::transaction& tx) {
                 return listing{owner_of(tx, tenant), store::list_agents(tx, true)};
               };
               const auto found = co_await db.async_tenant(tenant, std::move(load));
               nlohmann::json data = nlohmann::json::array();
               for (const auto& a : found.agents) data.push_back(model_object(a, found.owner));
               // Built before co_await: g++ 12 rejects braced lists inside co_await expressions.
               auto list = http::response::json({{"object", "list"}, {"data", data}});
               co_await res.send(std::move(list));
             });

  routes.add("GET", "/v1/models/{model}", {edge::principal_kind::key},
             [&db](http::request& req, http::responder& res) -> asio::awaitable<void> {
               const std::string tenant = req.identity.tenant_id;
               const std::string code = req.params.at("model");
               auto load = [tenant, code](store::transaction& tx) {
                 listing l{owner_of(tx, tenant), {}};
                 if (auto a = store::find_agent(tx, code); a && a->is_enabled)
                   l.agents.push_back(*a);
                 return l;
               };
               const auto found = co_await db.async_tenant(tenant, std::move(load));
               if (found.agents.empty()) throw http::api_error::model_not_found(code);
               auto model = http::response::json(model_object(found.agents.front(), found.owner));
               co_await res.send(std::move(model));
             });
}

}  // namespace parley::api
