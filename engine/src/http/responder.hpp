#pragma once

// The responder of http/route.hpp on a connection: one response or one SSE stream per
// request, with the request id of its verified context and the connection's
// keep-alive decision.

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <functional>
#include <memory>

#include "http/peer_watch.hpp"
#include "http/route.hpp"
#include "http/sse_writer.hpp"

namespace parley::http {

class connection;

class responder_impl final : public responder {
 public:
  // `req` must outlive the responder; its identity may be set after construction
  // (routing verifies the context), and responses carry its request id.
  responder_impl(connection& conn, const request& req, unsigned version, bool keep_alive)
      : conn_(conn), req_(req), version_(version), keep_alive_(keep_alive), watch_(conn) {}

  asio::awaitable<void> send(response res) override;
  asio::awaitable<std::reference_wrapper<sse_writer>> start_sse(sse_options options) override;
  void on_client_gone(std::function<void()> fn) override;

  bool responded() const noexcept { return status_ != 0; }
  unsigned status() const noexcept { return status_; }
  bool keep_alive() const noexcept { return keep_alive_; }
  sse_writer_impl* stream() noexcept { return sse_.get(); }

 private:
  connection& conn_;
  const request& req_;
  unsigned version_;
  bool keep_alive_;
  unsigned status_ = 0;
  // While on_client_gone() is pending, then the stream's, if one starts: declared
  // before it, since the stream watches through it until destroyed.
  peer_watch watch_;
  std::unique_ptr<sse_writer_impl> sse_;
};

}  // namespace parley::http
