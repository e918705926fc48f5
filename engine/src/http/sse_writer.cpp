#include "http/sse_writer.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>

#include "http/connection.hpp"

namespace parley::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using clock = std::chrono::steady_clock;
using asio::use_awaitable;

}  // namespace

sse_writer_impl::sse_writer_impl(connection& conn, sse_options options)
    : conn_(conn),
      open_(conn.stats().streams_open),
      options_(std::move(options)),
      progress_(conn.stream().get_executor()),
      heartbeat_done_(conn.stream().get_executor()),
      heartbeat_timer_(conn.stream().get_executor()),
      watch_(conn) {}

asio::awaitable<bool> sse_writer_impl::start(unsigned version, bool keep_alive) {
  chunked_ = version >= 11;
  bhttp::response<bhttp::empty_body> head{bhttp::status::ok, version};
  head.set(bhttp::field::content_type, "text/event-stream");
  head.set(bhttp::field::cache_control, "no-cache");
  head.set("X-Accel-Buffering", "no");
  for (const auto& h : options_.headers) {
    if (!beast::iequals(h.name, "Connection")) head.set(h.name, h.value);
  }
  head.keep_alive(keep_alive);
  if (chunked_) head.chunked(true);
  bhttp::response_serializer<bhttp::empty_body> serializer{head};
  boost::system::error_code ec;
  conn_.arm_write_timeout();
  co_await bhttp::async_write_header(conn_.stream(), serializer,
                                     asio::redirect_error(use_awaitable, ec));
  if (ec) {
    mark_gone();
    co_return false;
  }
  last_write_ = clock::now();
  if (options_.heartbeat.count() > 0) {
    heartbeat_running_ = true;
    asio::co_spawn(conn_.stream().get_executor(), heartbeat(), asio::detached);
  }
  watch_.start([this] { mark_gone(); });
  co_return true;
}

void sse_writer_impl::mark_gone() {
  if (gone_) return;
  gone_ = true;
  conn_.note_peer_closed();
  // Posted, not called: a callback that cancels upstream work must not re-enter the
  // write that noticed the disconnect.
  const auto ex = conn_.stream().get_executor();
  for (auto& fn : gone_callbacks_) asio::post(ex, std::move(fn));
  gone_callbacks_.clear();
  progress_.notify();
}

void sse_writer_impl::on_client_gone(std::function<void()> fn) {
  if (finished_) return;
  if (gone_) {
    asio::post(conn_.stream().get_executor(), std::move(fn));
    return;
  }
  gone_callbacks_.push_back(std::move(fn));
}

asio::awaitable<bool> sse_writer_impl::write(std::string frame) {
  if (gone_ || finished_) co_return false;
  queued_bytes_ += frame.size();
  queue_.push_back(std::move(frame));
  if (!writing_) {
    co_await drain();
  } else {
    while (queued_bytes_ > conn_.cfg().sse_queue_bytes && !gone_) co_await progress_.wait();
  }
  co_return !gone_;
}

// Writes everything queued, batching frames that piled up during the previous write.
asio::awaitable<void> sse_writer_impl::drain() {
  writing_ = true;
  while (!queue_.empty() && !gone_) {
    std::string batch;
    batch.reserve(queued_bytes_);
    for (auto& f : queue_) batch += f;
    queue_.clear();
    queued_bytes_ = 0;
    boost::system::error_code ec;
    conn_.arm_write_timeout();
    if (chunked_) {
      co_await asio::async_write(conn_.stream(), bhttp::make_chunk(asio::buffer(batch)),
                                 asio::redirect_error(use_awaitable, ec));
    } else {
      co_await asio::async_write(conn_.stream(), asio::buffer(batch),
                                 asio::redirect_error(use_awaitable, ec));
    }
    last_write_ = clock::now();
    if (ec) mark_gone();
    progress_.notify();
  }
  writing_ = false;
}

// SPEC 3.6: a comment line while the stream is idle keeps proxies from timing out and
// finds dead clients before the first token arrives.
asio::awaitable<void> sse_writer_impl::heartbeat() {
  while (!finished_ && !gone_) {
    heartbeat_timer_.expires_at(last_write_ + options_.heartbeat);
    boost::system::error_code ec;
    co_await heartbeat_timer_.async_wait(asio::redirect_error(use_awaitable, ec));
    if (finished_ || gone_) break;
    if (!writing_ && clock::now() - last_write_ >= options_.heartbeat) co_await write(": ping\n\n");
  }
  heartbeat_running_ = false;
  heartbeat_done_.notify();
}

asio::awaitable<void> sse_writer_impl::finish() {
  if (finished_) co_return;
  // The handler is done: nobody is left to notify.
  gone_callbacks_.clear();
  while (writing_) co_await progress_.wait();
  if (!queue_.empty() && !gone_) co_await drain();
  finished_ = true;
  heartbeat_timer_.cancel();
  co_await watch_.stop();
  while (heartbeat_running_) co_await heartbeat_done_.wait();
  if (gone_ || !chunked_) co_return;
  boost::system::error_code ec;
  conn_.arm_write_timeout();
  co_await asio::async_write(conn_.stream(), bhttp::make_chunk_last(),
                             asio::redirect_error(use_awaitable, ec));
  if (ec) gone_ = true;
}

}  // namespace parley::http
