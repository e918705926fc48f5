#pragma once

// While a response is prepared or streamed the peer (nginx) sends nothing: the socket
// turning readable at its end means it closed the connection, i.e. the client went
// away. Bytes of a pipelined request that arrive meanwhile are kept for the parser of
// the next one; readiness with nothing to read (stale) is waited out. The wait has no
// timeout: it lasts as long as the handler works or the stream is open.

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <functional>
#include <memory>

#include "http/event.hpp"

namespace parley::http {

class connection;

class peer_watch {
 public:
  explicit peer_watch(connection& conn);
  // A watch still waiting (an exception skipped stop()) closes the connection under
  // it, so that the wait ends without touching its owner.
  ~peer_watch();
  peer_watch(const peer_watch&) = delete;
  peer_watch& operator=(const peer_watch&) = delete;

  // Starts waiting; `closed` runs on the connection's strand if the peer closes first.
  void start(std::function<void()> closed);

  // Cancels the wait and waits until it has ended. Idempotent.
  boost::asio::awaitable<void> stop();

 private:
  // Shared with the wait's completion handler, which may run after the watch is gone.
  // A handler, not a coroutine: a stream waits this way for its whole life, and a
  // spawned coroutine would hold two frames for it.
  struct state {
    explicit state(const boost::asio::any_io_executor& ex) : done(ex) {}
    bool running = false;
    bool stopping = false;
    bool abandoned = false;
    std::function<void()> closed;
    event done;
  };

  // What a socket that turned readable holds. Nothing: the readiness was stale when
  // it was seen (the bytes it announced were read with the request).
  enum class peer_sent { nothing, bytes, close };
  static peer_sent peek(int fd) noexcept;

  static void wait(connection& conn, std::shared_ptr<state> s);
  static void end(connection& conn, state& s, peer_sent sent, const boost::system::error_code& ec);

  connection& conn_;
  std::shared_ptr<state> state_;
};

}  // namespace parley::http
