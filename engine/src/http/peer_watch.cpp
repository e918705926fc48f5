#include "http/peer_watch.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "http/connection.hpp"

namespace parley::http {

peer_watch::peer_watch(connection& conn)
    : conn_(conn), state_(std::make_shared<state>(conn.stream().get_executor())) {}

peer_watch::~peer_watch() {
  if (!state_->running) return;
  state_->abandoned = true;
  conn_.stream().close();
}

void peer_watch::start(std::function<void()> closed) {
  if (state_->running) return;
  state_->running = true;
  state_->stopping = false;
  asio::co_spawn(conn_.stream().get_executor(), run(conn_, state_, std::move(closed)),
                 asio::detached);
}

asio::awaitable<void> peer_watch::run(connection& conn, std::shared_ptr<state> s,
                                      std::function<void()> closed) {
  auto& buffer = conn.buffer();
  boost::system::error_code ec;
  std::size_t n = 0;
  // stop() may have come before this coroutine first ran: then there is no read to
  // cancel, and one started now would wait for a peer that says nothing.
  if (!s->stopping) {
    // No deadline for this read; a write outstanding meanwhile keeps its own.
    conn.stream().expires_never();
    n = co_await conn.stream().async_read_some(buffer.prepare(512),
                                               asio::redirect_error(asio::use_awaitable, ec));
  } else {
    ec = asio::error::operation_aborted;
  }
  if (s->abandoned) co_return;
  if (n > 0) {
    buffer.commit(n);
  } else if (!(s->stopping && ec == asio::error::operation_aborted)) {
    closed();
  }
  s->running = false;
  s->done.notify();
}

asio::awaitable<void> peer_watch::stop() {
  if (!state_->running) co_return;
  state_->stopping = true;
  boost::system::error_code ec;
  conn_.stream().socket().cancel(ec);
  while (state_->running) co_await state_->done.wait();
}

}  // namespace parley::http
