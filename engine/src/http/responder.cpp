#include "http/responder.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>

#include <stdexcept>

#include "http/connection.hpp"

namespace parley::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

bool is_connection_close(const header_field& h) {
  return beast::iequals(h.name, "Connection") && beast::iequals(h.value, "close");
}

}  // namespace

void responder_impl::on_client_gone(std::function<void()> fn) {
  if (responded()) return;
  watch_.start([this, fn = std::move(fn)] {
    keep_alive_ = false;
    conn_.note_peer_closed();
    // Posted, not called: a callback that cancels upstream work must not run inside
    // the handler that noticed the disconnect.
    asio::post(conn_.stream().get_executor(), fn);
  });
}

asio::awaitable<void> responder_impl::send(response r) {
  if (responded()) throw std::logic_error("a response was already sent for this request");
  co_await watch_.stop();
  status_ = r.status;
  bhttp::response<bhttp::string_body> msg{static_cast<bhttp::status>(r.status), version_};
  if (!r.content_type.empty()) msg.set(bhttp::field::content_type, r.content_type);
  const auto& request_id = req_.identity.request_id;
  if (!request_id.empty()) msg.set("X-Request-Id", request_id);
  for (const auto& h : r.headers) {
    if (is_connection_close(h))
      keep_alive_ = false;
    else
      msg.set(h.name, h.value);
  }
  msg.body() = std::move(r.body);
  msg.keep_alive(keep_alive_);
  msg.prepare_payload();
  boost::system::error_code ec;
  conn_.arm_write_timeout();
  co_await bhttp::async_write(conn_.stream(), msg, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) keep_alive_ = false;
}

asio::awaitable<std::reference_wrapper<sse_writer>> responder_impl::start_sse(sse_options options) {
  if (responded()) throw std::logic_error("a response was already sent for this request");
  co_await watch_.stop();
  status_ = 200;
  for (const auto& h : options.headers) {
    if (is_connection_close(h)) keep_alive_ = false;
  }
  const auto& request_id = req_.identity.request_id;
  if (!request_id.empty()) options.headers.push_back({"X-Request-Id", request_id});
  sse_ = std::make_unique<sse_writer_impl>(conn_, watch_, options.heartbeat);
  // HTTP/1.0 has no chunked encoding: the stream then ends by closing the connection.
  if (version_ < 11) keep_alive_ = false;
  sse_->start(version_, keep_alive_, options.headers);
  co_return std::ref(static_cast<sse_writer&>(*sse_));
}

}  // namespace parley::http
