#pragma once

// GET /v1/models and GET /v1/models/{model}: the tenant's enabled agents in the
// OpenAI list / model shape ({"id": agent code, "object": "model", ...}).

#include "http/router.hpp"

namespace parley::store {
class database;
}

namespace parley::api {

void add_models_routes(http::router& routes, store::database& db);

}  // namespace parley::api
