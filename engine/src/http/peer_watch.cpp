#include "http/peer_watch.hpp"

#include <sys/socket.h>

#include <cerrno>

#include "http/connection.hpp"

namespace parley::http {

peer_watch::peer_sent peer_watch::peek(int fd) noexcept {
  char byte = 0;
  const auto n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n > 0) return peer_sent::bytes;
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    return peer_sent::nothing;
  }
  return peer_sent::close;  // the end of the stream, or a broken connection
}

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
  state_->closed = std::move(closed);
  wait(conn_, state_);
}

// A wait, not a read: a stream holds no read buffer for bytes that almost never
// come. It has no deadline; a write outstanding meanwhile keeps its own.
void peer_watch::wait(connection& conn, std::shared_ptr<state> s) {
  conn.stream().socket().async_wait(
      asio::socket_base::wait_read,
      [&conn, s = std::move(s)](const boost::system::error_code& ec) mutable {
        if (s->abandoned) return;
        const auto sent = ec ? peer_sent::nothing : peek(conn.stream().socket().native_handle());
        if (!ec && sent == peer_sent::nothing && !s->stopping) {
          wait(conn, std::move(s));
        } else {
          end(conn, *s, sent, ec);
        }
      });
}

void peer_watch::end(connection& conn, state& s, peer_sent sent,
                     const boost::system::error_code& ec) {
  if (sent == peer_sent::bytes) {
    // A pipelined request: kept for the next parser.
    boost::system::error_code read_ec;
    auto& buffer = conn.buffer();
    buffer.commit(conn.stream().socket().read_some(buffer.prepare(512), read_ec));
    if (read_ec) s.closed();
  } else if (sent == peer_sent::close ||
             (ec && !(s.stopping && ec == asio::error::operation_aborted))) {
    s.closed();
  }
  s.closed = nullptr;
  s.running = false;
  s.done.notify();
}

asio::awaitable<void> peer_watch::stop() {
  if (!state_->running) co_return;
  state_->stopping = true;
  boost::system::error_code ec;
  conn_.stream().socket().cancel(ec);
  while (state_->running) co_await state_->done.wait();
}

}  // namespace parley::http
