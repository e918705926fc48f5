#pragma once

// This engine's widget answer streams (widget/live_stream.hpp), by the stream key of
// their stream ids. A session has at most one answer generating at a time. A
// finished stream stays for a while so that a reconnect racing its end still gets
// the last events, then it is forgotten.
//
// The streams live in this process's memory: with several engines, a reconnect must
// reach the engine that generates the answer (README, "Several engines").

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "widget/live_stream.hpp"

namespace parley::widget {

class stream_hub {
 public:
  struct settings {
    live_stream::settings stream;
    std::chrono::seconds retain{60};  // a finished stream kept for late reconnects
  };

  explicit stream_hub(settings s) : settings_(s) {}

  // A new stream under `key` for the session, its grace timer on `ex`; nullptr
  // while the session's previous answer is still generating.
  std::shared_ptr<live_stream> open(const std::string& key, boost::asio::any_io_executor ex,
                                    const std::string& tenant_id, const std::string& session_id);

  // The stream `key`, if this engine has it.
  std::shared_ptr<live_stream> find(const std::string& key) const;

  // The answer of stream `key` ended: the session may ask again, and the stream
  // goes after the retention time (a timer on `ex`).
  void finish(const std::string& key, const boost::asio::any_io_executor& ex);

  std::size_t size() const;

 private:
  settings settings_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<live_stream>, std::less<>> streams_;
  std::set<std::string, std::less<>> generating_sessions_;  // "tenant/session"
};

}  // namespace parley::widget
