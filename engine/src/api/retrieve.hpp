#pragma once

// POST /v1/retrieve {"query", "model", "top_k"}: the passages a question to that
// agent would be grounded in, without calling a model: each with its fused score
// and the vector and lexical ranks behind it, so a developer can see why a passage
// was (or was not) found.

#include "chat/pipeline.hpp"
#include "http/router.hpp"

namespace parley::api {

void add_retrieve_route(http::router& routes, chat::pipeline& pipeline);

}  // namespace parley::api
