#include "http/sse_writer.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include <array>
#include <string_view>

#include "http/connection.hpp"
#include "http/peer_watch.hpp"

namespace parley::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using clock = std::chrono::steady_clock;

constexpr std::string_view crlf = "\r\n";
constexpr std::string_view last_chunk = "0\r\n\r\n";

// The header as the bytes Beast would write for it.
std::string header_bytes(bhttp::response<bhttp::empty_body>& head) {
  bhttp::response_serializer<bhttp::empty_body> serializer{head};
  serializer.split(true);
  std::string out;
  boost::system::error_code ec;
  while (!ec && !serializer.is_header_done()) {
    serializer.next(ec, [&](boost::system::error_code&, const auto& buffers) {
      out += beast::buffers_to_string(buffers);
      serializer.consume(asio::buffer_size(buffers));
    });
  }
  if (ec) throw boost::system::system_error(ec);
  return out;
}

}  // namespace

sse_writer_impl::sse_writer_impl(connection& conn, peer_watch& watch,
                                 std::chrono::milliseconds heartbeat)
    : conn_(conn),
      open_(conn.stats().streams_open),
      heartbeat_(heartbeat),
      progress_(conn.stream().get_executor()),
      heartbeat_timer_(conn.stream().get_executor()),
      watch_(watch) {}

void sse_writer_impl::start(unsigned version, bool keep_alive,
                            const std::vector<header_field>& headers) {
  chunked_ = version >= 11;
  bhttp::response<bhttp::empty_body> head{bhttp::status::ok, version};
  head.set(bhttp::field::content_type, "text/event-stream");
  head.set(bhttp::field::cache_control, "no-cache");
  head.set("X-Accel-Buffering", "no");
  for (const auto& h : headers) {
    if (!beast::iequals(h.name, "Connection")) head.set(h.name, h.value);
  }
  head.keep_alive(keep_alive);
  if (chunked_) head.chunked(true);
  head_ = header_bytes(head);
  kick();
  if (heartbeat_.count() > 0) {
    heartbeat_running_ = true;
    arm_heartbeat();
  }
  watch_.start([this] { mark_gone(); });
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
  if (pending_.empty()) {
    pending_ = std::move(frame);
  } else {
    pending_ += frame;
  }
  kick();
  while (pending_.size() > conn_.cfg().sse_queue_bytes && !gone_) co_await progress_.wait();
  co_return !gone_;
}

void sse_writer_impl::kick() {
  if (writing_ || gone_) return;
  writing_ = true;
  asio::post(conn_.stream().get_executor(), [this] { write_batch(); });
}

bool sse_writer_impl::has_unsent() const noexcept {
  return !head_.empty() || !pending_.empty() || (end_wanted_ && !end_sent_);
}

void sse_writer_impl::write_batch() {
  if (gone_ || !has_unsent()) {
    writing_ = false;
    progress_.notify();
    return;
  }
  batch_.swap(pending_);  // on_written gave the last batch back: pending_ starts empty
  // One gather write of whichever parts there are; the chunk framing (size line,
  // data, CRLF; "0" CRLF CRLF at the end) is spelled out because Beast's chunk
  // buffers have a different type for each combination.
  const bool chunk = chunked_ && !batch_.empty();
  if (chunk) chunk_line_ = fmt::format("{:x}\r\n", batch_.size());
  const bool end = end_wanted_ && !end_sent_;
  const std::array<asio::const_buffer, 5> buffers{
      asio::buffer(head_), asio::buffer(chunk ? std::string_view(chunk_line_) : ""),
      asio::buffer(batch_), asio::buffer(chunk ? crlf : ""), asio::buffer(end ? last_chunk : "")};
  if (end) end_sent_ = true;
  conn_.arm_write_timeout();
  asio::async_write(conn_.stream(), buffers,
                    [this](const boost::system::error_code& ec, std::size_t) { on_written(ec); });
}

void sse_writer_impl::on_written(const boost::system::error_code& ec) {
  // Sent: the memory goes back now, not when the stream ends, which may be minutes
  // of waiting for the next token away.
  std::string().swap(head_);
  std::string().swap(batch_);
  last_write_ = clock::now();
  if (ec) mark_gone();
  progress_.notify();
  write_batch();  // frames queued meanwhile, or the end
}

// SPEC 3.6: a comment line while the stream is idle keeps proxies from timing out and
// finds dead clients before the first token arrives. A timer's handler, not a
// coroutine: it waits for as long as the stream lasts, and a spawned coroutine would
// hold two frames for it.
void sse_writer_impl::arm_heartbeat() {
  // While a write is under way the next ping is a whole interval away: a due time
  // already past would fire again and again until the write ends.
  heartbeat_timer_.expires_at((writing_ ? clock::now() : last_write_) + heartbeat_);
  heartbeat_timer_.async_wait([this](const boost::system::error_code&) { on_heartbeat_due(); });
}

void sse_writer_impl::on_heartbeat_due() {
  if (finished_ || gone_) {
    heartbeat_running_ = false;
    progress_.notify();
    return;
  }
  // Nothing is queued unless a write is under way, so the ping needs no backpressure.
  if (!writing_ && clock::now() - last_write_ >= heartbeat_) {
    pending_ += ": ping\n\n";
    kick();
  }
  arm_heartbeat();
}

asio::awaitable<void> sse_writer_impl::finish() {
  if (finished_) co_return;
  // The handler is done: nobody is left to notify.
  gone_callbacks_.clear();
  finished_ = true;
  heartbeat_timer_.cancel();
  end_wanted_ = chunked_;
  kick();
  while (writing_) co_await progress_.wait();
  co_await watch_.stop();
  while (heartbeat_running_) co_await progress_.wait();
}

}  // namespace parley::http
