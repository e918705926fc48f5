#pragma once

// While a response is prepared or streamed the peer (nginx) sends nothing: the socket
// turning readable with nothing to read means it closed the connection, i.e. the
// client went away. Bytes of a pipelined request that arrive meanwhile are kept for
// the parser of the next one. The wait has no timeout: it lasts as long as the
// handler works or the stream is open.

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <memory>

#include "http/event.hpp"

namespace parley::http {

class connection;

class peer_watch {
 public:
  explicit peer_watch(connection& conn);
  // A watch still reading (an exception skipped stop()) closes the connection under
  // it, so that the read ends without touching its owner.
  ~peer_watch();
  peer_watch(const peer_watch&) = delete;
  peer_watch& operator=(const peer_watch&) = delete;

  // Starts reading; `closed` runs on the connection's strand if the peer closes first.
  void start(std::function<void()> closed);

  // Cancels the read and waits until it has ended. Idempotent.
  boost::asio::awaitable<void> stop();

 private:
  // Shared with the reading coroutine, which may end after the watch.
  struct state {
    explicit state(const boost::asio::any_io_executor& ex) : done(ex) {}
    bool running = false;
    bool stopping = false;
    bool abandoned = false;
    event done;
  };

  static boost::asio::awaitable<void> run(connection& conn, std::shared_ptr<state> s,
                                          std::function<void()> closed);

  connection& conn_;
  std::shared_ptr<state> state_;
};

}  // namespace parley::http
