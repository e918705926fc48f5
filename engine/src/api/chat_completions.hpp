#pragma once

// POST /v1/chat/completions: the OpenAI front end of the generation pipeline. It
// parses the request at the door (api/chat_request), hands the pipeline a plain
// turn, and writes the pipeline's events in OpenAI's wire format: one
// chat.completion object, or chat.completion.chunk SSE frames ending in
// data: [DONE]. The tenant comes only from the verified edge identity.

#include <chrono>

#include "chat/pipeline.hpp"
#include "http/router.hpp"

namespace parley::api {

// `pipeline` must outlive the routes. SSE streams send a ": ping" comment after
// `heartbeat` without a frame.
void add_chat_completions_route(http::router& routes, chat::pipeline& pipeline,
                                std::chrono::milliseconds heartbeat);

}  // namespace parley::api
