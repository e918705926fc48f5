#pragma once

// The widget's chat (SPEC 4.1), a second front end of the generation pipeline
// (chat/pipeline.hpp) beside the OpenAI API:
//   POST /widget/v1/messages            widget context; {content} -> 202 {stream_id,
//                                       message_id}; the answer generates at once,
//                                       into a live stream (widget/live_stream.hpp)
//   GET  /widget/v1/streams/{stream_id} widget context (the edge verified the stream
//                                       id as the credential); SSE events token,
//                                       citations, done, error, each with an id;
//                                       Last-Event-ID resumes after that event
//
// The pipeline's events become stream events here, and nowhere else.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "http/router.hpp"
#include "widget/signing_key.hpp"
#include "widget/stream_hub.hpp"

namespace parley::chat {
class pipeline;
}

namespace parley::store {
class database;
}

namespace parley::widget {

struct chat_settings {
  std::string issuer;
  std::int64_t stream_id_ttl_s = 600;  // how long a stream id opens its stream
  std::chrono::milliseconds heartbeat{15000};
  std::shared_ptr<const signing_key> signer;
};

void add_widget_chat_routes(http::router& routes, store::database& db, chat::pipeline& pipeline,
                            stream_hub& hub, chat_settings s);

}  // namespace parley::widget
