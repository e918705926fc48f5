#include "http/peer_watch.hpp"

#include <sys/socket.h>

#include <cerrno>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "http/connection.hpp"

namespace parley::http {
namespace {

// What a socket that turned readable holds. Nothing: the readiness was stale when it
// was seen (the bytes it announced were read with the request).
enum class peer_sent { nothing, bytes, close };

peer_sent peek(int fd) noexcept {
  char byte = 0;
  const auto n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n > 0) return peer_sent::bytes;
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    return peer_sent::nothing;
  }
  return peer_sent::close;  // the end of the stream, or a broken connection
}

}  // namespace

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
  auto& socket = conn.stream().socket();
  boost::system::error_code ec;
  auto sent = peer_sent::nothing;
  // stop() may have come before this coroutine first ran: then there is no wait to
  // cancel, and one started now would wait for a peer that says nothing.
  while (!s->stopping && sent == peer_sent::nothing) {
    // A wait, not a read: a stream holds no read buffer for bytes that almost never
    // come. It has no deadline; a write outstanding meanwhile keeps its own.
    co_await socket.async_wait(asio::socket_base::wait_read,
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    sent = peek(socket.native_handle());
  }
  if (s->abandoned) co_return;
  if (sent == peer_sent::bytes) {
    // A pipelined request: kept for the next parser.
    auto& buffer = conn.buffer();
    buffer.commit(socket.read_some(buffer.prepare(512), ec));
  } else if (sent == peer_sent::close ||
             (ec && !(s->stopping && ec == asio::error::operation_aborted))) {
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
